import { Redis } from 'ioredis';
import { Queue } from 'bullmq';
import type pg from 'pg';
import type { Config } from '../config.js';
import { createPool } from '../db/pool.js';
import { ReadRouter } from '../db/read-router.js';
import { UsersRepository, type Query, type ReadQuery } from '../db/users.js';
import { SEND_EMAIL_QUEUE } from '../queue.js';
import { UserCache } from './cache.js';
import { Faults, delay } from './faults.js';
import { createApiMetrics, type ApiMetrics } from './metrics.js';
import { tracing, withSpan } from '../telemetry/tracing.js';

/** Everything the routes use, built once per app. */
export interface ApiDeps {
  config: Config;
  /** the primary: every write, and the reads the replica cannot serve */
  pool: pg.Pool;
  /** the read replica's pool, when DATABASE_REPLICA_URL is set */
  replicaPool: pg.Pool | undefined;
  /** sends reads to the replica or the primary (see ReadRouter) */
  router: ReadRouter;
  redis: Redis;
  /** the queue's own connection: a slow enqueue must not hold up cache reads */
  queueRedis: Redis;
  queue: Queue;
  users: UsersRepository;
  cache: UserCache;
  faults: Faults;
  metrics: ApiMetrics;
  /** true from SIGTERM on: /readyz answers 503 so balancers stop sending traffic */
  lifecycle: { draining: boolean };
}

/** Redis options for the cache and rate limiter: fail fast instead of queueing while Redis is down. */
export function cacheRedisOptions() {
  return {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 500,
    connectTimeout: 2_000,
    enableAutoPipelining: true,
    retryStrategy: (times: number) => Math.min(100 * times, 1_000),
  };
}

/** Connects nothing yet: pg connects on first query, ioredis in the background. */
export function createDeps(config: Config): ApiDeps {
  const pool = createPool({
    connectionString: config.databaseUrl,
    max: config.dbPoolSize,
    min: config.dbPoolMin,
    applicationName: 'scalelab-api',
  });
  // A replica that stops answering must cost a read little before it falls back to the primary:
  // short connect and query timeouts (a frozen server never enforces its statement_timeout).
  const replicaPool = config.databaseReplicaUrl
    ? createPool({
        connectionString: config.databaseReplicaUrl,
        max: config.dbPoolSize,
        applicationName: 'scalelab-api-replica',
        connectionTimeoutMs: 1_000,
        queryTimeoutMs: 3_000,
      })
    : undefined;
  const faults = new Faults();
  const metrics = createApiMetrics(pool, config.dbPoolSize, replicaPool ? { pool: replicaPool, max: config.dbPoolSize } : undefined);
  const router = new ReadRouter({
    primary: pool,
    replica: replicaPool,
    metrics: { reads: metrics.dbReads, fallbacks: metrics.replicaFallbacks },
  });
  // The injected latency runs in a span around the query (and its pg span), so a trace's
  // waterfall shows the database step as slow as the fault makes it.
  const delayed = <T>(name: string | undefined, run: () => Promise<T>): Promise<T> => {
    const ms = faults.dbLatencyMs;
    if (ms <= 0) return run();
    return withSpan(
      `db ${name ?? 'query'} (injected latency)`,
      { 'db.system.name': 'postgresql', 'db.operation.name': name ?? 'query', 'scalelab.fault.db_latency_ms': ms },
      async () => {
        await delay(ms);
        return run();
      },
    );
  };
  const query: Query = async (q) => {
    metrics.dbQueries.inc({ query: q.name ?? 'other' });
    return delayed(q.name, () => pool.query(q));
  };
  const read: ReadQuery = async (q, minLsn) => {
    metrics.dbQueries.inc({ query: q.name ?? 'other' });
    return delayed(q.name, () => router.query(q, minLsn));
  };
  const redis = new Redis(config.redisUrl, cacheRedisOptions());
  redis.on('error', () => undefined); // reconnects on its own; the breaker reports the outage
  const queueRedis = new Redis(config.redisUrl, { ...cacheRedisOptions(), enableAutoPipelining: false, commandTimeout: 2_000 });
  queueRedis.on('error', () => undefined);
  // With tracing on, each job carries its enqueuing span's context (bullmq-otel), so the worker's span joins the request's trace.
  const telemetry = tracing()?.bullmq;
  const queue = new Queue(SEND_EMAIL_QUEUE, { connection: queueRedis, ...(telemetry ? { telemetry } : {}) });
  queue.on('error', () => undefined);
  return {
    config,
    pool,
    replicaPool,
    router,
    redis,
    queueRedis,
    queue,
    users: new UsersRepository(query, { read }),
    cache: new UserCache(redis, faults, metrics, { ttlSeconds: config.cacheTtlSeconds, writeMarkers: router.hasReplica }),
    faults,
    metrics,
    lifecycle: { draining: false },
  };
}

/** Closes every connection; each step runs even when an earlier one throws. Safe to call twice. */
export async function closeDeps(deps: ApiDeps): Promise<void> {
  deps.faults.clear();
  deps.cache.close();
  deps.router.close();
  const replicaPool = deps.replicaPool;
  const steps = [
    () => deps.queue.close(),
    () => deps.queueRedis.quit(),
    () => deps.redis.quit(),
    () => (deps.pool.ended ? undefined : deps.pool.end()),
    () => (!replicaPool || replicaPool.ended ? undefined : replicaPool.end()),
  ];
  for (const step of steps) {
    try {
      await step();
    } catch {
      // Keep closing the rest; a connection that cannot quit politely is dropped below.
    }
  }
  deps.redis.disconnect();
  deps.queueRedis.disconnect();
}
