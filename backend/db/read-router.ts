import type pg from 'pg';

/**
 * A floor no replica reaches: a read given it goes to the primary. Used when the writes to a
 * user cannot be known (Redis unreachable) or a write's position could not be read.
 */
export const PRIMARY_ONLY_LSN = 'FFFFFFFF/FFFFFFFF';

const LSN_PATTERN = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;

/** A PostgreSQL WAL position (`16/B374D848`) as a number; undefined when it is not one. */
export function parseLsn(text: string): bigint | undefined {
  const match = LSN_PATTERN.exec(text);
  return match ? (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`) : undefined;
}

/** A WAL position as 16 hex digits, so that comparing the strings compares the positions (in Redis' Lua too). */
export function sortableLsn(text: string): string | undefined {
  const lsn = parseLsn(text);
  return lsn === undefined ? undefined : lsn.toString(16).toUpperCase().padStart(16, '0');
}

/** The inverse of {@link sortableLsn}: back to PostgreSQL's `X/Y`. */
export function lsnFromSortable(sortable: string): string {
  return `${sortable.slice(0, 8).replace(/^0+(?=.)/, '')}/${sortable.slice(8).replace(/^0+(?=.)/, '')}`;
}

/** The later of two positions (either may be missing). */
export function maxLsn(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return (parseLsn(a) ?? 0n) >= (parseLsn(b) ?? 0n) ? a : b;
}

/** Counters the router keeps; see metrics.ts for their Prometheus names. */
export interface ReadRouterMetrics {
  /** `db_reads_total{target}`: routed reads by the server that answered. */
  reads: { inc(labels: { target: 'primary' | 'replica' }): void };
  /** `db_replica_fallbacks_total`: reads meant for the replica that the primary served because it failed or was down. */
  fallbacks: { inc(): void };
}

/** Options of {@link ReadRouter}. */
export interface ReadRouterOptions {
  /** Where writes, and reads the replica cannot serve, go. */
  primary: pg.Pool;
  /** The streaming replica's pool; without it every read goes to the primary, at no extra cost. */
  replica?: pg.Pool;
  metrics?: ReadRouterMetrics;
  /** How often the replica's replay position (and the primary's) is polled while it answers, ms. @defaultValue 100 */
  pollIntervalMs?: number;
  /** How often a replica marked down is probed until it answers again, ms. @defaultValue 500 */
  probeIntervalMs?: number;
  /**
   * Staleness beyond which every read goes to the primary, ms. Read-your-writes markers live
   * 30 s (cache.ts); a replica further behind than that could serve a write older than its
   * marker, so the bound stays well under it. @defaultValue 10000
   */
  maxLagMs?: number;
  /**
   * A read whose floor is above the last polled replay position asks the replica again when
   * that poll is older than this, instead of going to the primary at once, ms. @defaultValue 25
   */
  recheckAfterMs?: number;
  /**
   * A replica whose polls have not answered for this long is passed over (a frozen server does
   * not refuse connections, it hangs them until the pool's query timeout), ms. @defaultValue 1000
   */
  silentAfterMs?: number;
}

/** One position of the primary, and when it was read. */
interface Sample {
  at: number;
  lsn: bigint;
}

/** SQLSTATEs that mean "this server cannot answer now", besides class 08 (connection exception). */
const UNAVAILABLE = new Set(['57P01', '57P02', '57P03', '53300', '53400']);

/** True for errors that say the server is unreachable (refused, reset, timed out, shutting down), not the query. */
function isUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return true;
  return code.startsWith('08') || UNAVAILABLE.has(code);
}

const REPLAY_SQL = `SELECT (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_insert_lsn() END)::text AS lsn,
  current_setting('wal_block_size')::int AS block`;
/** Largest WAL page header (the long one, at a segment's start), MAXALIGNed. */
const MAX_PAGE_HEADER = 40n;
// The insert position, not pg_current_wal_lsn(): with synchronous_commit off the commit record
// may not be written yet when the write returns, and the insert position is always past it.
const WRITE_LSN_SQL = 'SELECT pg_current_wal_insert_lsn()::text AS lsn';

/**
 * Sends reads to a streaming replica and writes to the primary, keeping read-your-writes.
 *
 * Read-your-writes rests on WAL positions (LSNs). After a write commits, the api reads the
 * primary's WAL insert position ({@link writeLsn}), which is past the write's commit record; a
 * replica whose replay position has reached it shows the write. The position goes back to the
 * client (header `x-write-lsn`) and into a per-user marker in Redis (cache.ts), and a read gives
 * it as its floor (`minLsn`): the replica serves it only when its last polled replay position is
 * at or past the floor (polled every 100 ms, asked again when older than 25 ms), else the
 * primary does. A positions-based floor costs one small query per write wave and nothing per
 * read, works across api replicas, and needs no clock agreement between servers.
 *
 * Reads without a floor still avoid a replica that has fallen far behind (`maxLagMs`), measured
 * from the primary's positions polled alongside: that bounds the staleness of every read.
 *
 * A replica that fails (refused, reset, shut down, timed out) is marked down; the read is
 * retried on the primary, so the client never sees the failure, and the replica is probed every
 * 500 ms until it answers. Nothing is polled until the first read.
 */
export class ReadRouter {
  private readonly primary: pg.Pool;
  private readonly replica: pg.Pool | undefined;
  private readonly metrics: ReadRouterMetrics | undefined;
  private readonly pollIntervalMs: number;
  private readonly probeIntervalMs: number;
  private readonly maxLagMs: number;
  private readonly recheckAfterMs: number;
  private readonly silentAfterMs: number;
  private up = true;
  private replayLsn: bigint | undefined;
  private replayAt = 0;
  private pollStartedAt = 0;
  private walBlock = 8192n;
  private readonly samples: Sample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private started: Promise<void> | undefined;
  private polling: Promise<void> | undefined;
  private lsnQuery: Promise<string> | undefined;
  private lsnNext: Promise<string> | undefined;
  private closed = false;

  constructor(options: ReadRouterOptions) {
    this.primary = options.primary;
    this.replica = options.replica;
    this.metrics = options.metrics;
    this.pollIntervalMs = options.pollIntervalMs ?? 100;
    this.probeIntervalMs = options.probeIntervalMs ?? 500;
    this.maxLagMs = options.maxLagMs ?? 10_000;
    this.recheckAfterMs = options.recheckAfterMs ?? 25;
    this.silentAfterMs = options.silentAfterMs ?? 1_000;
  }

  /** True when a replica is configured. */
  get hasReplica(): boolean {
    return this.replica !== undefined;
  }

  /**
   * Runs a read on the replica when it may serve it (up, not too far behind, replayed past
   * `minLsn`), else on the primary; a replica failure is retried on the primary.
   */
  async query<R extends pg.QueryResultRow>(config: pg.QueryConfig, minLsn?: string): Promise<pg.QueryResult<R>> {
    const replica = this.replica;
    if (!replica) {
      this.metrics?.reads.inc({ target: 'primary' });
      return this.primary.query<R>(config);
    }
    await (this.started ??= this.start());
    if (!this.up || this.silent()) return this.fallback(config);
    if (!(await this.fits(minLsn))) {
      this.metrics?.reads.inc({ target: 'primary' });
      return this.primary.query<R>(config);
    }
    try {
      const result = await replica.query<R>(config);
      this.metrics?.reads.inc({ target: 'replica' });
      return result;
    } catch (err) {
      if (!isUnavailable(err)) {
        // A query the replica refused (a recovery conflict, say) may still work on the primary;
        // a genuinely bad query fails there too, with the primary's error.
        return this.fallback(config);
      }
      this.markDown();
      return this.fallback(config);
    }
  }

  /**
   * The primary's WAL position after the caller's write committed; undefined without a replica.
   * Concurrent callers share one query, never one that started before they called (it could
   * predate their commit): at most one runs and one waits, whatever the write rate.
   */
  writeLsn(): Promise<string | undefined> {
    if (!this.replica) return Promise.resolve(undefined);
    if (!this.lsnQuery) return (this.lsnQuery = this.queryWriteLsn());
    const settled = this.lsnQuery.then(
      () => undefined,
      () => undefined,
    );
    return (this.lsnNext ??= settled.then(() => {
      this.lsnNext = undefined;
      return (this.lsnQuery ??= this.queryWriteLsn());
    }));
  }

  /** Stops polling. Does not end the pools (their owner does). Safe to call twice. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private fallback<R extends pg.QueryResultRow>(config: pg.QueryConfig): Promise<pg.QueryResult<R>> {
    this.metrics?.fallbacks.inc();
    this.metrics?.reads.inc({ target: 'primary' });
    return this.primary.query<R>(config);
  }

  private queryWriteLsn(): Promise<string> {
    const query: Promise<string> = this.primary
      .query<{ lsn: string }>(WRITE_LSN_SQL)
      .then(({ rows }) => {
        const lsn = rows[0]!.lsn;
        this.addSample(lsn);
        return lsn;
      })
      .finally(() => {
        if (this.lsnQuery === query) this.lsnQuery = undefined;
      });
    return query;
  }

  /** The first poll, so the first reads know the replica's position; then the timer. */
  private async start(): Promise<void> {
    await this.poll();
    this.schedule();
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(
      () => {
        void this.poll().finally(() => this.schedule());
      },
      this.up ? this.pollIntervalMs : this.probeIntervalMs,
    );
    this.timer.unref();
  }

  /** Reads both positions; a replica that does not answer is marked down, one that answers is up. */
  private poll(): Promise<void> {
    return (this.polling ??= (async () => {
      this.pollStartedAt = performance.now();
      try {
        const [primary, replica] = await Promise.allSettled([
          this.primary.query<{ lsn: string }>(WRITE_LSN_SQL),
          this.replica!.query<{ lsn: string | null; block: number }>(REPLAY_SQL),
        ]);
        if (primary.status === 'fulfilled') this.addSample(primary.value.rows[0]!.lsn);
        if (replica.status === 'rejected') {
          this.markDown();
          return;
        }
        const row = replica.value.rows[0];
        if (row?.block) this.walBlock = BigInt(row.block);
        const lsn = row?.lsn ? parseLsn(row.lsn) : undefined;
        if (lsn !== undefined && (this.replayLsn === undefined || lsn > this.replayLsn)) this.replayLsn = lsn;
        this.replayAt = performance.now();
        this.up = true;
      } finally {
        this.polling = undefined;
      }
    })());
  }

  /** A poll has waited longer than `silentAfterMs` for the replica (timers firing late do not count). */
  private silent(): boolean {
    return this.polling !== undefined && performance.now() - this.pollStartedAt > this.silentAfterMs;
  }

  private markDown(): void {
    this.up = false;
  }

  /** May the replica serve a read with this floor right now? */
  private async fits(minLsn: string | undefined): Promise<boolean> {
    if (minLsn !== undefined) {
      const need = parseLsn(minLsn);
      if (need === undefined || minLsn === PRIMARY_ONLY_LSN) return false;
      if (!this.reached(need)) {
        if (performance.now() - this.replayAt < this.recheckAfterMs) return false;
        await this.poll();
        if (!this.up || !this.reached(need)) return false;
      }
    }
    return this.stalenessMs() <= this.maxLagMs;
  }

  /**
   * Has the replica replayed everything before `lsn`? A primary's insert position sits just
   * past a WAL page header when the last record filled its page, while a caught-up replica's
   * replay position is the end of that record, the page boundary: only a header (no record
   * fits in 40 bytes) lies between them, so that counts as reached. Otherwise an idle primary's
   * position could stay out of reach until its next write.
   */
  private reached(lsn: bigint): boolean {
    const replay = this.replayLsn;
    if (replay === undefined) return false;
    if (replay >= lsn) return true;
    const offset = lsn % this.walBlock;
    return offset <= MAX_PAGE_HEADER && replay >= lsn - offset;
  }

  /**
   * How old the oldest write the replica has not replayed may be: 0 when it has replayed the
   * primary's last polled position, else the time since the primary was last seen at a position
   * the replica has reached (an upper bound, off by at most one poll interval).
   */
  private stalenessMs(): number {
    const latest = this.samples.at(-1);
    if (!latest) return 0; // the primary never answered: nothing says the replica is behind
    if (this.reached(latest.lsn)) return 0;
    for (let i = this.samples.length - 1; i >= 0; i--) {
      if (this.reached(this.samples[i]!.lsn)) return performance.now() - this.samples[i]!.at;
    }
    // Behind every position kept (2 × maxLagMs of history), or not known yet: too far behind.
    return Number.POSITIVE_INFINITY;
  }

  private addSample(text: string): void {
    const lsn = parseLsn(text);
    if (lsn === undefined) return;
    const at = performance.now();
    const last = this.samples.at(-1);
    if (last && last.lsn > lsn) return; // a query that started earlier and answered later
    // A sample says "the primary was here at `at`": an idle primary's position is dated by the
    // last time it was seen there, so a write after a long pause does not look like a long lag.
    if (last && last.lsn === lsn) last.at = at;
    // Under write load a position arrives with every write wave: one sample per 10 ms is plenty.
    // The newer position takes the older time, which only makes staleness look 10 ms higher.
    else if (last && at - last.at < 10) last.lsn = lsn;
    else this.samples.push({ at, lsn });
    // Keep a little more than maxLagMs of history; older samples cannot change a decision.
    const horizon = at - this.maxLagMs * 2;
    let drop = 0;
    while (drop < this.samples.length - 1 && this.samples[drop]!.at < horizon) drop++;
    if (drop > 0) this.samples.splice(0, drop);
  }
}
