import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { SEND_EMAIL_QUEUE } from '../../../backend/queue.js';
import { readStream, type StreamFigures } from './stream-probe.js';

/** What Redis INFO says; `up` false when it could not be asked. */
export interface RedisFigures {
  up: boolean;
  memoryBytes: number | null;
  keys: number | null;
  opsPerSec: number | null;
}

/** Job counts of the send-email queue. */
export interface QueueCounts {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  completed: number;
}

/** Options of {@link RedisProbe}. */
export interface RedisProbeOptions {
  /** Longest a connection attempt or command may take. @defaultValue 700 */
  timeoutMs?: number;
}

const DOWN: RedisFigures = { up: false, memoryBytes: null, keys: null, opsPerSec: null };

/** Reads `field:value` lines of one INFO reply. */
export function parseRedisInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

function number(value: string | undefined): number | null {
  if (value === undefined) return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

/**
 * One Redis connection for the control plane's questions: INFO, the queue's job counts and the
 * event stream's figures.
 * It never queues commands while disconnected, so a down Redis answers "down" at once instead of
 * piling up commands; ioredis keeps reconnecting in the background.
 */
export class RedisProbe {
  private readonly client: Redis;
  private queue: Queue | undefined;
  private closed = false;

  constructor(
    readonly url: string,
    options: RedisProbeOptions = {},
  ) {
    const timeoutMs = options.timeoutMs ?? 700;
    this.client = new Redis(url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: timeoutMs,
      // A frozen (SIGSTOP) Redis accepts the connection but never answers.
      commandTimeout: timeoutMs,
      retryStrategy: (times) => Math.min(200 * times, 1_000),
      connectionName: 'scalelab-telemetry',
    });
    this.client.on('error', () => undefined); // reported as up=false by the next tick
  }

  private connecting: Promise<void> | undefined;

  private async ready(): Promise<boolean> {
    if (this.closed) return false;
    // INFO and the queue ask at the same time; ioredis refuses a second connect() while connecting.
    if (this.client.status === 'wait') this.connecting ??= this.client.connect().catch(() => undefined);
    if (this.connecting) await this.connecting;
    return this.client.status === 'ready';
  }

  /** Memory, keys and ops/s from INFO; `up: false` when Redis does not answer. */
  async info(): Promise<RedisFigures> {
    if (!(await this.ready())) return DOWN;
    try {
      const info = parseRedisInfo(await this.client.info());
      const db0 = /keys=(\d+)/.exec(info.get('db0') ?? '');
      return {
        up: true,
        memoryBytes: number(info.get('used_memory')),
        // No db0 line means an empty database.
        keys: db0 ? Number(db0[1]) : 0,
        opsPerSec: number(info.get('instantaneous_ops_per_sec')),
      };
    } catch {
      return DOWN;
    }
  }

  /** Job counts of the send-email queue, or undefined when Redis does not answer. */
  async queueCounts(): Promise<QueueCounts | undefined> {
    if (!(await this.ready())) return undefined;
    // Created only on a ready connection: a Queue whose first connection failed stays broken.
    if (!this.queue) {
      this.queue = new Queue(SEND_EMAIL_QUEUE, { connection: this.client });
      this.queue.on('error', () => undefined);
    }
    try {
      const c = await this.queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed', 'completed');
      // Prioritized jobs wait too, just in another list.
      return {
        waiting: (c.waiting ?? 0) + (c.prioritized ?? 0),
        active: c.active ?? 0,
        delayed: c.delayed ?? 0,
        failed: c.failed ?? 0,
        completed: c.completed ?? 0,
      };
    } catch {
      const broken = this.queue;
      this.queue = undefined;
      await broken.close().catch(() => undefined);
      return undefined;
    }
  }

  /** The `user-events` stream and its projector group, or undefined when Redis does not answer. */
  async stream(): Promise<StreamFigures | undefined> {
    if (!(await this.ready())) return undefined;
    try {
      return await readStream(this.client);
    } catch {
      return undefined;
    }
  }

  /** Closes the queue and the connection. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const queue = this.queue;
    this.queue = undefined;
    try {
      // The connection is shared, so the queue's close leaves it to us.
      if (queue) await Promise.race([queue.close(), new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
    } catch {
      // closing anyway
    } finally {
      this.client.disconnect();
    }
  }
}
