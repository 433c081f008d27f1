import type { Sample, TimelineEvent } from '../../../electron/contract.js';
import { byReplica } from '../../ui/format.js';

/** One point of every chart: the charts share rows so they share one time axis. */
export interface ChartRow {
  t: number;
  rps: number;
  errors: number;
  /** The load generator's offered and achieved requests/s; null when no run is going. */
  offered: number | null;
  achieved: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  /** Percent. */
  hitRate: number | null;
  waiting: number;
  active: number;
  jobsPerSec: number;
  api: number;
  apiReady: number;
  worker: number;
  /** cpu % by instance id. */
  cpu: Record<string, number | null>;
  /** % of CFS periods throttled by instance id; null where it has no cpu limit (or no reading). */
  throttled: Record<string, number | null>;
}

/** Most points a chart draws: one per 2 px of a 400 px wide chart, about what the eye resolves. */
export const MAX_POINTS = 200;

function mean(values: (number | null)[]): number | null {
  let sum = 0;
  let n = 0;
  for (const v of values) {
    if (v === null || Number.isNaN(v)) continue;
    sum += v;
    n += 1;
  }
  return n === 0 ? null : sum / n;
}

function max(values: (number | null)[]): number | null {
  let best: number | null = null;
  for (const v of values) if (v !== null && (best === null || v > best)) best = v;
  return best;
}

/** Rows of buckets already built, by bucket start. */
const rowCache = new Map<number, { row: ChartRow; count: number; bucketMs: number; ids: number; last: Sample }>();

/** One bucket's row (see {@link buildRows}). */
function rowOf(bucket: Sample[], ids: Set<string>): ChartRow {
  const last = bucket.at(-1)!;
  // One pass over the bucket's instances (not a search per id): 20 replicas × 1800 samples.
  const sums = new Map<string, { sum: number; n: number }>();
  const throttledSums = new Map<string, { sum: number; n: number }>();
  const add = (into: Map<string, { sum: number; n: number }>, id: string, value: number) => {
    const acc = into.get(id);
    if (acc) {
      acc.sum += value;
      acc.n += 1;
    } else into.set(id, { sum: value, n: 1 });
  };
  for (const s of bucket) {
    for (const i of s.instances) {
      if (i.service !== 'api' && i.service !== 'worker') continue;
      if (i.cpu !== null) add(sums, i.id, i.cpu);
      const share = i.throttling?.throttledShare;
      if (share != null) add(throttledSums, i.id, share * 100);
    }
  }
  const cpu: Record<string, number | null> = {};
  const throttled: Record<string, number | null> = {};
  for (const id of ids) {
    const acc = sums.get(id);
    cpu[id] = acc ? acc.sum / acc.n : null;
    const t = throttledSums.get(id);
    throttled[id] = t ? t.sum / t.n : null;
  }
  const hit = mean(bucket.map((s) => s.cache.hitRate));
  // Between runs the lines break rather than lie flat at zero.
  const generator = bucket.map((s) => (s.generator?.running ? s.generator : null));
  return {
    t: last.t,
    rps: mean(bucket.map((s) => s.traffic.rps)) ?? 0,
    errors: mean(bucket.map((s) => s.traffic.errorsPerSec + s.traffic.proxyErrorsPerSec)) ?? 0,
    offered: mean(generator.map((g) => g?.offeredRps ?? null)),
    achieved: mean(generator.map((g) => g?.achievedRps ?? null)),
    p50: max(bucket.map((s) => s.traffic.p50)),
    p95: max(bucket.map((s) => s.traffic.p95)),
    p99: max(bucket.map((s) => s.traffic.p99)),
    hitRate: hit === null ? null : hit * 100,
    waiting: last.queue.waiting,
    active: last.queue.active,
    jobsPerSec: mean(bucket.map((s) => s.queue.completedPerSec)) ?? 0,
    api: last.replicas.api,
    apiReady: last.replicas.apiReady,
    worker: last.replicas.worker,
    cpu,
    throttled,
  };
}

/**
 * The rows for a window ending at `now`: samples older than the window are dropped and the rest
 * averaged into at most {@link MAX_POINTS} buckets (latency takes the bucket's maximum, so a
 * spike is never averaged away). Keeps 30 minutes × 20 replicas cheap to draw every second.
 */
export function buildRows(
  samples: Sample[],
  windowSeconds: number,
  now: number,
  maxPoints = MAX_POINTS,
): { rows: ChartRow[]; instances: string[] } {
  const from = now - windowSeconds * 1000;
  let start = samples.length;
  while (start > 0 && samples[start - 1]!.t >= from) start -= 1;
  const inWindow = samples.slice(start);
  const bucketMs = Math.max(1000, Math.ceil((windowSeconds * 1000) / maxPoints));
  const ids = new Set<string>();
  const buckets = new Map<number, Sample[]>();
  for (const sample of inWindow) {
    const key = Math.floor(sample.t / bucketMs) * bucketMs;
    const bucket = buckets.get(key);
    if (bucket) bucket.push(sample);
    else buckets.set(key, [sample]);
    for (const instance of sample.instances) if (instance.service === 'api' || instance.service === 'worker') ids.add(instance.id);
  }
  const rows: ChartRow[] = [];
  for (const [key, bucket] of buckets) {
    // A closed bucket never changes: only the newest one is rebuilt each second.
    const cached = rowCache.get(key);
    if (
      cached &&
      cached.count === bucket.length &&
      cached.bucketMs === bucketMs &&
      cached.ids === ids.size &&
      cached.last === bucket.at(-1)
    ) {
      rows.push(cached.row);
      continue;
    }
    const row = rowOf(bucket, ids);
    rowCache.set(key, { row, count: bucket.length, bucketMs, ids: ids.size, last: bucket.at(-1)! });
    rows.push(row);
  }
  // Forget buckets that left every window.
  if (rowCache.size > 4 * maxPoints) for (const key of rowCache.keys()) if (!buckets.has(key)) rowCache.delete(key);
  return { rows, instances: [...ids].sort(byReplica) };
}

/**
 * Events drawn as marks on every chart: inside the window, newest 40. Lifecycle news that is only
 * news (a replica ready) and the autoscaler's "held at" (said each time its reason changes) stay
 * in the Events list: a chart marks what changed the stack.
 */
export function eventMarks(events: TimelineEvent[], windowSeconds: number, now: number): TimelineEvent[] {
  const from = now - windowSeconds * 1000;
  const marks: TimelineEvent[] = [];
  for (let i = events.length - 1; i >= 0 && marks.length < 40; i -= 1) {
    const event = events[i]!;
    if (event.t < from) break;
    if (event.kind === 'lifecycle' && event.level === 'info') continue;
    if (event.kind === 'autoscaler' && / held at \d+/.test(event.message)) continue;
    marks.push(event);
  }
  return marks;
}

/** Longest mark label, in characters; the whole message is in the mark's tooltip and the Events list. */
export const MARK_LABEL_CHARS = 18;

/**
 * A mark's label, a few words a room reads at a glance: "kill api-2", "redis back",
 * "HPA api 2→4", "scale api 2→4", "api-1 exited".
 */
export function markLabel(event: TimelineEvent): string {
  let text = event.message;
  const decision = /^(api|worker) (\d+) → (\d+):/.exec(text);
  if (event.kind === 'autoscaler' && decision) text = `HPA ${decision[1]} ${decision[2]}→${decision[3]}`;
  else {
    text = text
      .replace(/^monkey killed /, 'kill ')
      .replace(/^scaling /, 'scale ')
      .replace(/^the /, '')
      .replace(/ is back$/, ' back')
      .replace(/ → /g, '→')
      .split(/[:;(]/)[0]!
      .trim();
  }
  return text.length > MARK_LABEL_CHARS ? `${text.slice(0, MARK_LABEL_CHARS - 1).trimEnd()}…` : text;
}

/** A mark's colour: its kind's, except a recovery, which is green beside the red of what broke. */
export function markTone(event: TimelineEvent): TimelineEvent['kind'] | 'recovered' {
  if (event.kind === 'chaos' && event.level === 'info' && /\b(back|ended|runs again|cleared)\b/.test(event.message)) return 'recovered';
  return event.kind;
}
