import type { Instance, InstanceSample, Sample } from '../../contract.js';
import type { BalancerSnapshot } from '../balancer/stats.js';
import { DataSampler, STREAM_KEY_PREFIX, type DataSamplerOptions } from './data-sample.js';
import { DbProbe } from './db-probe.js';
import { DeltaTracker, perSecond, type Delta } from './deltas.js';
import { RouteStats } from './route-metrics.js';
import { ProcessStats, type ProcessUsage } from './process-stats.js';
import { throttlingOf } from './cpu-throttle.js';
import type { CpuCounters } from '../runtimes/runtime.js';
import { RedisProbe, type RedisFigures } from './redis-probe.js';
import { scrapeReplica, type ReplicaFigures } from './replica-metrics.js';
import { attempt, within } from './time-box.js';
import { midpoint, round, type Readings } from './collector-readings.js';
import type { TelemetrySource } from './telemetry.js';
import { percentilesBetween } from '../traffic/generator-counters.js';
import type { TrafficSecond } from '../../traffic-spec.js';

/** Phases in which a replica can answer a scrape; the others would only spend the time box. */
const SCRAPABLE = new Set(['starting', 'ready', 'terminating']);
const NO_PERCENTILES = { p50: null, p95: null, p99: null };
const REDIS_DOWN: RedisFigures = { up: false, memoryBytes: null, keys: null, opsPerSec: null };

/** How long the balancer's counters are read alone before the other sources are asked. */
const BALANCER_HEAD_START_MS = 50;

/** The writes of a source that does not track them. */
const NO_WRITES: Sample['writes'] = { acknowledged: 0, verified: null, lost: null, lostIds: [], checkedAt: null };

const ready = (instances: Instance[], id: 'redis' | 'postgres') => instances.some((i) => i.id === id && i.phase === 'ready');

/**
 * Reads every source of one stack and turns the readings into a {@link Sample}. Each source is
 * time-boxed on its own and reads raw counters only; deltas are computed after all of them
 * settled, so a reading that arrives after its time box changes nothing.
 *
 * Every reading of a tick is dated at the tick's start, when all of them were asked for: dating a
 * slow scrape by when it finished would shrink the next interval and inflate its rates, so rates
 * would no longer add up to the counts between samples.
 */
export class Collector {
  private readonly processes = new ProcessStats();
  private readonly deltas = new DeltaTracker();
  /** The running generator's latency buckets at the last sample, for the percentiles of the next. */
  private latencyBefore: { since: number; latency: readonly number[] } | undefined;
  private readonly routes = new RouteStats();
  private redis: RedisProbe | undefined;
  private db: DbProbe | undefined;
  private readonly data: DataSampler;
  private closed = false;
  /** Balancer totals of the last snapshot, for the Prometheus exporter. */
  balancerTotals: BalancerSnapshot['totals'] | undefined;

  constructor(
    private readonly source: TelemetrySource,
    private readonly budgetMs: number,
    options: DataSamplerOptions = {},
  ) {
    this.data = new DataSampler(source, budgetMs, this.storeTimeoutMs, options);
  }

  /** Name of the stack being read. */
  get stack(): string {
    return attempt(() => this.source.stack, '');
  }

  /** Collects one sample. Never throws: a broken source shows as down or null. */
  async collect(): Promise<Sample> {
    return this.toSample(await this.read());
  }

  private async read(): Promise<Readings> {
    const t = Date.now();
    this.deltas.beginTick(t);
    const instances = attempt(() => this.source.instances(), []);
    // The generator's totals are read just before and just after the balancer's counters (a
    // separate process: HAProxy's runtime API); the balancer read its own between the two, and the
    // midpoint puts both on nearly the same instant, so both rates cover the same interval.
    const readGenerator = () => attempt(() => this.source.generatorCounts?.() ?? null, null);
    const generatorBefore = readGenerator();
    let generatorAfter: typeof generatorBefore = null;
    const snapshotRead = within(
      async () => {
        const snapshot = await this.source.takeBalancerSnapshot();
        generatorAfter = readGenerator();
        return snapshot;
      },
      this.budgetMs,
      undefined,
    );
    // A head start of a few ms, with nothing else in flight to lengthen that round trip; a slow
    // balancer only delays the other reads by the head start.
    await Promise.race([snapshotRead, new Promise((resolve) => setTimeout(resolve, BALANCER_HEAD_START_MS))]);
    const redis = this.redisProbe();
    const db = this.dbProbe();
    const pids = instances.flatMap((i) => (i.pid === undefined ? [] : [i.pid]));
    const throttling = this.source.throttling;
    const [usage, throttled, scrapes, redisFigures, queue, dbFigures, data] = await Promise.all([
      within(() => this.processes.read(pids), this.budgetMs, new Map<number, ProcessUsage>()),
      throttling ? within(() => throttling(), this.budgetMs, new Map<string, CpuCounters>()) : new Map<string, CpuCounters>(),
      this.scrapeAll(instances),
      // Out of reach (inside a cluster): up is what the runtime says of its pod.
      redis ? within(() => redis.info(), this.budgetMs, REDIS_DOWN) : { ...REDIS_DOWN, up: ready(instances, 'redis') },
      redis ? within(() => redis.queueCounts(), this.budgetMs, undefined) : undefined,
      db ? within(() => db.read(), this.budgetMs, undefined) : undefined,
      // Time-boxed source by source inside; it never throws.
      this.data.read(redis, db?.url, instances),
    ]);
    const runtimeUsage = attempt(() => this.source.usage?.(), undefined);
    const cpuLimits = attempt(() => this.source.cpuLimits?.(), undefined);
    const snapshot = await snapshotRead;
    const generatorCounts = snapshot ? midpoint(generatorBefore, generatorAfter) : generatorBefore;
    return {
      t,
      instances,
      snapshot,
      usage,
      runtimeUsage,
      throttling: throttled,
      cpuLimits,
      scrapes,
      redis: redisFigures,
      queue,
      db: dbFigures,
      dbReadyFromInstance: db ? undefined : ready(instances, 'postgres'),
      data,
      generatorCounts,
    };
  }

  private async scrapeAll(instances: Instance[]): Promise<Map<string, ReplicaFigures>> {
    const out = new Map<string, ReplicaFigures>();
    await Promise.all(
      instances.map(async (instance) => {
        if ((instance.service !== 'api' && instance.service !== 'worker') || !SCRAPABLE.has(instance.phase)) return;
        const url = attempt(() => this.source.metricsUrl(instance), undefined);
        if (!url) return;
        const figures = await within(() => scrapeReplica(url, this.budgetMs), this.budgetMs + 50, undefined);
        if (figures) out.set(instance.id, figures);
      }),
    );
    return out;
  }

  /** Connection and command timeout of Redis and PostgreSQL: inside the time box, so they end on their own. */
  private get storeTimeoutMs(): number {
    return Math.max(100, this.budgetMs - 100);
  }

  /** The Redis probe for the source's current URL: the runtime may move Redis between ticks. */
  private redisProbe(): RedisProbe | undefined {
    const url = this.closed ? undefined : attempt(() => this.source.redisUrl(), undefined);
    if (this.redis?.url !== url) {
      void this.redis?.close();
      this.redis = url ? new RedisProbe(url, { timeoutMs: this.storeTimeoutMs }) : undefined;
      // Another Redis has other counts: its first reading is a baseline, not a drop.
      this.deltas.retain((key) => !key.startsWith('queue:') && !key.startsWith(STREAM_KEY_PREFIX));
    }
    return this.redis;
  }

  private dbProbe(): DbProbe | undefined {
    const url = this.closed ? undefined : attempt(() => this.source.databaseUrl(), undefined);
    if (this.db?.url !== url) {
      void this.db?.close();
      this.db = url ? new DbProbe(url, { timeoutMs: this.storeTimeoutMs }) : undefined;
      this.deltas.retain((key) => !key.startsWith('db:'));
    }
    return this.db;
  }

  private toSample(r: Readings): Sample {
    const { snapshot } = r;
    if (snapshot) this.balancerTotals = snapshot.totals;
    const seconds = snapshot && snapshot.intervalMs > 0 ? snapshot.intervalMs / 1000 : 1;
    const rate = (n: number) => n / seconds;

    const live = new Set(r.instances.map((i) => i.id));
    this.deltas.retain(
      (key) =>
        key.startsWith('queue:') ||
        key.startsWith('db:') ||
        key.startsWith('generator:') ||
        key.startsWith(STREAM_KEY_PREFIX) ||
        live.has(key.slice(0, key.indexOf(':'))),
    );
    let hits = 0;
    let misses = 0;
    let hitsPerSec = 0;
    let missesPerSec = 0;
    let completedPerSec = 0;
    let failedPerSec = 0;
    let workerScraped = false;
    for (const instance of r.instances) {
      const scrape = r.scrapes.get(instance.id);
      if (!scrape) continue;
      const observe = (name: string, value: number | undefined): Delta | undefined =>
        value === undefined ? undefined : this.deltas.observe(`${instance.id}:${name}`, value, r.t, instance.startedAt);
      if (instance.service === 'api') {
        const h = observe('hits', scrape.cacheHits);
        const m = observe('misses', scrape.cacheMisses);
        hits += h?.delta ?? 0;
        misses += m?.delta ?? 0;
        hitsPerSec += perSecond(h);
        missesPerSec += perSecond(m);
      } else {
        workerScraped = true;
        completedPerSec += perSecond(observe('completed', scrape.jobsCompleted));
        failedPerSec += perSecond(observe('failed', scrape.jobsFailed));
      }
    }
    if (r.queue) {
      // Trimmed by removeOnComplete/removeOnFail, so a drop is not a reset here.
      const completed = this.deltas.observe('queue:completed', r.queue.completed, r.t, undefined, true);
      const failed = this.deltas.observe('queue:failed', r.queue.failed, r.t, undefined, true);
      if (!workerScraped) {
        completedPerSec = perSecond(completed);
        failedPerSec = perSecond(failed);
      }
    }
    const commits = r.db ? this.deltas.observe('db:commits', r.db.commits, r.t) : undefined;
    const rollbacks = r.db ? this.deltas.observe('db:rollbacks', r.db.rollbacks, r.t) : undefined;

    const instances = r.instances.map((instance) => this.instanceSample(instance, r, rate));
    const routes = this.routes.sample(
      r.instances.flatMap((i) =>
        i.service === 'api' && r.scrapes.has(i.id) ? [{ id: i.id, startedAt: i.startedAt, routes: r.scrapes.get(i.id)!.routes }] : [],
      ),
      this.deltas,
      r.t,
      seconds,
    );
    const api = r.instances.filter((i) => i.service === 'api');
    return {
      t: r.t,
      stack: this.stack,
      traffic: {
        rps: snapshot ? rate(snapshot.requests) : 0,
        errorsPerSec: snapshot ? rate(snapshot.status['5xx']) : 0,
        status: {
          '2xx': snapshot ? rate(snapshot.status['2xx']) : 0,
          '3xx': snapshot ? rate(snapshot.status['3xx']) : 0,
          '4xx': snapshot ? rate(snapshot.status['4xx']) : 0,
          '5xx': snapshot ? rate(snapshot.status['5xx']) : 0,
        },
        proxyErrorsPerSec: snapshot ? rate(snapshot.proxyErrors) : 0,
        inFlight: snapshot?.inFlight ?? 0,
        ...(snapshot?.latency ?? NO_PERCENTILES),
      },
      instances,
      replicas: {
        api: api.length,
        apiReady: api.filter((i) => i.phase === 'ready').length,
        worker: r.instances.filter((i) => i.service === 'worker').length,
      },
      cache: {
        ...r.redis,
        hitsPerSec: round(hitsPerSec),
        missesPerSec: round(missesPerSec),
        hitRate: hits + misses > 0 ? hits / (hits + misses) : null,
      },
      queue: {
        up: r.queue !== undefined,
        waiting: r.queue?.waiting ?? 0,
        active: r.queue?.active ?? 0,
        delayed: r.queue?.delayed ?? 0,
        failed: r.queue?.failed ?? 0,
        completedPerSec: round(completedPerSec),
        failedPerSec: round(failedPerSec),
      },
      db: {
        up: r.db !== undefined || r.dbReadyFromInstance === true,
        connections: r.db?.connections ?? null,
        commitsPerSec: r.db ? round(perSecond(commits)) : null,
        rollbacksPerSec: r.db ? round(perSecond(rollbacks)) : null,
      },
      autoscaler: attempt(() => this.source.autoscaler?.() ?? null, null),
      writes: attempt(() => this.source.writes?.() ?? NO_WRITES, NO_WRITES),
      chaos: attempt(() => this.source.chaos?.() ?? null, null),
      generator: this.generatorSample(r),
      data: this.data.toSample(r.data, this.deltas, r.t, r.instances, r.scrapes),
      cpuLimits: r.cpuLimits ?? null,
      routes,
    };
  }

  /**
   * The generator's last second, its rates and latency percentiles recomputed from its running
   * totals over this sample's interval — the balancer's — so the traffic panel and the balancer
   * count the same requests each second; the threads' own one-second windows start elsewhere, and
   * at 800 req/s a few requests either side of a boundary are ±2 %. Two samples that fell in the
   * same thread second would otherwise repeat its percentiles. Health stays the generator's own second's.
   */
  private generatorSample(r: Readings): TrafficSecond | null {
    const second = attempt(() => this.source.generator?.() ?? null, null);
    const live = r.generatorCounts;
    const latencyBefore = this.latencyBefore?.since === live?.since ? this.latencyBefore?.latency : undefined;
    this.latencyBefore = live ? { since: live.since, latency: live.counts.latency } : undefined;
    if (!live) return second;
    // Observed from the run's first tick on, before its first second, so every delta spans one interval.
    const seconds = r.snapshot && r.snapshot.intervalMs > 0 ? r.snapshot.intervalMs / 1000 : undefined;
    const observe = (name: string, value: number) => this.deltas.observe(`generator:${name}`, value, r.t, live.since);
    const { counts } = live;
    const deltas = {
      scheduled: observe('scheduled', counts.scheduled),
      completed: observe('completed', counts.completed),
      dropped: observe('dropped', counts.dropped),
      timeout: observe('timeout', counts.errors.timeout),
      refused: observe('refused', counts.errors.refused),
      http4xx: observe('http4xx', counts.errors.http4xx),
      http5xx: observe('http5xx', counts.errors.http5xx),
    };
    if (!second?.running) return second;
    const per = (d: Delta | undefined, own: number) => (d ? round(seconds ? d.delta / seconds : perSecond(d)) : own);
    const errors = second.errorsPerSec;
    return {
      ...second,
      ...percentilesBetween(latencyBefore, counts.latency),
      offeredRps: per(deltas.scheduled, second.offeredRps),
      achievedRps: per(deltas.completed, second.achievedRps),
      droppedPerSec: per(deltas.dropped, second.droppedPerSec),
      errorsPerSec: {
        timeout: per(deltas.timeout, errors.timeout),
        refused: per(deltas.refused, errors.refused),
        http4xx: per(deltas.http4xx, errors.http4xx),
        http5xx: per(deltas.http5xx, errors.http5xx),
      },
    };
  }

  private instanceSample(instance: Instance, r: Readings, rate: (n: number) => number): InstanceSample {
    const usage = r.runtimeUsage?.get(instance.id) ?? (instance.pid === undefined ? undefined : r.usage.get(instance.pid));
    const scraped = r.scrapes.get(instance.id);
    // Only api replicas sit behind the balancer; with no balancer their traffic is unknown.
    const upstream =
      instance.service === 'api' && r.snapshot
        ? (r.snapshot.upstreams[instance.id] ?? { requests: 0, errors: 0, inFlight: 0, latency: NO_PERCENTILES })
        : undefined;
    return {
      id: instance.id,
      service: instance.service,
      phase: instance.phase,
      ready: instance.phase === 'ready',
      restarts: instance.restarts,
      cpu: usage?.cpu ?? null,
      rssBytes: usage?.rssBytes ?? null,
      rps: upstream ? round(rate(upstream.requests)) : null,
      errorsPerSec: upstream ? round(rate(upstream.errors)) : null,
      inFlight: upstream?.inFlight ?? scraped?.inFlight ?? null,
      eventLoopLagMs: scraped?.eventLoopLagMs ?? null,
      cpuLimitMillicores: instance.service === 'api' || instance.service === 'worker' ? (r.cpuLimits?.[instance.service] ?? null) : null,
      throttling: throttlingOf(this.deltas, instance.id, r.throttling.get(instance.id), r.t, instance.startedAt),
      ...(upstream?.latency ?? NO_PERCENTILES),
    };
  }

  /** Closes the Redis and PostgreSQL connections, all of them even if one fails. Safe to call twice. */
  async close(): Promise<void> {
    this.closed = true;
    const [redis, db] = [this.redis, this.db];
    this.redis = undefined;
    this.db = undefined;
    await Promise.allSettled([redis?.close(), db?.close(), this.data.close()]);
  }
}
