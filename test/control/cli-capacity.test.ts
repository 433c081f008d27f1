import { describe, expect, it } from 'vitest';
import { baselinesText, capacityRequest, capacityTable, CapacityUsageError, stepLine } from '../../electron/cli-capacity.js';
import { capacityDeltas, deltaText } from '../../electron/capacity-law.js';
import type { CapacityResult, CapacityStep } from '../../electron/contract.js';
import { curveOf, idleStatus } from '../../electron/control/capacity/curve.js';

const step = (replicas: number, targetRps: number, verdict: CapacityStep['verdict']): CapacityStep => ({
  replicas,
  phase: 'ramp',
  targetRps,
  offeredRps: targetRps,
  achievedRps: targetRps,
  requests: targetRps * 10,
  p99Ms: verdict === 'pass' ? 12 : 80,
  errorPercent: 0,
  dropped: 0,
  verdict,
  reason: verdict === 'pass' ? 'p99 12 ms, errors 0 %' : 'p99 80 ms ≥ 50 ms',
  durationS: 10,
  telemetry: null,
  t: 0,
});
const result = (replicas: number, capacityRps: number): CapacityResult => ({
  replicas,
  capacityRps,
  outcome: 'found',
  upperRps: capacityRps + 10,
  steps: [step(replicas, capacityRps, 'pass'), step(replicas, capacityRps + 10, 'fail')],
  limit: { resource: 'api-cpu', evidence: `api cpu throttled in 60 % of periods at ${capacityRps + 10} req/s` },
});

describe('scalelab capacity', () => {
  it('turns its options into a capacity:run payload', () => {
    expect(
      capacityRequest({ replicas: '1, 2,4', p99: '80ms', errors: '0.5', step: '5s', 'min-rps': '20', mix: 'read=100', uniform: true }),
    ).toEqual({
      replicas: [1, 2, 4],
      slo: { p99Ms: 80, errorPercent: 0.5 },
      stepS: 5,
      minRps: 20,
      mix: { read: 100, write: 0, list: 0, missing: 0, sendEmail: 0 },
      keys: { distribution: 'uniform' },
    });
    expect(capacityRequest({})).toEqual({ keys: { distribution: 'zipf', s: 1.1 } });
  });

  it('refuses what it cannot run, saying what it takes', () => {
    expect(() => capacityRequest({ replicas: '1,0' })).toThrow(CapacityUsageError);
    expect(() => capacityRequest({ replicas: 'two' })).toThrow(/comma separated, e.g. 1,2,4/);
    expect(() => capacityRequest({ p99: 'fast' })).toThrow(/--p99 must be a number/);
    expect(() => capacityRequest({ step: '0.5s' })).toThrow(/--step must be from 1s/);
    expect(() => capacityRequest({ step: 'soon' })).toThrow(/--step must look like/);
    expect(() => capacityRequest({ errors: '101' })).toThrow(/--errors is a percentage/);
  });

  it('prints each step and the curve with the fitted law, from the same curve the panel reads', () => {
    const results = [result(1, 100), result(2, 190), result(4, 340)];
    const status = { ...idleStatus({ p99Ms: 50, errorPercent: 0.1 }, 10, [1, 2, 4]), state: 'done' as const, results, ...curveOf(results) };
    const table = capacityTable(status);
    expect(table).toMatch(/^ {2}replicas +capacity +efficiency +outcome +limit at the knee$/m);
    expect(table).toMatch(/^ {2}4 +340 req\/s +0\.85 +found +api cpu: api cpu throttled in 60 % of periods at 350 req\/s$/m);
    expect(table).toMatch(
      /λ \d+\.\d req\/s per replica, σ \(contention\) 0\.\d{4}, κ \(coherency\) [\d.]+, R² (0\.9\d\d|1\.000), peak at N\* = 17\.5/,
    );
    expect(stepLine(results[0]!.steps[1]!, 2)).toBe(
      '[api 1] step  2  ramp      110 req/s  fail    p99 80 ms ≥ 50 ms  (achieved 110 req/s)',
    );
    const unfitted = capacityTable({ ...status, results: [results[0]!], ...curveOf([results[0]!]) });
    expect(unfitted).toMatch(/not fitted \(need capacities at 2 or more replica counts, got 1\)/);
  });

  it('compares with a baseline: the change at each count, in one column the panel and the report read too', () => {
    const before = [result(1, 100), result(2, 190), result(4, 340)];
    const after = [result(1, 100), result(2, 171), result(4, 279)];
    const then = curveOf(before);
    const baseline = {
      name: 'before-pool',
      savedAt: Date.UTC(2026, 11, 7, 1, 30),
      stack: 'default',
      apiCpu: '100m',
      slo: { p99Ms: 50, errorPercent: 0.1 },
      stepS: 10,
      curve: then.curve,
      fit: then.fit,
      results: before,
      startedAt: 0,
      endedAt: 1,
    };
    const status = {
      ...idleStatus({ p99Ms: 50, errorPercent: 0.1 }, 10, [1, 2, 4]),
      state: 'done' as const,
      results: after,
      ...curveOf(after),
      baseline,
    };
    const deltas = capacityDeltas(status.curve, baseline.curve);
    expect(deltas.map((d) => d.deltaPercent)).toEqual([0, -10, -17.9]);
    expect(deltas.map(deltaText)).toEqual(['±0 %', '−10 %', '−17.9 %']);
    // A count measured on one side only has no change.
    expect(
      capacityDeltas(curveOf([result(1, 100), result(8, 500)]).curve, baseline.curve).map((d) => `${d.replicas}:${deltaText(d)}`),
    ).toEqual(['1:±0 %', '2:–', '4:–', '8:–']);
    const table = capacityTable(status);
    expect(table).toMatch(/^ {2}replicas +capacity +"before-pool" +change +efficiency +outcome +limit at the knee$/m);
    expect(table).toMatch(/^ {2}4 +279 req\/s +340 req\/s +−17\.9 % +0\.70 +found/m);
    expect(table).toMatch(/baseline "before-pool" \(saved 2026-12-07 01:30 UTC, api 100m\): λ [\d.]+ req\/s/);
    expect(capacityRequest({ compare: 'before-pool' })).toMatchObject({ compare: 'before-pool' });
    expect(() => capacityRequest({ compare: '../etc/passwd' })).toThrow(/--compare takes a baseline name/);
  });

  it('lists the saved baselines, or says how to save one', () => {
    expect(baselinesText([])).toMatch(/No capacity baselines saved yet: scalelab capacity --replicas 1,2,4 --save NAME/);
    const text = baselinesText([
      {
        name: 'before-pool',
        savedAt: Date.UTC(2026, 11, 7, 1, 30),
        stack: 'default',
        apiCpu: '100m',
        points: [
          { replicas: 1, capacityRps: 25 },
          { replicas: 4, capacityRps: null },
        ],
      },
    ]);
    expect(text).toMatch(/^ {2}before-pool +2026-12-07 01:30 UTC {2}default \(api 100m\) {2}1: 25, 4: – req\/s$/m);
  });
});
