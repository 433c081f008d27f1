import type { Sample } from '../../../electron/contract.js';
import { MAX_POINTS } from '../../ui/chart/chart-data.js';

/** One point of the Data layer panel's charts (they share rows, so they share one time axis). */
export interface DataRow {
  t: number;
  /** Replication lag; null while no replica runs or it is down. */
  lagSeconds: number | null;
  lagKiB: number | null;
  readsPrimary: number | null;
  readsReplica: number | null;
  readFallbacks: number | null;
  /** Consumer-group lag, entries; null while events are off or it is unknown. */
  groupLag: number | null;
  outboxBacklog: number | null;
  freshnessS: number | null;
  eventsPerSec: number | null;
}

function mean(values: (number | null | undefined)[]): number | null {
  let sum = 0;
  let n = 0;
  for (const v of values) {
    if (v === null || v === undefined || Number.isNaN(v)) continue;
    sum += v;
    n += 1;
  }
  return n === 0 ? null : sum / n;
}

function max(values: (number | null | undefined)[]): number | null {
  let best: number | null = null;
  for (const v of values) if (v !== null && v !== undefined && !Number.isNaN(v) && (best === null || v > best)) best = v;
  return best;
}

/** One bucket's row: rates averaged, lags and backlogs at their bucket maximum (a spike is never averaged away). */
function rowOf(bucket: Sample[]): DataRow {
  const data = bucket.map((s) => s.data);
  const replica = data.map((d) => (d?.replica?.up ? d.replica : null));
  const stream = data.map((d) => d?.stream ?? null);
  const lagBytes = max(replica.map((r) => r?.lagBytes));
  return {
    t: bucket.at(-1)!.t,
    lagSeconds: max(replica.map((r) => r?.lagSeconds)),
    lagKiB: lagBytes === null ? null : lagBytes / 1024,
    readsPrimary: mean(data.map((d) => d?.reads.primaryPerSec)),
    readsReplica: mean(data.map((d) => d?.reads.replicaPerSec)),
    readFallbacks: mean(data.map((d) => d?.reads.fallbacksPerSec)),
    groupLag: max(stream.map((s) => s?.groupLag)),
    outboxBacklog: max(stream.map((s) => s?.outboxBacklog)),
    freshnessS: max(stream.map((s) => s?.freshnessS)),
    eventsPerSec: mean(stream.map((s) => s?.eventsPerSec)),
  };
}

/** Rows of buckets already built, by bucket start: a closed bucket never changes. */
const rowCache = new Map<number, { row: DataRow; count: number; bucketMs: number; last: Sample }>();

/**
 * The rows for a window ending at `now`, averaged into at most {@link MAX_POINTS} buckets like
 * the Metrics charts (and with the same bucket bounds, so both panels' lines line up).
 */
export function buildDataRows(samples: Sample[], windowSeconds: number, now: number, maxPoints = MAX_POINTS): DataRow[] {
  const from = now - windowSeconds * 1000;
  let start = samples.length;
  while (start > 0 && samples[start - 1]!.t >= from) start -= 1;
  const bucketMs = Math.max(1000, Math.ceil((windowSeconds * 1000) / maxPoints));
  const buckets = new Map<number, Sample[]>();
  for (let i = start; i < samples.length; i += 1) {
    const sample = samples[i]!;
    const key = Math.floor(sample.t / bucketMs) * bucketMs;
    const bucket = buckets.get(key);
    if (bucket) bucket.push(sample);
    else buckets.set(key, [sample]);
  }
  const rows: DataRow[] = [];
  for (const [key, bucket] of buckets) {
    const cached = rowCache.get(key);
    if (cached && cached.count === bucket.length && cached.bucketMs === bucketMs && cached.last === bucket.at(-1)) {
      rows.push(cached.row);
      continue;
    }
    const row = rowOf(bucket);
    rowCache.set(key, { row, count: bucket.length, bucketMs, last: bucket.at(-1)! });
    rows.push(row);
  }
  if (rowCache.size > 4 * maxPoints) for (const key of rowCache.keys()) if (!buckets.has(key)) rowCache.delete(key);
  return rows;
}
