import type { TrafficErrors } from '../../traffic-spec.js';

/** The generator's running totals, summed over its threads, as they stand right now. */
export interface GeneratorCounts {
  scheduled: number;
  completed: number;
  dropped: number;
  errors: TrafficErrors;
  /** Completed requests by latency bucket ({@link latencyBucket}), running totals. */
  latency: readonly number[];
}

const FIELDS = ['scheduled', 'completed', 'dropped', 'timeout', 'refused', 'http4xx', 'http5xx'] as const;
/** One running total of the generator's threads. */
export type CountedField = (typeof FIELDS)[number];

/**
 * Latency buckets in µs, log-linear like HdrHistogram's: exact below 64 µs, then 64 buckets per
 * power of two, so a bucket is at most 1/64 of its value wide (1.6 %); up to 2^31 µs (35 min).
 */
const SUB_BITS = 6;
const SUB = 1 << SUB_BITS;
/** How many latency buckets {@link SharedCounts} keeps. */
export const LATENCY_BUCKETS = SUB + (31 - SUB_BITS) * SUB;

/** The bucket of a latency in µs. */
export function latencyBucket(micros: number): number {
  const v = Math.min(0x7fffffff, Math.max(0, Math.floor(micros)));
  if (v < SUB) return v;
  const e = 31 - Math.clz32(v);
  return SUB + (e - SUB_BITS) * SUB + ((v >>> (e - SUB_BITS)) - SUB);
}

/** The highest latency (µs) that falls in bucket `index`, as HdrHistogram reports a percentile. */
export function bucketTop(index: number): number {
  if (index < SUB) return index;
  const e = SUB_BITS + Math.floor((index - SUB) / SUB);
  const shift = e - SUB_BITS;
  return ((SUB + ((index - SUB) % SUB)) << shift) + (1 << shift) - 1;
}

/**
 * p50/p95/p99 (ms) of the requests completed between two readings of the same run's buckets;
 * null when none completed in between.
 */
export function percentilesBetween(
  before: readonly number[] | undefined,
  after: readonly number[],
): { p50: number | null; p95: number | null; p99: number | null } {
  const counts = after.map((n, i) => n - (before?.[i] ?? 0));
  const total = counts.reduce((a, n) => a + n, 0);
  if (total <= 0) return { p50: null, p95: null, p99: null };
  const at = (q: number) => {
    const rank = Math.max(1, Math.ceil(q * total));
    let seen = 0;
    for (let i = 0; i < counts.length; i += 1) {
      seen += counts[i]!;
      if (seen >= rank) return bucketTop(i) / 1000;
    }
    return bucketTop(counts.length - 1) / 1000;
  };
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99) };
}

/**
 * Running totals every generator thread adds to as requests are scheduled and answered, in shared
 * memory, so the control plane reads them at the instant it reads the balancer's counters: both
 * rates, and the latency percentiles, then cover the same interval, where the threads' own
 * one-second reports do not.
 */
export class SharedCounts {
  private readonly cells: BigInt64Array;
  private readonly latency: Int32Array;

  constructor(
    readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(
      FIELDS.length * BigInt64Array.BYTES_PER_ELEMENT + LATENCY_BUCKETS * Int32Array.BYTES_PER_ELEMENT,
    ),
  ) {
    this.cells = new BigInt64Array(buffer, 0, FIELDS.length);
    this.latency = new Int32Array(buffer, FIELDS.length * BigInt64Array.BYTES_PER_ELEMENT, LATENCY_BUCKETS);
  }

  add(field: CountedField): void {
    Atomics.add(this.cells, FIELDS.indexOf(field), 1n);
  }

  /** Counts one completed request's latency (µs). */
  record(micros: number): void {
    Atomics.add(this.latency, latencyBucket(micros), 1);
  }

  read(): GeneratorCounts {
    const at = (field: CountedField) => Number(Atomics.load(this.cells, FIELDS.indexOf(field)));
    const latency = Array.from({ length: LATENCY_BUCKETS }, (_, i) => Atomics.load(this.latency, i));
    return {
      scheduled: at('scheduled'),
      completed: at('completed'),
      dropped: at('dropped'),
      errors: { timeout: at('timeout'), refused: at('refused'), http4xx: at('http4xx'), http5xx: at('http5xx') },
      latency,
    };
  }
}
