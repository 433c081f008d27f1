import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sample, TimelineEvent } from '../../electron/contract.js';
import { ControlPlane } from '../../electron/control/control-plane.js';
import { buildRows, eventMarks } from '../../renderer/ui/chart/chart-data.js';
import { createAppStore } from '../../renderer/store/app-store.js';
import { MAX_EVENTS, visibleEvents } from '../../renderer/store/events-slice.js';
import { MAX_SAMPLES } from '../../renderer/store/telemetry-slice.js';
import type { Bridge } from '../../renderer/store/types.js';
import { removeTempHome } from '../support/temp-home.js';

// The store talks to a real control plane in-process: ControlPlane.handle is the bridge's invoke.
let home: string;
let controlPlane: ControlPlane;
let bridge: Bridge;

beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'scalelab-store-'));
  controlPlane = new ControlPlane({ home });
  bridge = {
    invoke: (command, payload) => controlPlane.handle(command, payload) as never,
    on: (event, listener) => controlPlane.on(event, listener),
  };
});
afterAll(async () => {
  await controlPlane.close();
  await removeTempHome(home);
});

function sample(t: number, apiReplicas = 2): Sample {
  const instances = Array.from({ length: apiReplicas }, (_, i) => ({
    id: `api-${i + 1}`,
    service: 'api' as const,
    phase: 'ready' as const,
    ready: true,
    restarts: 0,
    cpu: 10 + i,
    rssBytes: 1e8,
    rps: 50,
    errorsPerSec: 0,
    inFlight: 0,
    eventLoopLagMs: 1,
    p50: 1,
    p95: 2,
    p99: 3,
  }));
  return {
    t,
    stack: 'default',
    traffic: {
      rps: 100,
      errorsPerSec: 1,
      proxyErrorsPerSec: 0,
      status: { '2xx': 99, '3xx': 0, '4xx': 0, '5xx': 1 },
      inFlight: 2,
      p50: 1,
      p95: t % 7,
      p99: 9,
    },
    instances,
    replicas: { api: apiReplicas, apiReady: apiReplicas, worker: 1 },
    cache: { up: true, hitsPerSec: 90, missesPerSec: 10, hitRate: 0.9, memoryBytes: 1, keys: 1, opsPerSec: 1 },
    queue: { up: true, waiting: 3, active: 1, delayed: 0, failed: 0, completedPerSec: 2, failedPerSec: 0 },
    db: { up: true, connections: 4, commitsPerSec: 5, rollbacksPerSec: 0 },
    autoscaler: null,
    generator: null,
    writes: { acknowledged: 0, verified: null, lost: null, lostIds: [], checkedAt: null },
    chaos: null,
  };
}

describe('telemetry slice', () => {
  it('keeps at most 30 minutes of samples, in time order, ignoring replays', () => {
    const { store } = createAppStore(bridge);
    for (let i = 0; i < MAX_SAMPLES + 50; i += 1) store.getState().addSample(sample(1_000_000 + i * 1000));
    store.getState().addSample(sample(1_000_000)); // a replay after a reconnect
    const { samples } = store.getState();
    expect(samples).toHaveLength(MAX_SAMPLES);
    expect(samples[0]!.t).toBe(1_000_000 + 50 * 1000);
    expect(samples.every((s, i) => i === 0 || s.t > samples[i - 1]!.t)).toBe(true);
  });
});

describe('chart rows', () => {
  it('draws at most 200 points per series for a 30-minute window of 20 replicas, keeping latency peaks', () => {
    const now = 10_000_000;
    const samples = Array.from({ length: 1800 }, (_, i) => sample(now - (1799 - i) * 1000, 20));
    const { rows, instances } = buildRows(samples, 1800, now);
    expect(rows.length).toBeLessThanOrEqual(201);
    expect(rows.length).toBeGreaterThan(150);
    expect(instances).toHaveLength(20);
    expect(instances.slice(0, 3)).toEqual(['api-1', 'api-2', 'api-3']);
    expect(instances.at(-1)).toBe('api-20');
    // Each 9 s bucket holds p95 values t % 7 for nine consecutive seconds: the maximum survives.
    expect(Math.max(...rows.map((r) => r.p95 ?? 0))).toBe(6);
    expect(rows[0]!.hitRate).toBeCloseTo(90);
    expect(rows[0]!.cpu['api-20']).toBeCloseTo(29);
  });

  it('reuses closed buckets without changing a figure: incremental rows equal rows built afresh', () => {
    const now = 20_000_000;
    const samples = Array.from({ length: 1800 }, (_, i) => sample(now - (1799 - i) * 1000, 3));
    buildRows(samples, 1800, now);
    const next = [...samples.slice(1), sample(now + 1000, 3)];
    const incremental = buildRows(next, 1800, now + 1000).rows;
    // Copies have new identities, so nothing comes from the cache.
    const fresh = buildRows(
      next.map((s) => structuredClone(s)),
      1800,
      now + 1000,
    ).rows;
    expect(incremental).toEqual(fresh);
  });

  it('drops samples older than the window', () => {
    const now = 5_000_000;
    const samples = [sample(now - 120_000), sample(now - 30_000), sample(now)];
    expect(buildRows(samples, 60, now).rows.map((r) => r.t)).toEqual([now - 30_000, now]);
  });
});

describe('events slice', () => {
  const event = (t: number, kind: TimelineEvent['kind'], level: TimelineEvent['level'] = 'info'): TimelineEvent => ({
    t,
    kind,
    level,
    message: `${kind} at ${t}`,
  });

  it('lists events newest first and hides filtered kinds', () => {
    const { store } = createAppStore(bridge);
    store.getState().setEvents([event(1, 'lifecycle'), event(2, 'scaling'), event(3, 'chaos', 'warn')]);
    store.getState().toggleKind('lifecycle');
    const { events, hiddenKinds } = store.getState();
    expect(visibleEvents(events, hiddenKinds).map((e) => e.t)).toEqual([3, 2]);
    store.getState().toggleKind('lifecycle');
    expect(store.getState().hiddenKinds).toEqual([]);
  });

  it('is bounded', () => {
    const { store } = createAppStore(bridge);
    for (let i = 0; i < MAX_EVENTS + 10; i += 1) store.getState().addEvent(event(i, 'scaling'));
    expect(store.getState().events).toHaveLength(MAX_EVENTS);
  });

  it('marks scaling and warnings on the charts, not routine lifecycle', () => {
    const marks = eventMarks([event(100_000, 'lifecycle'), event(101_000, 'scaling'), event(102_000, 'lifecycle', 'warn')], 60, 110_000);
    expect(marks.map((m) => m.t)).toEqual([102_000, 101_000]);
  });
});

describe('stack slice, against a real control plane', () => {
  it('loads the runtime probes and the stopped status', async () => {
    const app = createAppStore(bridge);
    await app.connect();
    const state = app.store.getState();
    expect(state.status?.state).toBe('stopped');
    expect(state.probes?.find((p) => p.runtime === 'local')?.available).toBe(true);
    expect(state.probes?.map((p) => p.runtime)).toEqual(['local', 'docker', 'kubernetes']);
    // No kubeconfig on this machine (the control plane was given none): the probe says so and how to fix it.
    expect(state.probes?.find((p) => p.runtime === 'kubernetes')).toMatchObject({
      available: false,
      reason: expect.stringContaining('no kubeconfig was found'),
      fix: expect.stringContaining('minikube start'),
    });
    app.disconnect();
  });

  it('keeps a failed command as an error to show, and clears the busy flag', async () => {
    const { store } = createAppStore(bridge);
    await store.getState().scale('api', 3);
    expect(store.getState().error).toMatchObject({ name: 'StackStateError', message: expect.stringContaining('no stack is running') });
    expect(store.getState().busy).toBeNull();
    store.getState().dismissError();
    expect(store.getState().error).toBeNull();
  });

  it('refuses a runtime that cannot run here, with what to do', async () => {
    const { store } = createAppStore(bridge);
    await store.getState().start({ runtime: 'kubernetes' });
    expect(store.getState().error).toMatchObject({ name: 'KubeConnectError', message: expect.stringContaining('minikube start') });
    expect(store.getState().status?.state).toBe('stopped');
  });
});
