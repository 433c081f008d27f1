import { Value } from 'typebox/value';
import { describe, expect, it } from 'vitest';
import { StackSpecSchema, withDefaults, type InstanceSample } from '../../electron/contract.js';
import { buildRows } from '../../renderer/ui/chart/chart-data.js';
import { instanceSample, quietSample as sample } from '../support/sample-fixture.js';
import { cpuResources, cpuUpdateSpec, DEFAULT_DATA_DRAFT, startSpec } from '../../renderer/store/data-slice.js';

function instance(id: string, share: number | null): InstanceSample {
  const throttling = {
    throttledShare: share ?? 0,
    throttledSecondsPerSec: share,
    periodsTotal: 10,
    throttledPeriodsTotal: 5,
    throttledSecondsTotal: 1,
  };
  return instanceSample({ id, cpuLimitMillicores: share === null ? null : 100, throttling: share === null ? null : throttling });
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
    const samples = [
      sample(now - 1000, [instance('api-1', 0.5), instance('api-2', null)]),
      sample(now, [instance('api-1', 1), instance('api-2', null)]),
    ];
    const { rows } = buildRows(samples, 60, now);
    expect(rows.map((r) => r.throttled['api-1'])).toEqual([50, 100]);
    expect(rows.every((r) => r.throttled['api-2'] === null)).toBe(true);
  });
});
