import pg from 'pg';

/** Counters of the stack's database from pg_stat_database. */
export interface DbFigures {
  connections: number;
  /** Totals since the statistics were last reset. */
  commits: number;
  rollbacks: number;
}

/** Options of {@link DbProbe}. */
export interface DbProbeOptions {
  /** Longest a connection attempt or query may take. @defaultValue 700 */
  timeoutMs?: number;
}

const QUERY = 'SELECT numbackends, xact_commit, xact_rollback FROM pg_stat_database WHERE datname = current_database()';

/**
 * One PostgreSQL connection (a pool of one, so a dropped connection is replaced on the next
 * tick) that reads the database's statistics. Its own query counts as one commit per tick.
 */
export class DbProbe {
  private readonly pool: pg.Pool;
  private closed = false;

  constructor(
    readonly url: string,
    options: DbProbeOptions = {},
  ) {
    const timeoutMs = options.timeoutMs ?? 700;
    this.pool = new pg.Pool({
      connectionString: url,
      max: 1,
      connectionTimeoutMillis: timeoutMs,
      query_timeout: timeoutMs,
      statement_timeout: timeoutMs,
      application_name: 'scalelab-telemetry',
    });
    this.pool.on('error', () => undefined); // an idle connection dropped by a restarting server
  }

  /** The figures, or undefined when PostgreSQL does not answer. */
  async read(): Promise<DbFigures | undefined> {
    if (this.closed) return undefined;
    try {
      const { rows } = await this.pool.query<{ numbackends: number; xact_commit: string; xact_rollback: string }>(QUERY);
      const row = rows[0];
      if (!row) return undefined;
      return { connections: Number(row.numbackends), commits: Number(row.xact_commit), rollbacks: Number(row.xact_rollback) };
    } catch {
      return undefined;
    }
  }

  /** Ends the pool. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.race([this.pool.end(), new Promise((resolve) => setTimeout(resolve, 1_000).unref())]).catch(() => undefined);
  }
}
