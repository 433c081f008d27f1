import { parsePrometheusText, sumSeries, type MetricFamily } from './prometheus-text.js';
import { routesOf, type ScrapedRoute } from './route-metrics.js';
import { NamedError } from '../../../backend/named-error.js';

/** One PostgreSQL pool of an api replica, as its `db_pool_connections` gauge reports it. */
export interface ScrapedPool {
  pool: 'primary' | 'replica';
  /** Connections open, idle among them, clients waiting for one, and the pool's size. */
  total: number;
  idle: number;
  waiting: number;
  max: number;
}

/** What telemetry takes from one api or worker replica's /metrics. */
export interface ReplicaFigures {
  /** `cache_hits_total` (api), or undefined when the replica does not serve it. */
  cacheHits?: number;
  cacheMisses?: number;
  /** `worker_jobs_total{outcome="completed"}`; 0 on a worker that has finished no job yet. */
  jobsCompleted: number;
  jobsFailed: number;
  eventLoopLagMs: number | null;
  inFlight: number | null;
  /** `db_reads_total` by target (api); undefined when the replica does not serve the series. */
  readsPrimary?: number;
  readsReplica?: number;
  /** `db_replica_fallbacks_total` (api): replica reads retried on the primary. */
  replicaFallbacks?: number;
  /** The `db_pool_connections` gauges, one entry per pool (api); empty when not served. */
  pools: ScrapedPool[];
  /** Requests and latency per method and route (api); empty on a worker. */
  routes: ScrapedRoute[];
}

/** Thrown when a replica answers /metrics with an HTTP error. */
export class ScrapeError extends NamedError {
  constructor(
    readonly url: string,
    readonly status: number,
  ) {
    super(`GET ${url} answered ${status}`);
  }
}

const POOL_STATES = ['total', 'idle', 'waiting', 'max'] as const;

/**
 * The pools of `db_pool_connections{pool,state}`. A series without a `pool` label is the primary's:
 * the api labelled its one pool by state only before it had a replica pool.
 */
export function poolsOf(families: Map<string, MetricFamily>): ScrapedPool[] {
  const family = families.get('db_pool_connections');
  if (!family) return [];
  const byPool = new Map<ScrapedPool['pool'], ScrapedPool>();
  for (const sample of family.samples) {
    if (sample.name !== 'db_pool_connections' || !Number.isFinite(sample.value)) continue;
    const pool =
      sample.labels.pool === 'replica'
        ? 'replica'
        : sample.labels.pool === undefined || sample.labels.pool === 'primary'
          ? 'primary'
          : undefined;
    const state = POOL_STATES.find((s) => s === sample.labels.state);
    if (!pool || !state) continue;
    let entry = byPool.get(pool);
    if (!entry) {
      entry = { pool, total: 0, idle: 0, waiting: 0, max: 0 };
      byPool.set(pool, entry);
    }
    entry[state] += sample.value;
  }
  return [...byPool.values()].sort((a, b) => (a.pool === b.pool ? 0 : a.pool === 'primary' ? -1 : 1));
}

/** Figures from a /metrics body (prom-client names, see backend/api/metrics.ts and backend/worker/main.ts). */
export function replicaFigures(text: string): ReplicaFigures {
  const families = parsePrometheusText(text);
  const lag = sumSeries(families, 'nodejs_eventloop_lag_p99_seconds');
  const inFlight = sumSeries(families, 'http_requests_in_flight');
  const reads = families.has('db_reads_total');
  return {
    cacheHits: sumSeries(families, 'cache_hits_total'),
    cacheMisses: sumSeries(families, 'cache_misses_total'),
    // prom-client prints a labelled counter only once it has counted something.
    jobsCompleted: sumSeries(families, 'worker_jobs_total', { outcome: 'completed' }) ?? 0,
    jobsFailed: sumSeries(families, 'worker_jobs_total', { outcome: 'failed' }) ?? 0,
    eventLoopLagMs: lag === undefined || !Number.isFinite(lag) ? null : Math.round(lag * 1e6) / 1e3,
    // The api counts the scrape that reads the gauge as one of its requests.
    inFlight: inFlight === undefined ? null : Math.max(0, inFlight - 1),
    // Declared (HELP/TYPE) but not counted yet is 0 reads, not an unknown.
    readsPrimary: reads ? (sumSeries(families, 'db_reads_total', { target: 'primary' }) ?? 0) : undefined,
    readsReplica: reads ? (sumSeries(families, 'db_reads_total', { target: 'replica' }) ?? 0) : undefined,
    replicaFallbacks: families.has('db_replica_fallbacks_total') ? (sumSeries(families, 'db_replica_fallbacks_total') ?? 0) : undefined,
    pools: poolsOf(families),
    routes: routesOf(families),
  };
}

/** Scrapes one replica; rejects on timeout, HTTP error or an unparsable body. */
export async function scrapeReplica(url: string, timeoutMs: number): Promise<ReplicaFigures> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'text/plain' } });
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw new ScrapeError(url, response.status);
  }
  return replicaFigures(await response.text());
}
