import pg from 'pg';

/** Options of {@link DataProbe} and {@link StandbyProbe}. */
export interface DataProbeOptions {
  /** Longest a connection attempt or a per-tick query may take. @defaultValue 700 */
  timeoutMs?: number;
  /** How often the partitions' rows are counted (exactly, so not every tick). @defaultValue 5000 */
  partitionsEveryMs?: number;
  /** Longest one count of the partitions may take. @defaultValue 5000 */
  partitionsTimeoutMs?: number;
}

/** What the primary says of replication and of the event pipeline, one tick of it. */
export interface PrimaryDataFigures {
  /** From pg_stat_replication; undefined when no standby is connected. */
  replication: { lagBytes: number | null; lagSeconds: number | null } | undefined;
  /** Outbox rows not relayed yet; undefined when there is no outbox table (older stacks). */
  outboxBacklog: number | undefined;
  /** How far the read model trails the newest event, seconds; null before any event or without the tables. */
  freshnessS: number | null;
}

/** What the read replica says of itself. */
export interface StandbyFigures {
  /** recovery_min_apply_delay, ms. */
  applyDelayMs: number;
  /** Seconds since the last transaction it replayed was committed on the primary; null before any. */
  sinceReplayS: number | null;
}

/** Rows per partition of the users table, in partition order. */
export type PartitionRows = { name: string; rows: number }[];

/** PostgreSQL's undefined_table: the outbox or the read model is not there (yet). */
const UNDEFINED_TABLE = '42P01';

const REPLICATION = `SELECT count(*)::int AS n,
  max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn))::float8 AS lag_bytes,
  max(EXTRACT(EPOCH FROM replay_lag))::float8 AS lag_s
FROM pg_stat_replication`;
// The partial index on id WHERE sent_at IS NULL keeps the backlog cheap; the ends of the outbox come from its primary key.
const OUTBOX = `SELECT (SELECT count(*) FROM outbox WHERE sent_at IS NULL)::float8 AS backlog,
  EXTRACT(EPOCH FROM (SELECT occurred_at FROM outbox ORDER BY id DESC LIMIT 1))::float8 AS newest,
  EXTRACT(EPOCH FROM (SELECT occurred_at FROM outbox ORDER BY id LIMIT 1))::float8 AS oldest,
  EXTRACT(EPOCH FROM now())::float8 AS now`;
const READ_MODEL = 'SELECT EXTRACT(EPOCH FROM last_occurred_at)::float8 AS last FROM read_model_state WHERE id = 1';
const PARTITIONS = `SELECT i.inhrelid::int8::text AS oid, c.relname AS name
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = to_regclass('users')`;
const PARTITION_ROWS = 'SELECT tableoid::int8::text AS oid, count(*)::float8 AS rows FROM users GROUP BY tableoid';
const STANDBY = `SELECT setting::float8 AS delay, unit,
  EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8 AS since_replay
FROM pg_settings WHERE name = 'recovery_min_apply_delay'`;

const isUndefinedTable = (err: unknown) => (err as { code?: string } | null)?.code === UNDEFINED_TABLE;

function pool(url: string, timeoutMs: number, applicationName: string): pg.Pool {
  const p = new pg.Pool({
    connectionString: url,
    max: 1,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    statement_timeout: timeoutMs,
    application_name: applicationName,
  });
  p.on('error', () => undefined); // an idle connection dropped by a restarting server
  return p;
}

async function endPool(p: pg.Pool): Promise<void> {
  await Promise.race([p.end(), new Promise((resolve) => setTimeout(resolve, 1_000).unref())]).catch(() => undefined);
}

/** users_p2 before users_p10. */
function byPartition(a: { name: string }, b: { name: string }): number {
  const na = /(\d+)$/.exec(a.name);
  const nb = /(\d+)$/.exec(b.name);
  const prefix = a.name.slice(0, na?.index ?? a.name.length).localeCompare(b.name.slice(0, nb?.index ?? b.name.length));
  return prefix || (na && nb ? Number(na[1]) - Number(nb[1]) : a.name.localeCompare(b.name));
}

/**
 * Freshness of the read model: the newest event's time minus the last one the projector applied,
 * clamped at 0. Before the projector applied any, it trails by the age of the oldest event.
 */
export function freshness(newest: number | null, last: number | null, oldest: number | null, now: number): number | null {
  if (newest === null) return null;
  const behind = last === null ? now - (oldest ?? newest) : newest - last;
  return Math.max(0, Math.round(behind * 1000) / 1000);
}

/**
 * The primary's side of the data-layer patterns: replication lag as the primary sees it, the
 * outbox backlog and the read model's freshness every tick, and the partitions' rows counted
 * exactly every few seconds on a connection of their own (a slow count never holds up a tick).
 * Tables that are not there (events off, an older stack) read as absent, quietly.
 */
export class DataProbe {
  private readonly pool: pg.Pool;
  private readonly countPool: pg.Pool;
  private readonly partitionsEveryMs: number;
  private closed = false;
  private counted: PartitionRows | null | undefined;
  private counting: Promise<void> | undefined;
  private nextCountAt = 0;

  constructor(
    readonly url: string,
    options: DataProbeOptions = {},
  ) {
    const timeoutMs = options.timeoutMs ?? 700;
    this.partitionsEveryMs = options.partitionsEveryMs ?? 5_000;
    this.pool = pool(url, timeoutMs, 'scalelab-telemetry-data');
    const countTimeout = options.partitionsTimeoutMs ?? 5_000;
    this.countPool = pool(url, countTimeout, 'scalelab-telemetry-partitions');
  }

  /**
   * This tick's figures; `replication` and `events` say which to ask for.
   * @throws when PostgreSQL does not answer
   */
  async read(want: { replication: boolean; events: boolean }): Promise<PrimaryDataFigures> {
    const out: PrimaryDataFigures = { replication: undefined, outboxBacklog: undefined, freshnessS: null };
    if (this.closed) throw new Error('the data probe is closed');
    if (want.replication) {
      const { rows } = await this.pool.query<{ n: number; lag_bytes: number | null; lag_s: number | null }>(REPLICATION);
      const row = rows[0];
      if (row && row.n > 0) out.replication = { lagBytes: row.lag_bytes, lagSeconds: row.lag_s };
    }
    if (want.events) {
      const outbox = await this.optional<{ backlog: number; newest: number | null; oldest: number | null; now: number }>(OUTBOX);
      if (outbox) {
        out.outboxBacklog = outbox.backlog;
        const model = await this.optional<{ last: number | null }>(READ_MODEL);
        out.freshnessS = freshness(outbox.newest, model?.last ?? null, outbox.oldest, outbox.now);
      }
    }
    return out;
  }

  /** The one row of `sql`, or undefined when its table does not exist (or it has no row). */
  private async optional<T extends pg.QueryResultRow>(sql: string): Promise<T | undefined> {
    try {
      return (await this.pool.query<T>(sql)).rows[0];
    } catch (err) {
      if (isUndefinedTable(err)) return undefined;
      throw err;
    }
  }

  /**
   * Rows per partition (null when users is not partitioned), as of the last count; a count starts
   * when the last is older than partitionsEveryMs. Only the very first call waits for its count
   * (callers time-box it); undefined until one has succeeded.
   */
  async partitions(): Promise<PartitionRows | null | undefined> {
    if (this.closed) return this.counted;
    const now = Date.now();
    if (!this.counting && now >= this.nextCountAt) {
      this.nextCountAt = now + this.partitionsEveryMs;
      this.counting = this.count()
        .then((rows) => {
          if (!this.closed) this.counted = rows;
        })
        .catch(() => undefined)
        .finally(() => (this.counting = undefined));
    }
    if (this.counted === undefined && this.counting) await this.counting;
    return this.counted;
  }

  private async count(): Promise<PartitionRows | null> {
    const { rows: children } = await this.countPool.query<{ oid: string; name: string }>(PARTITIONS);
    if (children.length === 0) return null;
    const { rows } = await this.countPool.query<{ oid: string; rows: number }>(PARTITION_ROWS);
    const byOid = new Map(rows.map((r) => [r.oid, r.rows]));
    return children.map((c) => ({ name: c.name, rows: byOid.get(c.oid) ?? 0 })).sort(byPartition);
  }

  /** Ends both pools. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([endPool(this.pool), endPool(this.countPool)]);
  }
}

/** recovery_min_apply_delay's value in ms, whatever unit pg_settings gives it in. */
export function delayMs(value: number, unit: string | null): number {
  const factor = { ms: 1, s: 1000, min: 60_000, h: 3_600_000, d: 86_400_000 }[unit ?? 'ms'] ?? 1;
  return value * factor;
}

/** The read replica: whether it answers, and the apply delay it runs with. */
export class StandbyProbe {
  private readonly pool: pg.Pool;
  private closed = false;

  constructor(
    readonly url: string,
    options: DataProbeOptions = {},
  ) {
    this.pool = pool(url, options.timeoutMs ?? 700, 'scalelab-telemetry-replica');
  }

  /** Its figures, or undefined when it does not answer. */
  async read(): Promise<StandbyFigures | undefined> {
    if (this.closed) return undefined;
    try {
      const { rows } = await this.pool.query<{ delay: number; unit: string | null; since_replay: number | null }>(STANDBY);
      const row = rows[0];
      if (!row) return undefined;
      return { applyDelayMs: delayMs(row.delay, row.unit), sinceReplayS: row.since_replay };
    } catch {
      return undefined;
    }
  }

  /** Ends the pool. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await endPool(this.pool);
  }
}
