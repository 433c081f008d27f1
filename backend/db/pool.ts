import pg from 'pg';

// bigint ids stay below 2^53 for any realistic table; numbers serialize faster than strings.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number.parseInt(value, 10));

/** Options of {@link createPool}. */
export interface PoolOptions {
  /** PostgreSQL connection string. */
  connectionString: string;
  /** Maximum connections. @defaultValue 10 */
  max?: number;
  /** Connections kept open while idle (at most `max`); {@link openConnections} opens them. @defaultValue 0 */
  min?: number;
  /** Name shown in pg_stat_activity. @defaultValue 'scalelab' */
  applicationName?: string;
  /** Longest wait for a new connection. @defaultValue 5000 */
  connectionTimeoutMs?: number;
  /**
   * Client-side limit of one query, ms; 0 for none. A frozen server (SIGSTOP) never enforces its
   * own statement_timeout, so a pool that has somewhere else to go (the read replica's) needs
   * this to give up. @defaultValue 0
   */
  queryTimeoutMs?: number;
}

/** A pg pool with timeouts that fail fast instead of hanging a request. */
export function createPool(options: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    min: Math.min(options.min ?? 0, options.max ?? 10),
    application_name: options.applicationName ?? 'scalelab',
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5_000,
    idleTimeoutMillis: 30_000,
    statement_timeout: 15_000,
    ...(options.queryTimeoutMs ? { query_timeout: options.queryTimeoutMs } : {}),
  });
  // An idle client losing its connection (database restarted) must not crash the process.
  pool.on('error', () => undefined);
  return pool;
}

/**
 * Opens the pool's `min` connections now (all at once) instead of on first use: a new PostgreSQL
 * backend costs a fork and a few ms of cpu, which under a sudden burst queues behind the requests
 * it was opened for. Failures are left to the first query that needs the connection.
 */
export async function openConnections(pool: pg.Pool): Promise<void> {
  const wanted = pool.options.min ?? 0;
  const opened = await Promise.allSettled(Array.from({ length: Math.max(0, wanted - pool.totalCount) }, () => pool.connect()));
  for (const r of opened) if (r.status === 'fulfilled') r.value.release();
}

/**
 * Waits until PostgreSQL answers, for replicas that start together with their database.
 * Throws with the last error once `timeoutMs` has passed.
 */
export async function waitForDatabase(pool: pg.Pool, timeoutMs: number, onRetry?: (err: Error) => void): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await pool.query('SELECT 1');
      return;
    } catch (err) {
      if (Date.now() >= deadline) {
        throw new Error(`PostgreSQL is unreachable: ${(err as Error).message}. Check DATABASE_URL and that the database is running.`, {
          cause: err,
        });
      }
      onRetry?.(err as Error);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
