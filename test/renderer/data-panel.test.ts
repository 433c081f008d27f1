import { Value } from 'typebox/value';
import { describe, expect, it } from 'vitest';
import {
  ChaosActionSchema,
  StackSpecSchema,
  withDefaults,
  type CommandName,
  type DataSample,
  type Sample,
  type StackSpec,
} from '../../electron/contract.js';
import { patternOff } from '../../renderer/features/chaos/chaos-data.js';
import { buttonsAt } from '../../electron/chaos/buttons.js';
import { buildDataRows } from '../../renderer/features/data/data-rows.js';
import { OFF_HINTS, partitionBars, poolViews } from '../../renderer/features/data/data-view.js';
import { dataPatterns } from '../../renderer/store/data-patterns.js';
import { formatBytes, formatCount, formatDelay, formatRate, formatSeconds } from '../../renderer/ui/format.js';
import { createAppStore } from '../../renderer/store/app-store.js';
import { DEFAULT_CHAOS_DRAFT, panelActionOf } from '../../renderer/store/chaos-slice.js';
import { DEFAULT_DATA_DRAFT, startSpec } from '../../renderer/store/data-slice.js';
import type { Bridge } from '../../renderer/store/types.js';

function data(patch: Partial<DataSample> = {}): DataSample {
  return {
    reads: { primaryPerSec: 10, replicaPerSec: 40, fallbacksPerSec: 0 },
    replica: { up: true, lagBytes: 2048, lagSeconds: 0.2, applyDelayMs: 0 },
    pools: [],
    stream: { length: 100, eventsPerSec: 5, groupLag: 2, pending: 1, outboxBacklog: 0, freshnessS: 0.1 },
    partitions: null,
    ...patch,
  };
}

function sample(t: number, d: DataSample | undefined): Sample {
  return {
    t,
    stack: 'default',
    traffic: {
      rps: 0,
      errorsPerSec: 0,
      proxyErrorsPerSec: 0,
      status: { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 },
      inFlight: 0,
      p50: null,
      p95: null,
      p99: null,
    },
    instances: [],
    replicas: { api: 2, apiReady: 2, worker: 1 },
    cache: { up: true, hitsPerSec: 0, missesPerSec: 0, hitRate: null, memoryBytes: null, keys: null, opsPerSec: null },
    queue: { up: true, waiting: 0, active: 0, delayed: 0, failed: 0, completedPerSec: 0, failedPerSec: 0 },
    db: { up: true, connections: 1, commitsPerSec: 0, rollbacksPerSec: 0 },
    autoscaler: null,
    generator: null,
    writes: { acknowledged: 0, verified: null, lost: null, lostIds: [], checkedAt: null },
    chaos: null,
    ...(d ? { data: d } : {}),
  };
}

const spec = (patch: Partial<StackSpec['data']> = {}): StackSpec => withDefaults({ data: patch });

describe('data-layer chart rows', () => {
  it('draws about 200 points for 30 minutes (a partial bucket at each end), keeping each bucket’s worst lag and averaging rates', () => {
    const now = 50_000_000;
    const samples = Array.from({ length: 1800 }, (_, i) => {
      const spike = i === 1000;
      return sample(
        now - (1799 - i) * 1000,
        data({
          replica: { up: true, lagBytes: spike ? 10 * 1024 : 0, lagSeconds: spike ? 7 : 0, applyDelayMs: 0 },
          reads: { primaryPerSec: i % 2 === 0 ? 10 : 20, replicaPerSec: 30, fallbacksPerSec: 0 },
        }),
      );
    });
    const rows = buildDataRows(samples, 1800, now);
    expect(rows.length).toBeLessThanOrEqual(201);
    expect(rows.length).toBeGreaterThan(150);
    expect(Math.max(...rows.map((r) => r.lagSeconds ?? 0))).toBe(7);
    expect(Math.max(...rows.map((r) => r.lagKiB ?? 0))).toBe(10);
    // 9 samples per bucket alternating 10 and 20: the mean lies between them.
    const middle = rows[50]!;
    expect(middle.readsPrimary).toBeGreaterThan(10);
    expect(middle.readsPrimary).toBeLessThan(20);
    expect(middle.readsReplica).toBe(30);
    // A second later: closed buckets come from the cache, and equal rows built afresh.
    const next = [...samples.slice(1), sample(now + 1000, data())];
    const incremental = buildDataRows(next, 1800, now + 1000);
    const fresh = buildDataRows(
      next.map((s) => ({ ...s })),
      1800,
      now + 1000,
    );
    expect(incremental).toEqual(fresh);
  });

  it('breaks the lag line while the replica is down or off, and the stream’s while events are off', () => {
    const now = 1_000_000;
    const rows = buildDataRows(
      [
        sample(now - 3000, data({ replica: { up: false, lagBytes: null, lagSeconds: null, applyDelayMs: 0 } })),
        sample(now - 2000, data({ replica: null, stream: null })),
        sample(now - 1000, undefined), // an older control plane's sample
        sample(now, data()),
      ],
      60,
      now,
    );
    expect(rows.map((r) => r.lagSeconds)).toEqual([null, null, null, 0.2]);
    expect(rows.map((r) => r.groupLag)).toEqual([2, null, null, 2]);
    expect(rows.map((r) => r.readsReplica)).toEqual([40, 40, null, 40]);
    expect(rows[3]!.lagKiB).toBe(2);
  });
});

describe('data-layer figures', () => {
  it('takes the patterns from the running spec, or from the sample when the spec predates them', () => {
    expect(dataPatterns(spec({ readReplica: true, partitions: 4 }), undefined)).toEqual({ readReplica: true, events: true, partitions: 4 });
    expect(dataPatterns(spec({ events: false }), data())).toEqual({ readReplica: false, events: false, partitions: 0 });
    const old = { ...spec(), data: undefined } as unknown as StackSpec;
    expect(dataPatterns(old, data({ replica: null, partitions: [{ name: 'users_p0', rows: 1 }] }))).toEqual({
      readReplica: false,
      events: true,
      partitions: 1,
    });
    expect(dataPatterns(null, undefined)).toEqual({ readReplica: false, events: false, partitions: 0 });
  });

  it('says how to turn each pattern on, naming its stack spec field', () => {
    expect(OFF_HINTS.readReplica).toMatch(/data\.readReplica/);
    expect(OFF_HINTS.events).toMatch(/data\.events/);
    expect(OFF_HINTS.partitions).toMatch(/data\.partitions/);
  });

  it('lists pools by api replica in order, primary first, and marks a pool with waiting clients', () => {
    const views = poolViews([
      { instance: 'api-10', pool: 'replica', used: 10, idle: 0, waiting: 3, max: 10 },
      { instance: 'api-10', pool: 'primary', used: 2, idle: 1, waiting: 0, max: 10 },
      { instance: 'api-2', pool: 'primary', used: 12, idle: 0, waiting: 0, max: 10 },
    ]);
    expect(views.map((v) => v.instance)).toEqual(['api-2', 'api-10']);
    expect(views[1]!.pools.map((p) => p.pool)).toEqual(['primary', 'replica']);
    expect(views[1]!.pools[1]).toMatchObject({ starved: true, fraction: 1, waiting: 3 });
    expect(views[1]!.pools[0]).toMatchObject({ starved: false, fraction: 0.2 });
    expect(views[0]!.pools[0]!.fraction).toBe(1); // more in use than max (a resize) is still a full bar
  });

  it('sizes partition bars to the fullest, labels every one up to 16 and every fourth past that, and measures the skew', () => {
    const { bars, total, skew } = partitionBars([
      { name: 'users_p0', rows: 100 },
      { name: 'users_p1', rows: 50 },
      { name: 'users_p2', rows: 0 },
      { name: 'users_p3', rows: 50 },
    ]);
    expect(bars.map((b) => b.fraction)).toEqual([1, 0.5, 0, 0.5]);
    expect(bars.map((b) => b.short)).toEqual(['p0', 'p1', 'p2', 'p3']);
    expect(bars.every((b) => b.labelled)).toBe(true);
    expect(total).toBe(200);
    expect(skew).toBe(2);
    const many = partitionBars(Array.from({ length: 32 }, (_, i) => ({ name: `users_p${i}`, rows: 10 })));
    expect(many.bars.filter((b) => b.labelled).map((b) => b.short)).toEqual(['p0', 'p4', 'p8', 'p12', 'p16', 'p20', 'p24', 'p28']);
    expect(many.skew).toBe(1);
    expect(partitionBars([]).skew).toBeNull();
  });

  it('writes bytes, seconds, delays, rates and counts for the figures', () => {
    expect([formatBytes(512), formatBytes(2048), formatBytes(3.5 * 1024 * 1024), formatBytes(null)]).toEqual([
      '512 B',
      '2.0 KiB',
      '3.5 MiB',
      '–',
    ]);
    expect([formatSeconds(0.04), formatSeconds(12.4), formatSeconds(125), formatSeconds(null)]).toEqual([
      '0.0 s',
      '12 s',
      '2 min 5 s',
      '–',
    ]);
    expect([formatDelay(0), formatDelay(250), formatDelay(2000), formatDelay(180_000)]).toEqual(['none', '250 ms', '2 s', '3 min']);
    expect([formatRate(0), formatRate(0.44), formatRate(12.6), formatRate(1530)]).toEqual(['0', '0.4', '13', '1.5k']);
    expect(formatCount(1234567)).toBe('1 234 567');
  });
});

describe('data-layer chaos buttons', () => {
  it('send contract-valid actions with the form’s numbers', () => {
    const draft = {
      ...DEFAULT_CHAOS_DRAFT,
      'kill-replica.forSeconds': 4,
      'replica-delay.ms': 1500,
      'replica-delay.forSeconds': 20,
      'kill-relay.forSeconds': 6,
      'kill-projector.forSeconds': 7,
    };
    const data = buttonsAt('data');
    expect(data.map((b) => b.id)).toEqual(['kill-replica', 'replica-delay', 'kill-relay', 'kill-projector']);
    for (const button of data) expect(Value.Check(ChaosActionSchema, panelActionOf(button.id, draft)), button.id).toBe(true);
    expect(panelActionOf('kill-replica', draft)).toEqual({ action: 'kill-replica', forSeconds: 4 });
    expect(panelActionOf('replica-delay', draft)).toEqual({ action: 'replica-delay', ms: 1500, forSeconds: 20 });
    expect(panelActionOf('kill-relay', draft)).toEqual({ action: 'kill-relay', forSeconds: 6 });
    expect(panelActionOf('kill-projector', draft)).toEqual({ action: 'kill-projector', forSeconds: 7 });
  });

  it('are off, with the reason, when their pattern is off', () => {
    const none = { readReplica: false, events: false };
    const needs = Object.fromEntries(buttonsAt('data').map((b) => [b.id, b.needs]));
    expect(patternOff(needs['kill-replica'], none)).toMatch(/data\.readReplica/);
    expect(patternOff(needs['replica-delay'], none)).toMatch(/replica off/);
    expect(patternOff(needs['kill-relay'], none)).toMatch(/data\.events/);
    expect(patternOff(needs['kill-projector'], none)).toMatch(/events off/);
    for (const button of buttonsAt('data')) expect(patternOff(button.needs, { readReplica: true, events: true })).toBeNull();
    expect(patternOff(undefined, none)).toBeNull();
  });
});

describe('start settings', () => {
  it('build a contract-valid stack:up payload with the data-layer patterns', () => {
    const payload = startSpec('local', null, { readReplica: true, events: false, partitions: 8 });
    expect(Value.Check(StackSpecSchema, payload)).toBe(true);
    expect(withDefaults(payload).data).toEqual({ readReplica: true, events: false, partitions: 8 });
    const kube = startSpec('kubernetes', 'minikube', DEFAULT_DATA_DRAFT);
    expect(Value.Check(StackSpecSchema, kube)).toBe(true);
    expect(kube.kubernetes).toEqual({ context: 'minikube' });
    // The form starts from the spec's own defaults.
    expect(DEFAULT_DATA_DRAFT).toEqual(withDefaults({}).data);
  });

  it('sends the form’s patterns with Start', async () => {
    const calls: { command: CommandName; payload: unknown }[] = [];
    const bridge: Bridge = {
      invoke: async (command, payload) => {
        calls.push({ command, payload });
        return command === 'stack:up' || command === 'stack:status'
          ? ({
              ok: true,
              value: {
                state: 'running',
                spec: withDefaults(payload as object),
                runtime: 'local',
                instances: [],
                endpoints: null,
                sample: null,
              },
            } as never)
          : ({ ok: false, error: { name: 'Error', message: 'unscripted' } } as never);
      },
      on: () => () => undefined,
    };
    const { store } = createAppStore(bridge);
    store.getState().editDataDraft({ readReplica: true, partitions: 4 });
    expect(store.getState().dataDraft).toEqual({ readReplica: true, events: true, partitions: 4 });
    const state = store.getState();
    await state.start(startSpec('local', null, state.dataDraft));
    expect(calls.find((c) => c.command === 'stack:up')?.payload).toEqual({
      runtime: 'local',
      data: { readReplica: true, events: true, partitions: 4 },
    });
  });
});
