import { Redis } from 'ioredis';
import { Queue } from 'bullmq';
import type pg from 'pg';
import type { Config } from '../config.js';
import { createPool } from '../db/pool.js';
import { UsersRepository, type Query } from '../db/users.js';
import { SEND_EMAIL_QUEUE } from '../queue.js';
import { UserCache } from './cache.js';
import { Faults, delay } from './faults.js';
import { createApiMetrics, type ApiMetrics } from './metrics.js';

/** Everything the routes use, built once per app. */
export interface ApiDeps {
  config: Config;
  pool: pg.Pool;
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
  const pool = createPool({ connectionString: config.databaseUrl, max: config.dbPoolSize, applicationName: 'scalelab-api' });
  const faults = new Faults();
  const metrics = createApiMetrics(pool, config.dbPoolSize);
  const query: Query = async (q) => {
    metrics.dbQueries.inc({ query: q.name ?? 'other' });
    if (faults.dbLatencyMs > 0) await delay(faults.dbLatencyMs);
    return pool.query(q);
  };
  const redis = new Redis(config.redisUrl, cacheRedisOptions());
  redis.on('error', () => undefined); // reconnects on its own; the breaker reports the outage
  const queueRedis = new Redis(config.redisUrl, { ...cacheRedisOptions(), enableAutoPipelining: false, commandTimeout: 2_000 });
  queueRedis.on('error', () => undefined);
  const queue = new Queue(SEND_EMAIL_QUEUE, { connection: queueRedis });
  queue.on('error', () => undefined);
  return {
    config,
    pool,
    redis,
    queueRedis,
    queue,
    users: new UsersRepository(query),
    cache: new UserCache(redis, faults, metrics, { ttlSeconds: config.cacheTtlSeconds }),
    faults,
    metrics,
    lifecycle: { draining: false },
  };
}

/** Closes every connection; each step runs even when an earlier one throws. Safe to call twice. */
export async function closeDeps(deps: ApiDeps): Promise<void> {
  deps.faults.clear();
  deps.cache.close();
  const steps = [
    () => deps.queue.close(),
    () => deps.queueRedis.quit(),
    () => deps.redis.quit(),
    () => (deps.pool.ended ? undefined : deps.pool.end()),
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
