import { describe, expect, it } from 'vitest';
import type { AutoscalerStatus, StackSpec, TimelineEvent } from '../../electron/contract.js';
import { eventMarks, markLabel, markTone } from '../../renderer/ui/chart/chart-data.js';
import { placeLabels, quarterMax, wholeMax } from '../../renderer/ui/chart/chart-scale.js';
import { statRow, type Stat } from '../../renderer/features/presenter/stat-data.js';
import { statNumber } from '../../renderer/ui/format.js';
import { instanceSample, quietSample } from '../support/sample-fixture.js';

const spec = { replicas: { api: 3, worker: 1 } } as StackSpec;
const byKey = (stats: Stat[], key: Stat['key']) => stats.find((s) => s.key === key)!;
const event = (kind: TimelineEvent['kind'], message: string, level: TimelineEvent['level'] = 'info', t = 1_000): TimelineEvent =>
  ({ t, kind, level, message }) as TimelineEvent;

describe('the stat row', () => {
  const api = [
    instanceSample({ id: 'api-1' }),
    instanceSample({ id: 'api-2' }),
    instanceSample({ id: 'api-3', phase: 'starting', ready: false }),
  ];
  const worker = instanceSample({ id: 'worker-1', service: 'worker' });

  it('reads the newest sample: served, percentiles, error share, ready of desired, cache, queue', () => {
    const sample = quietSample(1, [...api, worker], {
      traffic: {
        rps: 400,
        errorsPerSec: 6,
        proxyErrorsPerSec: 2,
        status: { '2xx': 392, '3xx': 0, '4xx': 0, '5xx': 8 },
        inFlight: 3,
        p50: 1.24,
        p95: 9.87,
        p99: 143.6,
      },
      replicas: { api: 3, apiReady: 2, worker: 1 },
      cache: { up: true, hitsPerSec: 90, missesPerSec: 10, hitRate: 0.9, memoryBytes: null, keys: null, opsPerSec: null },
      queue: { up: true, waiting: 12, active: 2, delayed: 0, failed: 0, completedPerSec: 5, failedPerSec: 0 },
    });
    const stats = statRow(sample, spec, null);
    expect(stats.map((s) => s.key)).toEqual(['requests', 'latency', 'errors', 'replicas', 'cache', 'queue', 'autoscaler']);
    expect(byKey(stats, 'requests').values[0]!.text).toBe('400');
    expect(byKey(stats, 'latency').values.map((v) => `${v.caption} ${v.text}`)).toEqual(['p50 1.2', 'p95 9.9', 'p99 144']);
    // 8 failed of 400 served: 2 %, red from 1 %.
    expect(byKey(stats, 'errors')).toMatchObject({ values: [{ text: '2' }], tone: 'bad', detail: '8/s failed' });
    // One api replica still starting: 2 of the spec's 3, amber.
    expect(byKey(stats, 'replicas')).toMatchObject({
      values: [
        { caption: 'api', text: '2/3' },
        { caption: 'workers', text: '1/1' },
      ],
      tone: 'warn',
    });
    expect(byKey(stats, 'cache')).toMatchObject({ values: [{ text: '90' }], unit: '%', detail: '100 lookups/s' });
    expect(byKey(stats, 'queue')).toMatchObject({ values: [{ text: '12' }], detail: '2 active · 5 done/s' });
    expect(byKey(stats, 'autoscaler')).toMatchObject({ values: [{ text: 'off' }], tone: 'idle' });
  });

  it('says offered and achieved (client-observed) only while a run goes, and amber when the stack serves under 90 % of it', () => {
    const generator = {
      running: true,
      profile: 'constant',
      targetRps: 1000,
      offeredRps: 1000,
      achievedRps: 700,
      p50: 1,
      p95: 2,
      p99: 3,
      errorsPerSec: { timeout: 0, refused: 0, http4xx: 0, http5xx: 0 },
      droppedPerSec: 0,
    } as never;
    const served = byKey(
      statRow(quietSample(1, api, { traffic: { ...quietSample(1, api).traffic, rps: 700 }, generator }), spec, null),
      'requests',
    );
    expect(served.detail).toBe('offered 1,000 · achieved 700 (client)');
    expect(served.tone).toBe('warn');
    expect(byKey(statRow(quietSample(1, api), spec, null), 'requests').detail).toBe('server-side');
  });

  it('turns red for a store that is down, and for no api replica ready', () => {
    const down = quietSample(1, [], {
      replicas: { api: 0, apiReady: 0, worker: 0 },
      cache: { up: false, hitsPerSec: 0, missesPerSec: 0, hitRate: null, memoryBytes: null, keys: null, opsPerSec: null },
      queue: { up: false, waiting: 0, active: 0, delayed: 0, failed: 0, completedPerSec: 0, failedPerSec: 0 },
    });
    const stats = statRow(down, spec, null);
    expect(byKey(stats, 'cache')).toMatchObject({ values: [{ text: 'down' }], tone: 'bad' });
    expect(byKey(stats, 'queue')).toMatchObject({ values: [{ text: 'down' }], tone: 'bad' });
    expect(byKey(stats, 'replicas').tone).toBe('bad');
  });

  it("gives the autoscaler's target and its last decision in words", () => {
    const status = {
      mode: 'emulated',
      api: {
        config: { enabled: true, metrics: [{ kind: 'rps', target: 50 }] },
        current: 2,
        desired: 4,
        lastSyncAt: 1,
        decisions: [{ explanation: 'rps 95 vs target 50 → 4 replicas' }],
      },
      worker: null,
    } as unknown as AutoscalerStatus;
    expect(byKey(statRow(quietSample(1, api), spec, status), 'autoscaler')).toMatchObject({
      values: [{ text: 'api 2→4' }],
      detail: 'target 50 rps per replica: rps 95 vs target 50 → 4 replicas',
      tone: 'warn',
    });
  });

  it('prints dashes before the first sample, whole numbers from 100 with separators', () => {
    expect(statRow(null, null, null).every((s) => s.values.every((v) => v.text === '–' || v.text === 'off'))).toBe(true);
    expect([statNumber(null), statNumber(0.04), statNumber(12.345), statNumber(1234.5)]).toEqual(['–', '0', '12.3', '1,235']);
  });
});

describe('chart marks', () => {
  it('are labelled in a few words, a recovery in green', () => {
    expect(markLabel(event('chaos', 'kill api-2', 'warn'))).toBe('kill api-2');
    expect(markLabel(event('chaos', 'monkey killed api-3', 'warn'))).toBe('kill api-3');
    expect(markLabel(event('chaos', 'redis is back'))).toBe('redis back');
    expect(markLabel(event('autoscaler', 'api 4 → 5: rps 60 vs target 50 → 5 replicas'))).toBe('HPA api 4→5');
    expect(markLabel(event('scaling', 'scaling api 2 → 4'))).toBe('scale api 2→4');
    expect(markLabel(event('lifecycle', 'api-1 exited (SIGKILL); restart 1 follows', 'warn'))).toBe('api-1 exited');
    expect(markLabel(event('traffic', 'a very long traffic message that goes on')).length).toBeLessThanOrEqual(18);
    expect(markTone(event('chaos', 'redis is back'))).toBe('recovered');
    expect(markTone(event('chaos', 'kill api-2', 'warn'))).toBe('chaos');
  });

  it("leave the autoscaler's holds and plain lifecycle news to the Events list", () => {
    const events = [
      event('autoscaler', 'api held at 2: cpu 40 % vs target 50 %', 'info', 1_000),
      event('lifecycle', 'api-1 is ready', 'info', 2_000),
      event('autoscaler', 'api 2 → 3: cpu 90 %', 'info', 3_000),
    ];
    expect(eventMarks(events, 60, 5_000).map((e) => e.message)).toEqual(['api 2 → 3: cpu 90 %']);
  });

  it('keep the newest labels where they collide, in two rows, and drop one that would leave the chart', () => {
    // Three marks 10 px apart, labels 50 px wide: the newest two stack, the oldest has no room.
    expect(
      placeLabels([
        { x: 300, width: 50 },
        { x: 310, width: 50 },
        { x: 320, width: 50 },
      ]),
    ).toEqual([null, 1, 0]);
    expect(
      placeLabels([
        { x: 100, width: 50 },
        { x: 300, width: 50 },
      ]),
    ).toEqual([0, 0]);
    expect(placeLabels([{ x: 30, width: 50 }])).toEqual([null]);
  });

  it('use y axes whose ticks are round: whole for counts, no 6.25 for rates', () => {
    expect([wholeMax(0), wholeMax(3), wholeMax(5), wholeMax(20)]).toEqual([4, 4, 8, 20]);
    expect([quarterMax(25), quarterMax(250), quarterMax(3)]).toEqual([40, 400, 4]);
  });
});

describe("a tile's sparklines", () => {
  it("follow each replica's last minute, with gaps where it was missing", async () => {
    const { tileHistories } = await import('../../renderer/features/topology/tile-history.js');
    const s = (t: number, ids: string[]) =>
      quietSample(
        t,
        ids.map((id, k) => instanceSample({ id, cpu: t * 10 + k, rps: t, rssBytes: (t + 100) * 2 ** 20 })),
      );
    const h = tileHistories([s(1, ['api-1']), s(2, ['api-1', 'api-2']), s(3, ['api-2'])]);
    expect(h.get('api-1')).toEqual({ cpu: [10, 20, null], rps: [1, 2, null], rssMiB: [101, 102, null] });
    expect(h.get('api-2')).toEqual({ cpu: [null, 21, 30], rps: [null, 2, 3], rssMiB: [null, 102, 103] });
    // Only the last 60 samples.
    expect(tileHistories(Array.from({ length: 90 }, (_, t) => s(t, ['api-1']))).get('api-1')!.cpu).toHaveLength(60);
  });

  it('draw in a 100 × 20 box, broken at a gap, flat at the bottom when all is zero', async () => {
    const { sparkPath } = await import('../../renderer/ui/spark-path.js');
    expect(sparkPath([0, 5, 10])).toBe('M0.0 19.5L50.0 10.3L100.0 1.0');
    expect(sparkPath([1, null, 1], 2)).toBe('M0.0 10.3M100.0 10.3');
    expect(sparkPath([0, 0])).toBe('M0 19.5H100');
    expect(sparkPath([3])).toBe('');
  });
});
