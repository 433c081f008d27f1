import type { CpuThrottling } from '../../contract.js';
import type { CpuCounters } from '../runtimes/runtime.js';
import type { DeltaTracker } from './deltas.js';

/**
 * One instance's throttling over the last interval, from its CFS counters (totals since its group
 * was made; a restart makes a new group, so its start time is the counters' epoch). Null when it
 * has no counters: no cpu limit, or a platform that does not expose them.
 */
export function throttlingOf(
  deltas: DeltaTracker,
  id: string,
  counters: CpuCounters | undefined,
  t: number,
  epoch: number,
): CpuThrottling | null {
  if (!counters) return null;
  const periods = deltas.observe(`${id}:cfs_periods`, counters.periods, t, epoch);
  const throttled = deltas.observe(`${id}:cfs_throttled`, counters.throttledPeriods, t, epoch);
  const seconds = deltas.observe(`${id}:cfs_throttled_seconds`, counters.throttledSeconds, t, epoch);
  // No period with runnable threads in the interval: nothing to throttle, so none throttled.
  const share = periods && throttled ? (periods.delta > 0 ? Math.min(1, throttled.delta / periods.delta) : 0) : null;
  return {
    throttledShare: share === null ? null : round(share),
    throttledSecondsPerSec: seconds ? round(seconds.delta / (seconds.ms / 1000)) : null,
    periodsTotal: counters.periods,
    throttledPeriodsTotal: counters.throttledPeriods,
    throttledSecondsTotal: round(counters.throttledSeconds),
  };
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
