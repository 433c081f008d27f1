import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Value } from 'typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReportExportSchema, type CommandName, type ScenarioState, type ScenarioStatus, type StepStatus } from '../../electron/contract.js';
import { ControlPlane } from '../../electron/control/control-plane.js';
import {
  clockText,
  formatAssertValue,
  formatClock,
  playerButtons,
  progressFraction,
  stateTone,
  stepView,
  targetText,
  untilText,
} from '../../renderer/features/scenario/scenario-data.js';
import { createAppStore } from '../../renderer/store/app-store.js';
import {
  createScenarioSlice,
  defaultReportWindow,
  MAX_SOURCE_CHARS,
  reportFileNames,
  reportRequest,
} from '../../renderer/store/scenario-slice.js';
import type { AppState, Bridge } from '../../renderer/store/types.js';
import { removeTempHome } from '../support/temp-home.js';

function step(index: number, state: StepStatus['state'] = 'pending', at = index * 10): StepStatus {
  return { index, at, kind: 'note', text: `step ${index}`, state, ...(state === 'failed' ? { error: 'boom' } : {}) };
}

function status(patch: Partial<ScenarioStatus> = {}): ScenarioStatus {
  return {
    state: 'idle',
    id: 'black-friday',
    name: 'Black Friday',
    description: null,
    durationS: 300,
    elapsedS: 0,
    steps: [step(0), step(1), step(2)],
    assertions: [],
    startedAt: null,
    endedAt: null,
    spec: null,
    error: null,
    ...patch,
  };
}

/** A bridge that answers each command from a script and records what it was sent. */
function scripted(answers: Partial<Record<CommandName, unknown>>) {
  const calls: { command: string; payload: unknown }[] = [];
  const bridge: Bridge = {
    invoke: async (command, payload) => {
      calls.push({ command, payload });
      const value = answers[command];
      if (value instanceof Error) return { ok: false, error: { name: value.name, message: value.message } };
      return value === undefined
        ? { ok: false, error: { name: 'ContractError', message: `unscripted ${command}` } }
        : ({ ok: true, value } as never);
    },
    on: () => () => undefined,
  };
  return { bridge, calls };
}

/** The scenario slice alone, with the store's error field, and the files it saved. */
function sliceOn(bridge: Bridge) {
  const saved: { fileName: string; text: string; type: string }[] = [];
  let state = { error: null } as unknown as AppState;
  const set = (partial: Partial<AppState> | ((s: AppState) => Partial<AppState>)) => {
    state = { ...state, ...(typeof partial === 'function' ? partial(state) : partial) };
  };
  Object.assign(
    state,
    createScenarioSlice(bridge, (fileName, text, type) => saved.push({ fileName, text, type }))(set, () => state),
  );
  return { get: () => state, saved };
}

describe('the player’s clock', () => {
  it('writes seconds as m:ss, minutes past 59 included', () => {
    expect(formatClock(0)).toBe('0:00');
    expect(formatClock(4.9)).toBe('0:04');
    expect(formatClock(83)).toBe('1:23');
    expect(formatClock(3600)).toBe('60:00');
    expect(formatClock(-3)).toBe('0:00');
    expect(formatClock(Number.NaN)).toBe('0:00');
    expect(clockText(status({ elapsedS: 83.4, durationS: 300 }))).toBe('1:23 / 5:00');
    expect(clockText(null)).toBe('0:00 / 0:00');
  });

  it('keeps the progress fraction within 0–1', () => {
    expect(progressFraction(status({ elapsedS: 150 }))).toBe(0.5);
    expect(progressFraction(status({ elapsedS: 400 }))).toBe(1);
    expect(progressFraction(status({ durationS: 0 }))).toBe(0);
    expect(progressFraction(null)).toBe(0);
  });

  it('counts down to the next step, and says nothing once its time has passed', () => {
    expect(untilText(30, 18.2)).toBe('in 12 s');
    expect(untilText(200, 10)).toBe('in 3:10');
    expect(untilText(30, 30)).toBeNull();
  });
});

describe('player buttons', () => {
  const enabled = (s: ScenarioStatus | null, busy: Parameters<typeof playerButtons>[1] = null) => {
    const b = playerButtons(s, busy);
    return Object.entries(b)
      .filter(([, v]) => v.enabled)
      .map(([k]) => k);
  };

  it('offers nothing until a scenario is loaded', () => {
    expect(enabled(null)).toEqual([]);
    expect(enabled(status({ id: null, steps: [] }))).toEqual([]);
    expect(playerButtons(null, null).play.title).toBe('Load a scenario first');
  });

  it('enables each button by state', () => {
    const cases: [ScenarioState, Partial<ScenarioStatus>, string[]][] = [
      ['idle', {}, ['play', 'step']],
      ['starting', {}, ['reset']],
      ['running', { elapsedS: 12, steps: [step(0, 'done'), step(1), step(2)] }, ['pause', 'step', 'reset']],
      ['paused', { elapsedS: 12, steps: [step(0, 'done'), step(1), step(2)] }, ['play', 'step', 'reset']],
      ['paused', { elapsedS: 40, steps: [step(0, 'done'), step(1, 'done'), step(2, 'done')] }, ['play', 'reset']],
      ['verifying', { elapsedS: 300, steps: [step(0, 'done'), step(1, 'done'), step(2, 'done')] }, ['reset']],
      ['passed', { elapsedS: 300, steps: [step(0, 'done'), step(1, 'done'), step(2, 'done')] }, ['play', 'step', 'reset']],
      ['failed', { elapsedS: 300, steps: [step(0, 'done'), step(1, 'failed'), step(2, 'done')] }, ['play', 'step', 'reset']],
      ['aborted', {}, ['play', 'step', 'reset']],
    ];
    for (const [state, patch, expected] of cases) expect(enabled(status({ state, ...patch })), state).toEqual(expected);
  });

  it('says Resume when paused and Replay once finished', () => {
    expect(playerButtons(status(), null).play.label).toBe('Play');
    expect(playerButtons(status({ state: 'paused', elapsedS: 5 }), null).play.label).toBe('Resume');
    expect(playerButtons(status({ state: 'passed' }), null).play.label).toBe('Replay');
  });

  it('waits while a command is in flight', () => {
    expect(enabled(status({ state: 'paused', elapsedS: 5 }), 'scenario:step')).toEqual([]);
    expect(enabled(status(), 'report:export')).toEqual([]);
  });
});

describe('step list', () => {
  const steps = (states: StepStatus['state'][]) => states.map((s, i) => step(i, s));
  const roles = (rows: ReturnType<typeof stepView>) => rows.map((r) => `${r.step.index}:${r.role}`);
  const pending = (n: number) => Array<StepStatus['state']>(n).fill('pending');
  const done = (n: number) => Array<StepStatus['state']>(n).fill('done');

  it('before the start shows the first eight steps as upcoming', () => {
    expect(roles(stepView(steps(pending(12))))).toEqual([
      '0:upcoming',
      '1:upcoming',
      '2:upcoming',
      '3:upcoming',
      '4:upcoming',
      '5:upcoming',
      '6:upcoming',
      '7:upcoming',
    ]);
    expect(roles(stepView(steps(pending(3))))).toEqual(['0:upcoming', '1:upcoming', '2:upcoming']);
  });

  it('highlights the last step that ran, with two done before it and the next five', () => {
    expect(roles(stepView(steps([...done(5), ...pending(7)])))).toEqual([
      '2:done',
      '3:done',
      '4:current',
      '5:upcoming',
      '6:upcoming',
      '7:upcoming',
      '8:upcoming',
      '9:upcoming',
    ]);
  });

  it('keeps eight rows from start to end, so the list never changes height', () => {
    for (let ran = 0; ran <= 12; ran++) expect(stepView(steps([...done(ran), ...pending(12 - ran)])), `${ran} run`).toHaveLength(8);
    // At the end: the last eight, the final one current.
    expect(roles(stepView(steps(done(12)))).at(-1)).toBe('11:current');
  });

  it('keeps a failed step in view, in red with its error, in place of the furthest one to come', () => {
    const rows = stepView(steps(['failed', ...done(6), ...pending(5)]));
    expect(rows).toHaveLength(8);
    expect(roles(rows)).toEqual(['0:failed', '4:done', '5:done', '6:current', '7:upcoming', '8:upcoming', '9:upcoming', '10:upcoming']);
    expect(rows[0]!.step.error).toBe('boom');
    // A failed step that is the last to have run is the current one.
    expect(roles(stepView(steps(['done', 'failed', 'pending'])))).toEqual(['0:done', '1:current', '2:upcoming']);
  });

  it('gives the current step at least three rows however many failed elsewhere', () => {
    const rows = stepView(steps([...Array<StepStatus['state']>(10).fill('failed'), 'done', 'pending', 'pending']));
    expect(rows).toHaveLength(8);
    expect(roles(rows).slice(-3)).toEqual(['9:failed', '10:current', '11:upcoming']);
    expect(rows.filter((r) => r.role === 'failed')).toHaveLength(6);
  });

  it('shows nothing for no steps', () => {
    expect(stepView([])).toEqual([]);
  });
});

describe('assertion figures', () => {
  it('shows rates as percent, latency in ms, rps per second and counts as they are', () => {
    expect(formatAssertValue('error_rate', 0.0123)).toBe('1.23 %');
    expect(formatAssertValue('error_rate', 0)).toBe('0 %');
    expect(formatAssertValue('cache_hit_rate', 0.873)).toBe('87.3 %');
    expect(formatAssertValue('p99_ms', 231.6)).toBe('232 ms');
    expect(formatAssertValue('p50_ms', 3.14)).toBe('3.1 ms');
    expect(formatAssertValue('rps', 29.7)).toBe('30 req/s');
    expect(formatAssertValue('api_replicas', 3)).toBe('3');
    expect(formatAssertValue('queue_waiting', 12.5)).toBe('12.5');
    expect(formatAssertValue('lost_writes', null)).toBe('–');
  });

  it('writes the target in the figure’s unit', () => {
    expect(targetText('error_rate', '<', 0.05)).toBe('< 5.00 %');
    expect(targetText('p99_ms', '<=', 250)).toBe('≤ 250 ms');
    expect(targetText('api_replicas', '>=', 3)).toBe('≥ 3');
  });

  it('colours the state badge: passed green, failed and aborted red', () => {
    expect(stateTone('passed')).toBe('ok');
    expect(stateTone('failed')).toBe('bad');
    expect(stateTone('aborted')).toBe('bad');
    expect(stateTone('running')).toBe('live');
    expect(stateTone('idle')).toBe('idle');
  });
});

describe('report export', () => {
  const now = 1_700_000_000_000;

  it('covers the scenario’s window when one ran (to now while it runs), else the last minutes', () => {
    const ran = status({ state: 'passed', startedAt: now - 60_000, endedAt: now - 5_000 });
    expect(defaultReportWindow(ran)).toBe('scenario');
    expect(defaultReportWindow(status())).toBe(5);
    expect(defaultReportWindow(null)).toBe(5);
    expect(reportRequest('scenario', ran, now)).toEqual({ from: now - 60_000, to: now - 5_000 });
    expect(reportRequest('scenario', status({ state: 'running', startedAt: now - 10_000 }), now)).toEqual({ from: now - 10_000, to: now });
    expect(reportRequest(15, ran, now)).toEqual({ from: now - 15 * 60_000, to: now });
    // No scenario ran: its window falls back to the last 5 minutes.
    expect(reportRequest('scenario', null, now)).toEqual({ from: now - 5 * 60_000, to: now });
    for (const w of ['scenario', 5, 15, 30] as const)
      expect(Value.Check(ReportExportSchema, reportRequest(w, ran, now)), String(w)).toBe(true);
  });

  it('names both files after one base, whatever extension the suggestion carries', () => {
    expect(reportFileNames('scalelab-report-2024-01-01')).toEqual({
      html: 'scalelab-report-2024-01-01.html',
      json: 'scalelab-report-2024-01-01.json',
    });
    expect(reportFileNames('e2e-smoke.html')).toEqual({ html: 'e2e-smoke.html', json: 'e2e-smoke.json' });
    expect(reportFileNames('')).toEqual({ html: 'scalelab-report.html', json: 'scalelab-report.json' });
  });

  it('downloads the HTML and the JSON with the same base name', async () => {
    const { bridge, calls } = scripted({
      'report:export': { html: '<html>e2e</html>', json: '{"samples":[]}', fileName: 'report-x.html' },
    });
    const { get, saved } = sliceOn(bridge);
    expect(await get().exportReport(30)).toBe(true);
    expect(calls[0]).toMatchObject({ command: 'report:export', payload: { from: expect.any(Number), to: expect.any(Number) } });
    expect(saved).toEqual([
      { fileName: 'report-x.html', text: '<html>e2e</html>', type: 'text/html' },
      { fileName: 'report-x.json', text: '{"samples":[]}', type: 'application/json' },
    ]);
    expect(get().scenarioBusy).toBeNull();
  });
});

describe('scenario slice', () => {
  it('keeps a bad file’s error for the banner and the panel, and clears it on the next try', async () => {
    const bad = Object.assign(new Error('e2e.yaml line 4: steps/0/scale/replicas must be an integer'), { name: 'ScenarioFileError' });
    const { bridge, calls } = scripted({ 'scenario:load': bad });
    const { get } = sliceOn(bridge);
    expect(await get().loadScenarioFile('e2e.yaml', 'name: x')).toBe(false);
    expect(calls[0]).toEqual({ command: 'scenario:load', payload: { source: 'name: x', fileName: 'e2e.yaml' } });
    expect(get().error).toEqual({ name: 'ScenarioFileError', message: expect.stringContaining('line 4') });
    expect(get().scenarioError).toBe(get().error);
    expect(get().scenarioBusy).toBeNull();
    await get().playScenario();
    // The old error gave way (the new one is play's own).
    expect(get().error?.message).toBe('unscripted scenario:play');
  });

  it('refuses a file too long for the contract without sending it', async () => {
    const { bridge, calls } = scripted({});
    const { get } = sliceOn(bridge);
    expect(await get().loadScenarioFile('huge.yaml', 'x'.repeat(MAX_SOURCE_CHARS + 1))).toBe(false);
    expect(calls).toEqual([]);
    expect(get().error?.message).toContain('at most 1,000,000');
  });

  it('takes each command’s answer and each streamed status as the player’s', async () => {
    const { bridge, calls } = scripted({
      'scenario:play': status({ state: 'starting' }),
      'scenario:pause': status({ state: 'paused', elapsedS: 3 }),
    });
    const { get } = sliceOn(bridge);
    await get().playScenario();
    expect(get().scenario?.state).toBe('starting');
    get().syncScenario(status({ state: 'running', elapsedS: 2 }));
    expect(get().scenario?.state).toBe('running');
    await get().pauseScenario();
    expect(get().scenario).toMatchObject({ state: 'paused', elapsedS: 3 });
    expect(calls.map((c) => c.command)).toEqual(['scenario:play', 'scenario:pause']);
  });
});

describe('scenario slice, against a real control plane', () => {
  let home: string;
  let controlPlane: ControlPlane;
  beforeAll(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'scalelab-scenario-ui-'));
    controlPlane = new ControlPlane({ home });
  });
  afterAll(async () => {
    await controlPlane?.close();
    await removeTempHome(home);
  });
  const realBridge = (): Bridge => ({
    invoke: (command, payload) => controlPlane.handle(command, payload) as never,
    on: (event, listener) => controlPlane.on(event, listener),
  });

  it('lists the built-ins on connect and loads one, steps and assertions ready to play', async () => {
    const app = createAppStore(realBridge());
    await app.connect();
    try {
      const state = app.store.getState;
      expect(state().scenarios?.map((s) => s.id)).toEqual(
        expect.arrayContaining(['black-friday', 'cache-outage', 'thundering-herd', 'rolling-chaos', 'queue-backlog']),
      );
      expect(state().scenario?.state).toBe('idle');
      expect(await state().loadScenario('black-friday')).toBe(true);
      const loaded = state().scenario!;
      expect(loaded).toMatchObject({ state: 'idle', id: 'black-friday', elapsedS: 0 });
      expect(loaded.steps.length).toBeGreaterThan(0);
      expect(loaded.steps.every((s) => s.state === 'pending' && s.text.length > 0)).toBe(true);
      expect(loaded.assertions.length).toBeGreaterThan(0);
      expect(playerButtons(loaded, null)).toMatchObject({
        play: { enabled: true, label: 'Play' },
        pause: { enabled: false },
        reset: { enabled: false },
      });
    } finally {
      app.disconnect();
    }
  });

  it('shows a bad file’s error with its line', async () => {
    const { store } = createAppStore(realBridge());
    const source = 'name: bad\ndurationS: 10\nsteps:\n  - at: 0\n    scale: { service: api, replicas: lots }\n';
    expect(await store.getState().loadScenarioFile('bad.yaml', source)).toBe(false);
    // file:line:column, then the field.
    expect(store.getState().error?.message).toMatch(/bad\.yaml:5:\d+: steps\[0\]\.scale\.replicas/);
    expect(store.getState().scenarioError).toBe(store.getState().error);
  });
});
