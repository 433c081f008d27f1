/**
 * What one collection of the Collector (collector.ts) reads, and the stateless arithmetic on it:
 * the generator's totals between two readings, and the rounding of the rates in a Sample.
 */
import type { Instance } from '../../contract.js';
import type { CpuLimitStatus } from '../../stack-spec.js';
import type { BalancerSnapshot } from '../balancer/stats.js';
import type { CpuCounters } from '../runtimes/runtime.js';
import type { GeneratorCounts } from '../traffic/generator-counters.js';
import type { DataReadings } from './data-sample.js';
import type { DbFigures } from './db-probe.js';
import type { ProcessUsage } from './process-stats.js';
import type { QueueCounts, RedisFigures } from './redis-probe.js';
import type { ReplicaFigures } from './replica-metrics.js';

/** What one collection read, before it becomes a Sample. */
export interface Readings {
  t: number;
  instances: Instance[];
  snapshot: BalancerSnapshot | undefined;
  usage: Map<number, ProcessUsage>;
  /** Measured by the runtime (Docker's stats API), by instance id. */
  runtimeUsage: Map<string, ProcessUsage> | undefined;
  /** CFS counters of the cpu-limited instances, by instance id. */
  throttling: Map<string, CpuCounters>;
  cpuLimits: CpuLimitStatus | undefined;
  scrapes: Map<string, ReplicaFigures>;
  redis: RedisFigures;
  queue: QueueCounts | undefined;
  db: DbFigures | undefined;
  /**
   * Whether the database answers, from its instance's readiness, when the control plane cannot
   * reach it (inside a cluster); undefined when it was asked directly.
   */
  dbReadyFromInstance: boolean | undefined;
  data: DataReadings;
  /** The running traffic's totals, read right after the balancer's counters were asked for. */
  generatorCounts: { since: number; counts: GeneratorCounts } | null;
}

/** The generator's totals halfway between two readings of the same run (the first when they are of different runs). */
export function midpoint(before: Readings['generatorCounts'], after: Readings['generatorCounts']): Readings['generatorCounts'] {
  if (!before || !after || before.since !== after.since) return before;
  const mid = (a: number, b: number) => Math.round((a + b) / 2);
  const [a, b] = [before.counts, after.counts];
  return {
    since: before.since,
    counts: {
      scheduled: mid(a.scheduled, b.scheduled),
      completed: mid(a.completed, b.completed),
      dropped: mid(a.dropped, b.dropped),
      errors: {
        timeout: mid(a.errors.timeout, b.errors.timeout),
        refused: mid(a.errors.refused, b.errors.refused),
        http4xx: mid(a.errors.http4xx, b.errors.http4xx),
        http5xx: mid(a.errors.http5xx, b.errors.http5xx),
      },
      // Buckets are not halved: the reading after the balancer's, a few ms off its instant.
      latency: b.latency,
    },
  };
}

/** Rounds to three decimals. */
export function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
