import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AutoscalerConfig, Decision, ServiceAutoscalerStatus, TimelineEvent } from '../../electron/contract.js';
import { ControlPlane } from '../../electron/control/control-plane.js';
import { DEFAULT_BEHAVIOR, decide, type HpaInput, type PodReading } from '../../electron/control/autoscaler/hpa.js';
import { freePort } from '../../electron/control/runtimes/local/ports.js';
import { postgresDataDir } from '../../electron/control/runtimes/local/postgres.js';
import { eventMarks } from '../../renderer/ui/chart/chart-data.js';
import {
  gaugeValue,
  decisionChange,
  decisionSteps,
  drivingProposal,
  gaugeShape,
  modeLabel,
  proposalRows,
  recentDecisions,
  serviceView,
} from '../../renderer/features/autoscaler/autoscaler-data.js';
import { createAppStore } from '../../renderer/store/app-store.js';
import { configureInputOf, draftChanged, draftOf, MAX_DECISIONS } from '../../renderer/store/autoscaler-slice.js';
import type { Bridge } from '../../renderer/store/types.js';
import { removeTempHome } from '../support/temp-home.js';

// The slice talks to a real control plane in-process, through a bridge that records each command.
let home: string;
let controlPlane: ControlPlane;
const calls: { command: string; payload: unknown }[] = [];
const bridge: Bridge = {
  invoke: (command, payload) => {
    calls.push({ command, payload });
    return controlPlane.handle(command, payload) as never;
  },
  on: (event, listener) => controlPlane.on(event, listener),
};

beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'scalelab-autoscaler-ui-'));
  controlPlane = new ControlPlane({ home });
});
afterAll(async () => {
  await controlPlane.close();
  await rm(postgresDataDir(path.join(home, 'stacks', 'autoscale-ui', 'postgres')), { recursive: true, force: true });
  await removeTempHome(home);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

const pods = (values: (number | null)[], ready = values.map(() => true)): PodReading[] =>
  values.map((rps, i) => ({ id: `api-${i + 1}`, ready: ready[i]!, values: { rps } }));
function decision(overrides: Partial<HpaInput> & { pods: PodReading[] }): Decision {
  return decide({
    now: 1_000_000,
    currentReplicas: overrides.pods.length,
    spec: { minReplicas: 1, maxReplicas: 4, metrics: [{ kind: 'rps', target: 20 }], behavior: DEFAULT_BEHAVIOR, tolerance: 0.1 },
    state: { recommendations: [], scaleEvents: [] },
    ...overrides,
  }).decision;
}

function config(overrides: Partial<AutoscalerConfig> = {}): AutoscalerConfig {
  return {
    service: 'api',
    enabled: true,
    preset: 'demo',
    minReplicas: 1,
    maxReplicas: 4,
    metrics: [{ kind: 'rps', target: 20 }],
    syncPeriodSeconds: 3,
    tolerance: 0.1,
    cpuRequestMillicores: 500,
    behavior: DEFAULT_BEHAVIOR,
    ...overrides,
  };
}

describe('autoscaler form', () => {
  it('follows the applied settings, and starts from the control plane’s defaults when none are', () => {
    expect(draftOf('api', null)).toMatchObject({ preset: 'default', metric: 'cpu', min: 1, max: 10, targets: { cpu: 50 } });
    expect(draftOf('worker', null)).toMatchObject({ metric: 'queue', targets: { queue: 20 } });
    expect(draftOf('api', config({ metrics: [{ kind: 'p95', target: 300 }] }))).toMatchObject({
      preset: 'demo',
      metric: 'p95',
      max: 4,
      targets: { p95: 300, cpu: 50 },
    });
  });

  it('sends every field the first time, then only what changed, keeping metrics the form does not show', () => {
    const draft = { ...draftOf('api', null), preset: 'demo' as const, metric: 'rps' as const, max: 4 };
    draft.targets = { ...draft.targets, rps: 20 };
    expect(configureInputOf('api', draft, null)).toEqual({
      service: 'api',
      enabled: true,
      preset: 'demo',
      minReplicas: 1,
      maxReplicas: 4,
      metrics: { rps: 20 },
    });
    // Two metrics set from the CLI: changing max leaves both.
    const applied = config({
      metrics: [
        { kind: 'rps', target: 20 },
        { kind: 'cpu', target: 70 },
      ],
    });
    const edited = { ...draftOf('api', applied), max: 6 };
    expect(configureInputOf('api', edited, applied)).toEqual({ service: 'api', enabled: true, maxReplicas: 6 });
    expect(draftChanged('api', draftOf('api', applied), applied)).toBe(false);
    // The p95 box is in ms: the contract's field is p95Ms.
    expect(configureInputOf('api', { ...edited, metric: 'p95', targets: { ...edited.targets, p95: 250 } }, applied).metrics).toEqual({
      p95Ms: 250,
    });
  });
});

describe('autoscaler data shapes', () => {
  it('puts the target inside the axis with its tolerance band and says which side the value is on', () => {
    expect(gaugeShape(75, 20, 0.1)).toMatchObject({ axisMax: 100, bandLow: 18, bandHigh: 22, marker: 75, zone: 'above', offScale: false });
    expect(gaugeShape(21, 20, 0.1)).toMatchObject({ axisMax: 50, zone: 'within' });
    expect(gaugeShape(5, 20, 0.1).zone).toBe('below');
    // Far above: the axis stops near 4× the target and the marker pins to its end.
    expect(gaugeShape(1000, 20, 0.1)).toMatchObject({ axisMax: 100, marker: 100, offScale: true });
    expect(gaugeShape(null, 50, 0.1)).toMatchObject({ marker: null, zone: 'none' });
  });

  it('explains a decision step by step: the metric against its target, the ratio, the windows and the cap', () => {
    const d = decision({ pods: pods([75, 75]) });
    expect(decisionChange(d)).toBe('2 → 4');
    expect(proposalRows(d)).toEqual([
      { metric: 'rps', value: '75 rps', target: '20 rps', ratio: '3.75', replicas: '8', readyPods: '2', setAside: 'none', notes: '' },
    ]);
    expect(decisionSteps(d)).toEqual({
      metricReplicas: 8,
      stabilized: 8,
      upWindow: 'empty',
      downWindow: 'empty',
      limited: 4,
      cap: 'max replicas (limit 4)',
      desired: 4,
    });
    expect(d.explanation).toContain('rps');
  });

  it('shows pods set aside and the rebalanced ratio the tolerance was checked against', () => {
    const d = decision({ pods: pods([60, 60, null], [true, true, false]) });
    const [row] = proposalRows(d);
    expect(row!.setAside).toBe('unready: api-3');
    expect(row!.ratio).toBe('3.00 → 2.00');
    // The gauge shows the metric as measured on the ready pods, like the explanation's first figure.
    expect(gaugeValue(drivingProposal(d)!)).toBeCloseTo(60);
  });

  it('compares the queue per worker, not its total', () => {
    const d = decide({
      now: 1,
      currentReplicas: 2,
      pods: [],
      queueDepth: 100,
      spec: { minReplicas: 0, maxReplicas: 10, metrics: [{ kind: 'queue', target: 20 }], behavior: DEFAULT_BEHAVIOR, tolerance: 0.1 },
      state: { recommendations: [], scaleEvents: [] },
    }).decision;
    expect(gaugeValue(drivingProposal(d)!)).toBeCloseTo(50);
    expect(proposalRows(d)[0]).toMatchObject({ value: '100 waiting', target: '20 per worker' });
  });

  it('views a service from its status and the live replica count, newest decisions first', () => {
    const decisions = [decision({ now: 1, pods: pods([75, 75]) }), decision({ now: 2, pods: pods([21, 21]) })];
    const one: ServiceAutoscalerStatus = { config: config(), current: 2, desired: 2, lastSyncAt: 2, decisions };
    expect(serviceView('api', one, 3, 2)).toMatchObject({
      on: true,
      current: 3,
      desired: 2,
      min: 1,
      max: 4,
      metric: 'rps',
      value: 21,
      target: 20,
      tolerance: 0.1,
      targets: '20 rps per replica',
    });
    expect(serviceView('api', null, 3, 2)).toBeNull();
    expect(recentDecisions(one, 1).map((d) => d.t)).toEqual([2]);
    expect(modeLabel('emulated')).toBe('emulated HPA');
  });

  it('lists the latest decision and the changes before it, not every tick between them', () => {
    // Decisions as the autoscaler synced: up 2 → 4, four holds at 4, down 4 → 1, then stays.
    const at = (t: number, currentReplicas: number, desired: number) => ({
      ...decision({ now: t, pods: pods([20, 20]) }),
      t,
      currentReplicas,
      desired,
    });
    const decisions = [at(1, 2, 4), at(2, 4, 4), at(3, 4, 4), at(4, 4, 4), at(5, 4, 4), at(6, 4, 1), at(7, 1, 1), at(8, 1, 1)];
    const one: ServiceAutoscalerStatus = { config: config(), current: 1, desired: 1, lastSyncAt: 8, decisions };
    expect(recentDecisions(one, 4).map((d) => d.t)).toEqual([8, 6, 1]);
    expect(recentDecisions(one, 2).map((d) => d.t)).toEqual([8, 6]);
    expect(recentDecisions(one, 0)).toEqual([]);
  });
});

describe('autoscaler slice, against a real control plane', () => {
  it('loads the status on connect: emulated, nothing on', async () => {
    const app = createAppStore(bridge);
    await app.connect();
    expect(app.store.getState().autoscaler).toEqual({ mode: 'emulated', api: null, worker: null });
    app.disconnect();
  });

  it('keeps a refused configuration as an error to show, sends nothing for an impossible form, and clears busy', async () => {
    const { store } = createAppStore(bridge);
    const ok = await store.getState().configureAutoscaler({ service: 'worker', minReplicas: 5, maxReplicas: 2 });
    expect(ok).toBe(false);
    expect(store.getState().error).toMatchObject({ name: 'AutoscalerConfigError', message: 'minReplicas (5) is above maxReplicas (2)' });
    expect(store.getState().autoscalerBusy).toBeNull();

    store.getState().dismissError();
    store.getState().editAutoscaler('api', { min: 5, max: 2 });
    const sent = calls.length;
    await store.getState().setAutoscalerEnabled('api', true);
    expect(calls.length).toBe(sent);
    expect(store.getState().error?.message).toBe('min (5) is above max (2)');
  });

  it('keeps decisions from the stream once each, bounded, and loads an autoscaler it has not seen', async () => {
    const { store } = createAppStore(bridge);
    const base = decision({ pods: pods([21, 21]) });
    store.setState({
      autoscaler: { mode: 'emulated', api: { config: config(), current: 2, desired: 2, lastSyncAt: null, decisions: [] }, worker: null },
    });
    for (let i = 0; i < MAX_DECISIONS + 5; i += 1) store.getState().addDecision({ service: 'api', decision: { ...base, t: i } });
    store.getState().addDecision({ service: 'api', decision: { ...base, t: MAX_DECISIONS + 4 } });
    const api = store.getState().autoscaler!.api!;
    expect(api.decisions).toHaveLength(MAX_DECISIONS);
    expect(api.decisions.at(-1)!.t).toBe(MAX_DECISIONS + 4);
    expect(api.lastSyncAt).toBe(MAX_DECISIONS + 4);

    const sent = calls.length;
    store.getState().addDecision({ service: 'worker', decision: base });
    expect(calls.slice(sent).map((c) => c.command)).toEqual(['autoscaler:status']);
  });

  it('turns the api autoscaler on from the form, then follows its decisions as the control plane streams them', async () => {
    const app = createAppStore(bridge);
    await app.connect();
    const { store } = app;
    await store.getState().start({ name: 'autoscale-ui', port: await freePort(), replicas: { api: 2, worker: 0 } });
    expect(store.getState().error).toBeNull();
    expect(store.getState().status?.state).toBe('running');
    // A decision needs a fresh sample.
    await until('a sample', () => store.getState().samples.length > 0, 10_000);

    store.getState().editAutoscaler('api', {
      preset: 'demo',
      metric: 'rps',
      max: 4,
      targets: { ...store.getState().autoscalerDrafts.api.targets, rps: 20 },
    });
    expect(store.getState().autoscalerEdited.api).toBe(true);
    await store.getState().setAutoscalerEnabled('api', true);
    expect(store.getState().error).toBeNull();
    expect(calls.filter((c) => c.command === 'autoscaler:configure').at(-1)).toEqual({
      command: 'autoscaler:configure',
      payload: { service: 'api', enabled: true, preset: 'demo', minReplicas: 1, maxReplicas: 4, metrics: { rps: 20 } },
    });
    expect(store.getState().autoscaler?.api?.config).toMatchObject({
      enabled: true,
      preset: 'demo',
      syncPeriodSeconds: 3,
      maxReplicas: 4,
      metrics: [{ kind: 'rps', target: 20 }],
    });
    // The form follows what was applied, and has nothing left to apply.
    expect(store.getState().autoscalerEdited.api).toBe(false);
    expect(draftChanged('api', store.getState().autoscalerDrafts.api, store.getState().autoscaler!.api!.config)).toBe(false);

    // configure syncs at once: the decision arrives through the `decision` stream.
    await until('a decision in the store', () => (store.getState().autoscaler?.api?.decisions.length ?? 0) > 0, 10_000);
    const [latest] = recentDecisions(store.getState().autoscaler!.api, 1);
    expect(latest!.proposals[0]).toMatchObject({ kind: 'rps', target: 20, readyPods: 2 });
    // No traffic: well under 20 rps per replica, the HPA wants fewer.
    expect(latest!.explanation).toMatch(/^rps [\d.]+.* vs target 20\b/);
    const view = serviceView(
      'api',
      store.getState().autoscaler!.api,
      store.getState().samples.at(-1)?.autoscaler?.services[0]?.current,
      2,
    )!;
    expect(view).toMatchObject({ on: true, min: 1, max: 4, metric: 'rps', target: 20 });
    expect(view.value).toBeLessThan(18);
    expect(gaugeShape(view.value, view.target, view.tolerance).zone).toBe('below');
    // The sample carries the gauge once the autoscaler is on.
    await until('a sample with the gauge', () => store.getState().samples.at(-1)?.autoscaler != null, 5_000);
    expect(store.getState().samples.at(-1)!.autoscaler).toMatchObject({
      mode: 'emulated',
      services: [{ service: 'api', min: 1, max: 4, metric: 'rps', target: 20, tolerance: 0.1 }],
    });

    // The change is on the timeline and becomes a chart mark.
    const events: TimelineEvent[] = store.getState().events;
    const configured = events.find((e) => e.kind === 'autoscaler' && e.message.startsWith('autoscaler api: rps 20/replica'));
    expect(configured?.message).toContain('(demo preset)');
    expect(eventMarks(events, 60, Date.now())).toContainEqual(configured);

    await store.getState().setAutoscalerEnabled('api', false);
    expect(store.getState().autoscaler?.api?.config.enabled).toBe(false);
    // Off keeps its settings and decisions for reference.
    expect(store.getState().autoscaler?.api?.decisions.length).toBeGreaterThan(0);
    await store.getState().stop();
    expect(store.getState().status?.state).toBe('stopped');
    app.disconnect();
  }, 120_000);
});
