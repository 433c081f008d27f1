/**
 * Whether the load generator, not the stack, was the limit: its figures are client-observed, and
 * a generator that fires late or drops requests understates what the stack can do. Kept apart so
 * the one rule is shared by each second and by the run's summary.
 */

/** Dropped requests above this share of those due mean the generator could not keep up. */
export const MAX_DROPPED_SHARE = 0.01;
/** Requests fired later than this (p99) against their scheduled times: the generator is late. */
export const MAX_LAG_P99_MS = 25;
/** A generator thread whose event loop is busier than this has no headroom left. */
export const MAX_THREAD_BUSY = 0.95;

/** What the verdict looks at. */
export interface HealthFigures {
  /** Requests due (scheduled) in the period. */
  scheduled: number;
  dropped: number;
  lagP99Ms: number | null;
  /** The busiest generator thread's event-loop utilization, 0..1. */
  busiestThread: number;
}

/** `generator` with why (e.g. "lag p99 120 ms, 3 % dropped"), or null when it kept up. */
export function generatorVerdict(f: HealthFigures): { limitedBy: 'generator' | null; limitReason: string | null } {
  const reasons: string[] = [];
  if (f.lagP99Ms !== null && f.lagP99Ms > MAX_LAG_P99_MS) reasons.push(`lag p99 ${Math.round(f.lagP99Ms)} ms`);
  const share = f.scheduled > 0 ? f.dropped / f.scheduled : 0;
  if (share > MAX_DROPPED_SHARE) reasons.push(`${Math.round(share * 100)} % dropped`);
  if (f.busiestThread > MAX_THREAD_BUSY) reasons.push(`a thread ${Math.round(f.busiestThread * 100)} % busy`);
  return reasons.length > 0 ? { limitedBy: 'generator', limitReason: reasons.join(', ') } : { limitedBy: null, limitReason: null };
}
