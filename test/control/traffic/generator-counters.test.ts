import * as hdr from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import {
  LATENCY_BUCKETS,
  SharedCounts,
  bucketTop,
  latencyBucket,
  percentilesBetween,
} from '../../../electron/control/traffic/generator-counters.js';

describe("the generator's shared latency buckets", () => {
  it('put every latency in the one bucket whose range holds it, at most 1/64 of its value wide', () => {
    for (const micros of [0, 1, 63, 64, 65, 127, 128, 1_000, 12_345, 999_999, 2_000_000, 2 ** 31 - 1]) {
      const i = latencyBucket(micros);
      expect(i).toBeLessThan(LATENCY_BUCKETS);
      expect(bucketTop(i)).toBeGreaterThanOrEqual(micros);
      if (i > 0) expect(bucketTop(i - 1)).toBeLessThan(micros);
      expect(bucketTop(i) - micros).toBeLessThanOrEqual(micros / 64);
    }
  });

  it('give the percentiles of what completed between two readings, as HdrHistogram does within 1.6 %', () => {
    const counts = new SharedCounts();
    const reference = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
    // Before the interval: slow requests that must not count in it.
    for (let i = 0; i < 1_000; i += 1) counts.record(500_000);
    const before = counts.read().latency;
    let seed = 7;
    const random = () => (seed = (seed * 16_807) % 2_147_483_647) / 2_147_483_647;
    for (let i = 0; i < 20_000; i += 1) {
      const micros = Math.round(200 + 30_000 * random() ** 4);
      counts.record(micros);
      reference.recordValue(micros);
    }
    const got = percentilesBetween(before, counts.read().latency);
    for (const [key, q] of [
      ['p50', 50],
      ['p95', 95],
      ['p99', 99],
    ] as const) {
      const want = reference.getValueAtPercentile(q) / 1000;
      expect(Math.abs(got[key]! - want) / want, key).toBeLessThan(0.016);
    }
    expect(got.p99).toBeLessThan(31);
    expect(percentilesBetween(counts.read().latency, counts.read().latency)).toEqual({ p50: null, p95: null, p99: null });
    reference.destroy();
  });
});
