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
  jobsEnqueued: Counter;
}

/** Creates the registry; `collect` callbacks read pool figures at scrape time. */
export function createApiMetrics(pool: { totalCount: number; idleCount: number; waitingCount: number }, poolMax: number): ApiMetrics {
  const registry = new Registry();
  // Includes nodejs_eventloop_lag_seconds and its percentiles, cpu and memory.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  const registers = [registry];
  new Gauge({
    name: 'db_pool_connections',
    help: 'PostgreSQL pool connections by state (total, idle, waiting clients, max)',
    labelNames: ['state'],
    registers,
    collect() {
      this.set({ state: 'total' }, pool.totalCount);
      this.set({ state: 'idle' }, pool.idleCount);
      this.set({ state: 'waiting' }, pool.waitingCount);
      this.set({ state: 'max' }, poolMax);
    },
  });
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
    requests: new Counter({ name: 'http_requests_total', help: 'HTTP requests by method, route and status', labelNames: ['method', 'route', 'status'], registers }),
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
    cacheCoalesced: new Counter({ name: 'cache_coalesced_total', help: 'Cache misses that joined a database read already in flight', registers }),
    cacheRefreshes: new Counter({ name: 'cache_early_refreshes_total', help: 'Hot keys refreshed before they expired', registers }),
    cacheErrors: new Counter({ name: 'cache_errors_total', help: 'Redis calls that failed or were skipped by the open breaker', registers }),
    breakerState: new Gauge({ name: 'cache_breaker_state', help: 'Redis circuit breaker: 0 closed, 1 half-open, 2 open', registers }),
    dbQueries: new Counter({ name: 'db_queries_total', help: 'Queries sent to PostgreSQL, by statement', labelNames: ['query'], registers }),
    jobsEnqueued: new Counter({ name: 'queue_jobs_enqueued_total', help: 'send-email jobs added to the queue', registers }),
  };
}
