import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus series of one api replica. One registry per app, so tests can build several. */
export interface ApiMetrics {
  registry: Registry;
  requests: Counter<'method' | 'route' | 'status'>;
  duration: Histogram<'method' | 'route' | 'status'>;
  /** Requests being served; a plain number, read at scrape time, since it changes twice a request. */
  inFlight: { value: number };
  cacheHits: Counter;
  cacheMisses: Counter;
  cacheCoalesced: Counter;
  cacheRefreshes: Counter;
  cacheErrors: Counter;
  breakerState: Gauge;
  dbQueries: Counter<'query'>;
  /** `db_reads_total{target}`: reads routed by the ReadRouter, by the server that answered. */
  dbReads: Counter<'target'>;
  /** `db_replica_fallbacks_total`: reads meant for the replica that the primary served (replica failed or marked down). */
  replicaFallbacks: Counter;
  jobsEnqueued: Counter;
}

/** What `db_pool_connections` reads of one pool at scrape time. */
export interface PoolGauge {
  pool: { totalCount: number; idleCount: number; waitingCount: number };
  max: number;
}

/**
 * Creates the registry; `collect` callbacks read pool figures at scrape time. `replica`: the read
 * replica's pool, when there is one; its series carry `pool="replica"`, the primary's `pool="primary"`.
 */
export function createApiMetrics(pool: PoolGauge['pool'], poolMax: number, replica?: PoolGauge): ApiMetrics {
  const registry = new Registry();
  // Includes nodejs_eventloop_lag_seconds and its percentiles, cpu and memory.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  const registers = [registry];
  const pools: [string, PoolGauge][] = [
    ['primary', { pool, max: poolMax }],
    ...(replica ? [['replica', replica] as [string, PoolGauge]] : []),
  ];
  new Gauge({
    name: 'db_pool_connections',
    help: 'PostgreSQL pool connections by pool (primary, replica) and state (total, idle, waiting clients, max)',
    labelNames: ['pool', 'state'],
    registers,
    collect() {
      for (const [name, { pool: p, max }] of pools) {
        this.set({ pool: name, state: 'total' }, p.totalCount);
        this.set({ pool: name, state: 'idle' }, p.idleCount);
        this.set({ pool: name, state: 'waiting' }, p.waitingCount);
        this.set({ pool: name, state: 'max' }, max);
      }
    },
  });
  const dbReads = new Counter({
    name: 'db_reads_total',
    help: 'User reads that went to PostgreSQL, by the server that answered (primary, replica)',
    labelNames: ['target'],
    registers,
  });
  // Zeroes from the start, so a scrape shows every target before its first read.
  dbReads.inc({ target: 'primary' }, 0);
  if (replica) dbReads.inc({ target: 'replica' }, 0);
  const inFlight = { value: 0 };
  new Gauge({
    name: 'http_requests_in_flight',
    help: 'Requests being served right now',
    registers,
    collect() {
      this.set(inFlight.value);
    },
  });
  return {
    registry,
    requests: new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests by method, route and status',
      labelNames: ['method', 'route', 'status'],
      registers,
    }),
    duration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request latency by method, route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    inFlight,
    cacheHits: new Counter({ name: 'cache_hits_total', help: 'User reads served from Redis', registers }),
    cacheMisses: new Counter({ name: 'cache_misses_total', help: 'User reads that went to PostgreSQL', registers }),
    cacheCoalesced: new Counter({
      name: 'cache_coalesced_total',
      help: 'Cache misses that joined a database read already in flight',
      registers,
    }),
    cacheRefreshes: new Counter({ name: 'cache_early_refreshes_total', help: 'Hot keys refreshed before they expired', registers }),
    cacheErrors: new Counter({
      name: 'cache_errors_total',
      help: 'Redis calls that failed or were skipped by the open breaker',
      registers,
    }),
    breakerState: new Gauge({ name: 'cache_breaker_state', help: 'Redis circuit breaker: 0 closed, 1 half-open, 2 open', registers }),
    dbQueries: new Counter({
      name: 'db_queries_total',
      help: 'Queries sent to PostgreSQL, by statement',
      labelNames: ['query'],
      registers,
    }),
    dbReads,
    replicaFallbacks: new Counter({
      name: 'db_replica_fallbacks_total',
      help: 'Reads meant for the read replica that the primary served because the replica failed or was down',
      registers,
    }),
    jobsEnqueued: new Counter({ name: 'queue_jobs_enqueued_total', help: 'send-email jobs added to the queue', registers }),
  };
}
