import type { DataSample, DataSpec, Instance, PoolSample } from '../../contract.js';
import { DataProbe, StandbyProbe, type PartitionRows, type PrimaryDataFigures, type StandbyFigures } from './data-probe.js';
import { perSecond, type DeltaTracker } from './deltas.js';
import type { RedisProbe } from './redis-probe.js';
import type { ReplicaFigures } from './replica-metrics.js';
import type { StreamFigures } from './stream-probe.js';
import { attempt, within } from './time-box.js';
import type { TelemetrySource } from './telemetry.js';

/** The patterns telemetry reads; `partitions` undefined means "ask the database". */
export interface DataPatterns {
  readReplica: boolean;
  events: boolean;
  partitions: number | undefined;
}

/** What one tick read of the data layer, before it becomes {@link DataSample}. */
export interface DataReadings {
  patterns: DataPatterns;
  primary: PrimaryDataFigures | undefined;
  /** Whether the replica could be asked at all (its URL is known). */
  standbyReachable: boolean;
  standby: StandbyFigures | undefined;
  stream: StreamFigures | undefined;
  partitions: PartitionRows | null | undefined;
}

/** Options of {@link DataSampler}. */
export interface DataSamplerOptions {
  /** How often the partitions' rows are counted. @defaultValue 5000 */
  partitionsEveryMs?: number;
}

/** Delta keys of the stream, dropped with the Redis they were read from. */
export const STREAM_KEY_PREFIX = 'stream:';

/** A PostgreSQL instance other than the primary: the read replica, as the runtime lists it. */
const isStandby = (i: Instance) => i.service === 'postgres' && i.id !== 'postgres';

/**
 * The patterns of the source's spec. Without one: a replica where a URL or the runtime's instances
 * say so, events on (the spec's default), partitions as the database has them.
 */
export function patternsOf(spec: DataSpec | undefined, replicaUrl: string | undefined, instances: Instance[]): DataPatterns {
  if (spec) return { readReplica: spec.readReplica, events: spec.events, partitions: spec.partitions };
  return { readReplica: replicaUrl !== undefined || instances.some(isStandby), events: true, partitions: undefined };
}

const round = (n: number) => Math.round(n * 1000) / 1000;

/**
 * How far the replica trails, in seconds. No WAL left to replay is no lag (replay_lag keeps its
 * last measure for a while after an idle replica caught up, then turns NULL). With WAL pending
 * and no measure yet (the first commits after a quiet spell), an apply delay in force bounds it:
 * the time since the last commit the replica replayed, at most the delay.
 */
export function replicaLagSeconds(lagBytes: number | null, replayLag: number | null, standby: StandbyFigures | undefined): number | null {
  if (lagBytes === 0) return 0;
  if (replayLag !== null) return replayLag;
  if (standby && standby.applyDelayMs > 0 && standby.sinceReplayS !== null)
    return Math.max(0, Math.min(standby.sinceReplayS, standby.applyDelayMs / 1000));
  return null;
}

/** api-2 before api-10. */
function byInstance(a: string, b: string): number {
  const na = Number(/(\d+)$/.exec(a)?.[1] ?? NaN);
  const nb = Number(/(\d+)$/.exec(b)?.[1] ?? NaN);
  const pa = a.replace(/\d+$/, '');
  const pb = b.replace(/\d+$/, '');
  return pa.localeCompare(pb) || (Number.isNaN(na) || Number.isNaN(nb) ? a.localeCompare(b) : na - nb);
}

/**
 * The data-layer part of each sample: reads and pools from the api replicas' scrapes, replication
 * and the outbox from the primary, the replica's own state, the event stream from Redis, and the
 * partitions' rows. Every source is time-boxed on its own; a source that does not answer keeps
 * its last figures (a gauge) or reads as unknown (null), never as a stalled tick.
 */
export class DataSampler {
  private primary: DataProbe | undefined;
  private standby: StandbyProbe | undefined;
  private closed = false;
  /** Last figures of sources that may miss a tick: shown again rather than dropping to 0. */
  private last: { length: number; pending: number; backlog: number; freshnessS: number | null; applyDelayMs: number } = {
    length: 0,
    pending: 0,
    backlog: 0,
    freshnessS: null,
    applyDelayMs: 0,
  };

  constructor(
    private readonly source: TelemetrySource,
    private readonly budgetMs: number,
    private readonly storeTimeoutMs: number,
    private readonly options: DataSamplerOptions = {},
  ) {}

  /** Reads every data-layer source of one tick; never throws. */
  async read(redis: RedisProbe | undefined, databaseUrl: string | undefined, instances: Instance[]): Promise<DataReadings> {
    const replicaUrl = this.closed ? undefined : attempt(() => this.source.replicaUrl?.(), undefined);
    const patterns = patternsOf(
      attempt(() => this.source.dataSpec?.(), undefined),
      replicaUrl,
      instances,
    );
    const primary = this.primaryProbe(this.closed ? undefined : databaseUrl);
    const standby = this.standbyProbe(patterns.readReplica ? replicaUrl : undefined);
    const countPartitions = primary && patterns.partitions !== 0;
    const [primaryFigures, standbyFigures, stream, partitions] = await Promise.all([
      primary && (patterns.readReplica || patterns.events)
        ? within(() => primary.read({ replication: patterns.readReplica, events: patterns.events }), this.budgetMs, undefined)
        : undefined,
      standby ? within(() => standby.read(), this.budgetMs, undefined) : undefined,
      redis && patterns.events ? within(() => redis.stream(), this.budgetMs, undefined) : undefined,
      countPartitions ? within(() => primary.partitions(), this.budgetMs, undefined) : undefined,
    ]);
    return { patterns, primary: primaryFigures, standbyReachable: standby !== undefined, standby: standbyFigures, stream, partitions };
  }

  private primaryProbe(url: string | undefined): DataProbe | undefined {
    if (this.primary?.url !== url) {
      void this.primary?.close();
      this.primary = url
        ? new DataProbe(url, { timeoutMs: this.storeTimeoutMs, partitionsEveryMs: this.options.partitionsEveryMs })
        : undefined;
    }
    return this.primary;
  }

  private standbyProbe(url: string | undefined): StandbyProbe | undefined {
    if (this.standby?.url !== url) {
      void this.standby?.close();
      this.standby = url ? new StandbyProbe(url, { timeoutMs: this.storeTimeoutMs }) : undefined;
    }
    return this.standby;
  }

  /**
   * The tick's {@link DataSample}. Counters go through the collector's `deltas` (the same tick), so
   * a replica that restarted or a stream that was recreated is a reset, not a negative rate.
   */
  toSample(r: DataReadings, deltas: DeltaTracker, t: number, instances: Instance[], scrapes: Map<string, ReplicaFigures>): DataSample {
    let primaryPerSec = 0;
    let replicaPerSec = 0;
    let fallbacksPerSec = 0;
    const pools: PoolSample[] = [];
    for (const instance of [...instances].sort((a, b) => byInstance(a.id, b.id))) {
      const scrape = scrapes.get(instance.id);
      if (instance.service !== 'api' || !scrape) continue;
      const rate = (name: string, value: number | undefined) =>
        value === undefined ? 0 : perSecond(deltas.observe(`${instance.id}:${name}`, value, t, instance.startedAt));
      primaryPerSec += rate('reads-primary', scrape.readsPrimary);
      replicaPerSec += rate('reads-replica', scrape.readsReplica);
      fallbacksPerSec += rate('replica-fallbacks', scrape.replicaFallbacks);
      for (const p of scrape.pools)
        pools.push({
          instance: instance.id,
          pool: p.pool,
          used: Math.max(0, p.total - p.idle),
          idle: p.idle,
          waiting: p.waiting,
          max: p.max,
        });
    }
    return {
      reads: { primaryPerSec: round(primaryPerSec), replicaPerSec: round(replicaPerSec), fallbacksPerSec: round(fallbacksPerSec) },
      replica: r.patterns.readReplica ? this.replicaOf(r, instances) : null,
      pools,
      stream: r.patterns.events ? this.streamOf(r, deltas, t) : null,
      partitions: this.partitionsOf(r),
    };
  }

  private replicaOf(r: DataReadings, instances: Instance[]): NonNullable<DataSample['replica']> {
    // Out of reach (inside a cluster): up is what the runtime says of its instance.
    const up = r.standbyReachable ? r.standby !== undefined : instances.some((i) => isStandby(i) && i.phase === 'ready');
    if (r.standby) this.last.applyDelayMs = r.standby.applyDelayMs;
    const lagBytes = r.primary?.replication?.lagBytes ?? null;
    const lagSeconds = replicaLagSeconds(lagBytes, r.primary?.replication?.lagSeconds ?? null, r.standby);
    return { up, lagBytes, lagSeconds: lagSeconds === null ? null : round(lagSeconds), applyDelayMs: this.last.applyDelayMs };
  }

  private streamOf(r: DataReadings, deltas: DeltaTracker, t: number): NonNullable<DataSample['stream']> {
    const s = r.stream;
    let eventsPerSec = 0;
    if (s) {
      // Before Redis 7 there is no entries-added: the length's growth is the next best (trimming hides some).
      eventsPerSec =
        s.entriesAdded !== undefined
          ? perSecond(deltas.observe(`${STREAM_KEY_PREFIX}added`, s.entriesAdded, t))
          : perSecond(deltas.observe(`${STREAM_KEY_PREFIX}length`, s.length, t, undefined, true));
      this.last.length = s.length;
      this.last.pending = s.group?.pending ?? 0;
    }
    if (r.primary) {
      this.last.backlog = r.primary.outboxBacklog ?? 0;
      this.last.freshnessS = r.primary.freshnessS;
    }
    return {
      length: this.last.length,
      eventsPerSec: round(eventsPerSec),
      groupLag: s?.group?.lag ?? null,
      pending: this.last.pending,
      outboxBacklog: this.last.backlog,
      freshnessS: this.last.freshnessS,
    };
  }

  private partitionsOf(r: DataReadings): DataSample['partitions'] {
    if (r.patterns.partitions === 0) return null;
    if (r.partitions !== undefined) return r.partitions;
    // Partitioned by the spec, not counted yet: an empty list, not "not partitioned".
    return r.patterns.partitions === undefined ? null : [];
  }

  /** Closes the database connections. Safe to call twice. */
  async close(): Promise<void> {
    this.closed = true;
    const [primary, standby] = [this.primary, this.standby];
    this.primary = undefined;
    this.standby = undefined;
    await Promise.allSettled([primary?.close(), standby?.close()]);
  }
}
