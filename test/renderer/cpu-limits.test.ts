import { Value } from 'typebox/value';
import { describe, expect, it } from 'vitest';
import { StackSpecSchema, withDefaults, type InstanceSample, type Sample } from '../../electron/contract.js';
import { buildRows } from '../../renderer/features/charts/chart-data.js';
import { cpuResources, cpuUpdateSpec, DEFAULT_DATA_DRAFT, startSpec } from '../../renderer/store/data-slice.js';

function instance(id: string, share: number | null): InstanceSample {
  return {
    id,
    service: 'api',
    phase: 'ready',
    ready: true,
    restarts: 0,
    cpu: 10,
    rssBytes: null,
    rps: null,
    errorsPerSec: null,
    inFlight: null,
    eventLoopLagMs: null,
    p50: null,
    p95: null,
    p99: null,
    cpuLimitMillicores: share === null ? null : 100,
    throttling: share === null ? null : { throttledShare: share, throttledSecondsPerSec: share, periodsTotal: 10, throttledPeriodsTotal: 5, throttledSecondsTotal: 1 },
  };
}

function sample(t: number, instances: InstanceSample[]): Sample {
  return {
    t,
    stack: 'default',
    traffic: { rps: 0, errorsPerSec: 0, proxyErrorsPerSec: 0, status: { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 }, inFlight: 0, p50: null, p95: null, p99: null },
    instances,
    replicas: { api: instances.length, apiReady: instances.length, worker: 0 },
    cache: { up: true, hitsPerSec: 0, missesPerSec: 0, hitRate: null, memoryBytes: null, keys: null, opsPerSec: null },
    queue: { up: true, waiting: 0, active: 0, delayed: 0, failed: 0, completedPerSec: 0, failedPerSec: 0 },
    db: { up: true, connections: 1, commitsPerSec: 0, rollbacksPerSec: 0 },
    autoscaler: null,
    generator: null,
    writes: { acknowledged: 0, verified: null, lost: null, lostIds: [], checkedAt: null },
    chaos: null,
  };
}

describe('the stack bar asks for cpu per replica', () => {
  it('Start sends the typed quantities as resources (an empty box: no limit), and none when both are empty', () => {
    const spec = startSpec('local', null, DEFAULT_DATA_DRAFT, { api: ' 250m ', worker: '' });
    expect(spec.resources).toEqual({ api: { cpu: '250m' }, worker: { cpu: null } });
    expect(Value.Check(StackSpecSchema, spec)).toBe(true);
    expect(startSpec('local', null, DEFAULT_DATA_DRAFT, { api: '', worker: '' })).not.toHaveProperty('resources');
    expect(startSpec('local', null, DEFAULT_DATA_DRAFT)).not.toHaveProperty('resources');
  });

  it('Apply re-sends the running spec with the new limits only', () => {
    const running = withDefaults({ name: 'demo', port: 18_000, replicas: { api: 3, worker: 1 }, resources: { api: { cpu: '100m' } } });
    const spec = cpuUpdateSpec(running, { api: '0.5', worker: '1' });
    expect(spec).toEqual({ ...running, resources: { api: { cpu: '0.5' }, worker: { cpu: '1' } } });
    expect(Value.Check(StackSpecSchema, spec)).toBe(true);
    expect(withDefaults(spec).resources).toEqual({ api: { cpu: '500m' }, worker: { cpu: '1' } });
    expect(cpuResources({ api: '', worker: '' })).toEqual({ api: { cpu: null }, worker: { cpu: null } });
  });
});

describe('the throttling chart', () => {
  it('has a series per limited replica, in % of periods, averaged per bucket; unlimited replicas have none', () => {
    const now = 1_000_000;
    const samples = [sample(now - 1000, [instance('api-1', 0.5), instance('api-2', null)]), sample(now, [instance('api-1', 1), instance('api-2', null)])];
    const { rows } = buildRows(samples, 60, now);
    expect(rows.map((r) => r.throttled['api-1'])).toEqual([50, 100]);
    expect(rows.every((r) => r.throttled['api-2'] === null)).toBe(true);
  });
});
