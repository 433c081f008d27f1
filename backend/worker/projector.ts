import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Logger } from 'pino';
import { applyEvents, resetReadModel, type ApplyResult, type UserEvent } from '../db/read-model.js';
import { PROJECTOR_GROUP, USER_EVENTS_STREAM, USER_EVENT_TYPES, type UserEventType } from '../stream.js';
import { NamedError } from '../named-error.js';

/** Options of {@link Projector}. */
export interface ProjectorOptions {
  /** Runs one transaction per batch. */
  pool: pg.Pool;
  /** The projector's own connection (XREADGROUP blocks it). Owned: stop() and kill() close it. */
  redis: Redis;
  /** This consumer's name in the group; a restarted projector takes a new one. */
  consumer: string;
  log: Logger;
  /** Entries read and applied per transaction. @defaultValue 500 */
  batchSize?: number;
  /** How long one XREADGROUP waits for new entries. @defaultValue 1000 */
  blockMs?: number;
  /** Pending entries idle this long are taken over from their consumer (it died). @defaultValue 5000 */
  claimIdleMs?: number;
  /** How often idle pending entries are looked for. @defaultValue 2000 */
  claimEveryMs?: number;
  /** After kill(), how long the projector waits for a batch to die in the middle of before it dies idle. @defaultValue 1000 */
  killArmMs?: number;
  /** Called after each committed batch. */
  onApplied?: (result: ApplyResult) => void;
}

/** Thrown inside the projector loop to die where a crash hurts most: committed, not acknowledged. */
export class ProjectorKilledError extends NamedError {
  constructor() {
    super('projector killed (chaos): applied but not acknowledged');
  }
}

/** A stream entry: its id and flat field list (null when the entry was trimmed away). */
export type StreamEntry = [id: string, fields: string[] | null];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TYPES = new Set<string>(USER_EVENT_TYPES);
/** Consumers idle this long with nothing pending are removed, so restarts do not pile them up. */
const FORGET_CONSUMER_MS = 10 * 60_000;

/** Parses one entry written by the relay; undefined when it is not a user event. */
export function parseStreamEntry(fields: readonly string[]): UserEvent | undefined {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) map.set(fields[i]!, fields[i + 1]!);
  const eventId = map.get('event_id');
  const type = map.get('type');
  const occurredAt = map.get('occurred_at');
  const userId = Number(map.get('user_id'));
  if (
    !eventId ||
    !UUID.test(eventId) ||
    !type ||
    !TYPES.has(type) ||
    !occurredAt ||
    Number.isNaN(Date.parse(occurredAt)) ||
    !Number.isSafeInteger(userId)
  )
    return undefined;
  try {
    const payload: unknown = JSON.parse(map.get('payload') ?? '');
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
    return { eventId: eventId.toLowerCase(), type: type as UserEventType, userId, payload: payload as Record<string, unknown>, occurredAt };
  } catch {
    return undefined;
  }
}

/**
 * Creates the consumer group (from the start of the stream) when missing. True when it was
 * created: on a Redis that already had events (it restarted empty, having no persistence), what
 * the stream lost is still in the outbox for ten minutes, so those rows are published again; the
 * read model skips the ones it has.
 */
export async function ensureProjectorGroup(redis: Redis, pool: pg.Pool): Promise<boolean> {
  try {
    await redis.xgroup('CREATE', USER_EVENTS_STREAM, PROJECTOR_GROUP, '0', 'MKSTREAM');
  } catch (err) {
    if ((err as Error).message.includes('BUSYGROUP')) return false;
    throw err;
  }
  await pool.query('UPDATE outbox SET sent_at = NULL WHERE sent_at IS NOT NULL');
  return true;
}

/**
 * The read model's builder: one consumer of the group `projector`. Each batch is applied in one
 * PostgreSQL transaction and acknowledged (XACK) after COMMIT, so a crash re-delivers at most what
 * was already applied, and read_model_applied turns that into a no-op. Entries a dead consumer
 * left pending are taken over with XAUTOCLAIM once idle for `claimIdleMs`.
 */
export class Projector {
  private readonly batchSize: number;
  private readonly blockMs: number;
  private readonly claimIdleMs: number;
  private readonly claimEveryMs: number;
  private readonly killArmMs: number;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private dieBy: number | undefined;
  private armTimer: NodeJS.Timeout | undefined;
  private inBatch = false;
  private failures = 0;
  private claimCursor = '0-0';
  private claimAt = 0;
  /** Read this consumer's own pending entries first: after a failed batch they are still there. */
  private ownPending = true;

  constructor(private readonly options: ProjectorOptions) {
    this.batchSize = options.batchSize ?? 500;
    this.blockMs = options.blockMs ?? 1_000;
    this.claimIdleMs = options.claimIdleMs ?? 5_000;
    this.claimEveryMs = options.claimEveryMs ?? 2_000;
    this.killArmMs = options.killArmMs ?? 1_000;
  }

  /** Starts the loop; a second call does nothing. */
  start(): void {
    this.loop ??= this.run().finally(() => {
      clearTimeout(this.armTimer);
      this.options.redis.disconnect();
    });
  }

  /** Finishes the batch in flight (applied and acknowledged), then stops. Safe to call twice. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (!this.loop) return this.options.redis.disconnect();
    // A blocked XREADGROUP returns within blockMs; a Redis that is down would keep it forever.
    const timer = setTimeout(() => {
      if (!this.inBatch) this.options.redis.disconnect();
    }, this.blockMs + 1_000);
    await this.loop;
    clearTimeout(timer);
  }

  /**
   * Dies at the worst point: the next batch is committed and left unacknowledged (another
   * consumer claims it later and finds it applied). With no batch within `killArmMs` it dies idle,
   * its connection dropped mid-XREADGROUP. Resolves once the loop has ended.
   */
  async kill(): Promise<void> {
    if (this.dieBy === undefined) {
      this.dieBy = Date.now() + this.killArmMs;
      this.armTimer = setTimeout(() => {
        if (!this.inBatch) this.options.redis.disconnect();
      }, this.killArmMs);
    }
    await this.loop;
  }

  private dead(): boolean {
    return this.dieBy !== undefined && Date.now() >= this.dieBy;
  }

  private async run(): Promise<void> {
    const { redis, pool, log } = this.options;
    while (!this.stopping && !this.dead()) {
      try {
        if (await ensureProjectorGroup(redis, pool)) log.info('projector: created the consumer group');
        break;
      } catch (err) {
        if (this.stopping || this.dieBy !== undefined) return;
        await this.backoff(err as Error, 'could not create the consumer group');
      }
    }
    while (!this.stopping && !this.dead()) {
      try {
        const entries = (await this.claim()) ?? (await this.read());
        if (entries.length > 0) await this.process(entries);
        this.failures = 0;
      } catch (err) {
        if (err instanceof ProjectorKilledError || this.stopping || this.dieBy !== undefined) return;
        this.ownPending = true;
        if ((err as Error).message.includes('NOGROUP')) {
          await ensureProjectorGroup(redis, pool).catch(() => undefined);
        }
        await this.backoff(err as Error, 'batch failed; retrying');
      }
    }
  }

  private async backoff(err: Error, what: string): Promise<void> {
    this.failures++;
    if (this.failures === 1 || this.failures % 50 === 0)
      this.options.log.warn({ err: err.message, failures: this.failures }, `projector: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** this.failures, 2_000)));
  }

  /** One page of entries idle too long in any consumer's pending list, now ours; undefined when not due. */
  private async claim(): Promise<StreamEntry[] | undefined> {
    if (Date.now() < this.claimAt) return undefined;
    const { redis, consumer } = this.options;
    const [next, entries] = (await redis.xautoclaim(
      USER_EVENTS_STREAM,
      PROJECTOR_GROUP,
      consumer,
      this.claimIdleMs,
      this.claimCursor,
      'COUNT',
      this.batchSize,
    )) as [string, StreamEntry[], string[]?];
    this.claimCursor = next;
    if (next === '0-0') {
      this.claimAt = Date.now() + this.claimEveryMs;
      await this.forgetDeadConsumers().catch(() => undefined);
    }
    if (entries.length > 0) this.options.log.info({ entries: entries.length }, 'projector: took over entries a dead consumer left pending');
    return entries.length > 0 ? entries : undefined;
  }

  private async read(): Promise<StreamEntry[]> {
    const { redis, consumer } = this.options;
    const id = this.ownPending ? '0' : '>';
    const reply = (await redis.xreadgroup(
      'GROUP',
      PROJECTOR_GROUP,
      consumer,
      'COUNT',
      this.batchSize,
      'BLOCK',
      this.blockMs,
      'STREAMS',
      USER_EVENTS_STREAM,
      id,
    )) as [string, StreamEntry[]][] | null;
    const entries = reply?.[0]?.[1] ?? [];
    if (id === '0' && entries.length === 0) this.ownPending = false;
    return entries;
  }

  private async process(entries: StreamEntry[]): Promise<void> {
    const { pool, redis, log } = this.options;
    const events: UserEvent[] = [];
    for (const [id, fields] of entries) {
      // A trimmed entry (null) cannot be applied; a malformed one never will be. Both are acknowledged.
      const event = fields ? parseStreamEntry(fields) : undefined;
      if (event) events.push(event);
      else
        log.warn(
          { id },
          fields ? 'projector: skipped an entry that is not a user event' : 'projector: a pending entry was trimmed from the stream',
        );
    }
    this.inBatch = true;
    try {
      const client = await pool.connect();
      let failure: Error | undefined;
      let result: ApplyResult;
      try {
        await client.query('BEGIN');
        result = await applyEvents(client, events);
        await client.query('COMMIT');
      } catch (err) {
        failure = err as Error;
        throw err;
      } finally {
        client.release(failure);
      }
      this.options.onApplied?.(result);
      if (this.dieBy !== undefined) throw new ProjectorKilledError();
      await redis.xack(USER_EVENTS_STREAM, PROJECTOR_GROUP, ...entries.map(([id]) => id));
    } finally {
      this.inBatch = false;
    }
  }

  private async forgetDeadConsumers(): Promise<void> {
    const { redis, consumer } = this.options;
    const rows = (await redis.xinfo('CONSUMERS', USER_EVENTS_STREAM, PROJECTOR_GROUP)) as (string | number)[][];
    for (const row of rows) {
      const info = new Map<string, string | number>();
      for (let i = 0; i + 1 < row.length; i += 2) info.set(String(row[i]), row[i + 1]!);
      const name = String(info.get('name'));
      if (name !== consumer && Number(info.get('pending')) === 0 && Number(info.get('idle')) > FORGET_CONSUMER_MS) {
        await redis.xgroup('DELCONSUMER', USER_EVENTS_STREAM, PROJECTOR_GROUP, name);
      }
    }
  }
}

/** What {@link rebuildReadModel} replayed. */
export interface RebuildResult {
  /** Stream entries read. */
  entries: number;
  /** Distinct events applied. */
  applied: number;
  /** Copies skipped (a relay that re-published), and entries that were not user events. */
  skipped: number;
}

/**
 * Rebuilds the read model from scratch: in one transaction, empties it and replays the whole
 * stream (XRANGE) through the projector's own apply code. The TRUNCATE waits for projector
 * batches in flight and holds them off until COMMIT; whatever they apply afterwards is either in
 * the replay (and skipped as a duplicate) or newer. Readers of the read model (GET /stats/users)
 * wait meanwhile too. Events trimmed from the stream (STREAM_MAX_LEN) are not in the result.
 */
export async function rebuildReadModel(pool: pg.Pool, redis: Redis, chunk = 2_000): Promise<RebuildResult> {
  const client = await pool.connect();
  let failure: Error | undefined;
  const result: RebuildResult = { entries: 0, applied: 0, skipped: 0 };
  try {
    await client.query('BEGIN');
    await resetReadModel(client);
    let start = '-';
    for (;;) {
      const entries = (await redis.xrange(USER_EVENTS_STREAM, start, '+', 'COUNT', chunk)) as StreamEntry[];
      if (entries.length === 0) break;
      const events = entries.flatMap(([, fields]) => {
        const event = fields ? parseStreamEntry(fields) : undefined;
        return event ? [event] : [];
      });
      const applied = await applyEvents(client, events);
      result.entries += entries.length;
      result.applied += applied.applied;
      result.skipped += entries.length - applied.applied;
      start = `(${entries.at(-1)![0]}`;
    }
    await client.query('COMMIT');
    return result;
  } catch (err) {
    failure = err as Error;
    throw err;
  } finally {
    client.release(failure);
  }
}
