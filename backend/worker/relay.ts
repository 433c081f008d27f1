import type { Redis } from 'ioredis';
import pg from 'pg';
import type { Logger } from 'pino';
import { OUTBOX_CHANNEL } from '../db/outbox.js';
import { USER_EVENTS_STREAM } from '../stream.js';
import { NamedError } from '../named-error.js';

/** Options of {@link OutboxRelay}. */
export interface OutboxRelayOptions {
  /** Runs the batch transactions. */
  pool: pg.Pool;
  /** Connection string of the LISTEN connection (one plain client, outside the pool). */
  databaseUrl: string;
  /** Where the stream lives. Not owned: the caller closes it. */
  redis: Redis;
  /** Approximate cap of the stream's length (XADD MAXLEN ~). */
  streamMaxLen: number;
  log: Logger;
  /** Outbox rows published and marked sent per transaction. @defaultValue 500 */
  batchSize?: number;
  /** Longest wait between two looks at the outbox when no NOTIFY arrives. @defaultValue 250 */
  pollMs?: number;
  /** Sent rows older than this are deleted. @defaultValue 600000 (10 minutes) */
  purgeAfterMs?: number;
  /** How often the purge runs. @defaultValue 60000 */
  purgeEveryMs?: number;
  /** After kill(), how long the relay waits for a batch to die in the middle of before it dies idle. @defaultValue 1000 */
  killArmMs?: number;
  /** Called with the number of rows of each committed batch. */
  onRelayed?: (rows: number) => void;
}

/** Thrown inside the relay loop to die where a crash hurts most: after XADD, before the rows are marked sent. */
export class RelayKilledError extends NamedError {
  constructor() {
    super('outbox relay killed (chaos): published but not marked sent');
  }
}

interface OutboxRow {
  id: number;
  event_id: string;
  type: string;
  user_id: number;
  payload: string;
  occurred_at: string;
}

/** Microseconds in UTC, so stream entries sort as text the way they sort in time. */
const CLAIM_SQL = `SELECT id, event_id::text AS event_id, type, user_id, payload::text AS payload,
  to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS occurred_at
FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`;
const PURGE_CHUNK = 10_000;

/**
 * Moves outbox rows to the Redis Stream: in one transaction it locks the oldest unsent rows
 * (SKIP LOCKED, so every worker's relay takes a different batch), XADDs them in one pipeline and
 * marks them sent. A crash between XADD and COMMIT publishes those rows again later; consumers
 * skip the copies by event id. Wakes on the trigger's NOTIFY, polls as a fallback.
 */
export class OutboxRelay {
  private readonly batchSize: number;
  private readonly pollMs: number;
  private readonly purgeAfterMs: number;
  private readonly purgeEveryMs: number;
  private readonly killArmMs: number;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private dieBy: number | undefined;
  private poked = false;
  private wake: (() => void) | undefined;
  private listener: pg.Client | undefined;
  private listenRetry: NodeJS.Timeout | undefined;
  private failures = 0;

  constructor(private readonly options: OutboxRelayOptions) {
    this.batchSize = options.batchSize ?? 500;
    this.pollMs = options.pollMs ?? 250;
    this.purgeAfterMs = options.purgeAfterMs ?? 600_000;
    this.purgeEveryMs = options.purgeEveryMs ?? 60_000;
    this.killArmMs = options.killArmMs ?? 1_000;
  }

  /** Starts the loop; a second call does nothing. */
  start(): void {
    if (this.loop) return;
    void this.listen();
    this.loop = this.run().finally(() => this.unlisten());
  }

  /** Finishes the batch in flight, then stops. Safe to call twice. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
    this.unlisten();
  }

  /**
   * Dies at the worst point: the next batch is published and then abandoned unmarked (its
   * connection dropped, so PostgreSQL rolls it back). With no batch within `killArmMs` it dies idle.
   * Resolves once the loop has ended.
   */
  async kill(): Promise<void> {
    this.dieBy ??= Date.now() + this.killArmMs;
    this.wake?.();
    await this.loop;
  }

  private poke(): void {
    this.poked = true;
    this.wake?.();
  }

  private async run(): Promise<void> {
    let purgeAt = Date.now();
    while (!this.stopping) {
      if (this.dieBy !== undefined && Date.now() >= this.dieBy) return;
      let sent = 0;
      try {
        sent = await this.relayBatch();
        this.failures = 0;
      } catch (err) {
        if (err instanceof RelayKilledError) return;
        this.failures++;
        if (this.failures === 1 || this.failures % 50 === 0)
          this.options.log.warn({ err: (err as Error).message, failures: this.failures }, 'outbox relay: batch failed; retrying');
        await this.idle(Math.min(100 * 2 ** this.failures, 2_000));
        continue;
      }
      if (Date.now() >= purgeAt) {
        purgeAt = Date.now() + this.purgeEveryMs;
        await this.purge().catch((err: Error) => this.options.log.warn({ err: err.message }, 'outbox relay: purge failed'));
      }
      // A full or partial batch may have more behind it (a NOTIFY is skipped while a backlog exists).
      if (sent === 0) await this.idle(this.dieBy === undefined ? this.pollMs : Math.min(this.pollMs, Math.max(0, this.dieBy - Date.now())));
    }
  }

  private async relayBatch(): Promise<number> {
    const { pool, redis, streamMaxLen } = this.options;
    const client = await pool.connect();
    let failure: Error | undefined;
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<OutboxRow>({ name: 'outbox-claim', text: CLAIM_SQL, values: [this.batchSize] });
      if (rows.length === 0) {
        await client.query('COMMIT');
        return 0;
      }
      const pipeline = redis.pipeline();
      for (const row of rows) {
        pipeline.xadd(
          USER_EVENTS_STREAM,
          'MAXLEN',
          '~',
          streamMaxLen,
          '*',
          'event_id',
          row.event_id,
          'type',
          row.type,
          'user_id',
          row.user_id,
          'payload',
          row.payload,
          'occurred_at',
          row.occurred_at,
          'outbox_id',
          row.id,
        );
      }
      const results = await pipeline.exec();
      const failed = results?.find(([err]) => err);
      if (!results || failed) throw new Error(`XADD failed: ${failed?.[0]?.message ?? 'the pipeline was dropped'}`);
      if (this.dieBy !== undefined) throw new RelayKilledError();
      await client.query({
        name: 'outbox-mark-sent',
        text: 'UPDATE outbox SET sent_at = now() WHERE id = ANY($1::bigint[])',
        values: [rows.map((r) => r.id)],
      });
      await client.query('COMMIT');
      this.options.onRelayed?.(rows.length);
      return rows.length;
    } catch (err) {
      failure = err as Error;
      throw err;
    } finally {
      // A failed batch's connection is dropped rather than reused: PostgreSQL rolls the
      // transaction back and releases its row locks, as it would after a crash.
      client.release(failure);
    }
  }

  private async purge(): Promise<void> {
    for (let round = 0; round < 10; round++) {
      const { rowCount } = await this.options.pool.query({
        name: 'outbox-purge',
        text: `DELETE FROM outbox WHERE id IN (
                 SELECT id FROM outbox WHERE sent_at < now() - $1 * interval '1 millisecond' LIMIT ${PURGE_CHUNK})`,
        values: [this.purgeAfterMs],
      });
      if ((rowCount ?? 0) < PURGE_CHUNK) return;
    }
  }

  private idle(ms: number): Promise<void> {
    if (this.poked || this.stopping) {
      this.poked = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        this.poked = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  /** LISTENs on its own connection; a lost connection is re-opened, polling covers the gap. */
  private async listen(): Promise<void> {
    if (this.stopping || this.dieBy !== undefined) return;
    const client = new pg.Client({ connectionString: this.options.databaseUrl, application_name: 'scalelab-relay' });
    this.listener = client;
    const retry = () => {
      if (this.listener !== client) return;
      this.listener = undefined;
      client.end().catch(() => undefined);
      this.listenRetry = setTimeout(() => void this.listen(), 1_000);
    };
    client.on('error', retry);
    client.on('end', retry);
    client.on('notification', () => this.poke());
    try {
      await client.connect();
      await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
    } catch {
      retry();
    }
  }

  private unlisten(): void {
    clearTimeout(this.listenRetry);
    const client = this.listener;
    this.listener = undefined;
    client?.end().catch(() => undefined);
  }
}
