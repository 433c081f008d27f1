import CircuitBreaker from 'opossum';
import type { Redis } from 'ioredis';
import type { UserRecord } from '../db/users.js';
import { delay, type Faults } from './faults.js';
import type { ApiMetrics } from './metrics.js';

/** Options of {@link UserCache}. */
export interface UserCacheOptions {
  /** Seconds a user stays cached; 0 turns the cache off. @defaultValue 60 */
  ttlSeconds: number;
  /**
   * Early-refresh window as a fraction of the TTL (XFetch's delta). A read this close to expiry
   * refreshes the key with a probability that rises as expiry nears, so a hot key is refreshed
   * before it expires and never sends a herd to PostgreSQL. @defaultValue 0.1
   */
  refreshWindow?: number;
  /** Milliseconds the breaker stays open before it lets one call try Redis again. @defaultValue 2000 */
  breakerResetMs?: number;
}

/**
 * A cached user as stored in Redis: `<expiry epoch ms>:<database read ms>:<user JSON>`.
 * The JSON is the API's response body, so a hit is sent without parsing or serializing.
 */
interface Entry {
  /** expiry, epoch ms */
  expiresAt: number;
  /** how long the database read took, ms */
  readMs: number;
  /** the user as JSON */
  json: string;
}

type Loader = (id: number) => Promise<UserRecord | null>;

const BREAKER_STATE = { closed: 0, halfOpen: 1, open: 2 } as const;

/** The user as the API's JSON body: exactly the UserRecord fields, nothing else. */
function toJson(user: UserRecord | null): string | null {
  return user === null ? null : JSON.stringify(user);
}

function keyOf(id: number): string {
  return `user:${id}`;
}

function parseEntry(raw: string): Entry | undefined {
  const first = raw.indexOf(':');
  const second = raw.indexOf(':', first + 1);
  if (first < 1 || second < 0) return undefined;
  const expiresAt = Number(raw.slice(0, first));
  const readMs = Number(raw.slice(first + 1, second));
  if (!Number.isFinite(expiresAt) || !Number.isFinite(readMs) || raw.charCodeAt(second + 1) !== 123 /* { */) return undefined;
  return { expiresAt, readMs, json: raw.slice(second + 1) };
}

/**
 * Cache-aside for users in Redis, behind a circuit breaker.
 * - Concurrent misses on one key share one database read (per replica).
 * - Hot keys are refreshed early (probabilistic early expiration, "XFetch").
 * - With Redis down the breaker opens and every read goes to PostgreSQL; invalidations that
 *   could not reach Redis are retried once it answers again, so no stale user outlives an outage.
 */
export class UserCache {
  readonly breaker: CircuitBreaker<[() => Promise<unknown>], unknown>;
  private readonly ttlMs: number;
  private readonly refreshWindowMs: number;
  private readonly inflight = new Map<number, Promise<string | null>>();
  private readonly refreshing = new Map<number, Promise<string | null>>();
  /** ids written while a read of them was in flight: that read must not be cached */
  private readonly dirty = new Set<number>();
  private readonly pendingInvalidations = new Set<number>();
  private flushing = false;
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly faults: Faults,
    private readonly metrics: ApiMetrics,
    options: UserCacheOptions,
  ) {
    this.ttlMs = options.ttlSeconds * 1000;
    this.refreshWindowMs = this.ttlMs * (options.refreshWindow ?? 0.1);
    // No breaker timeout: ioredis' commandTimeout bounds each call without a timer per fire.
    this.breaker = new CircuitBreaker((call: () => Promise<unknown>) => call(), {
      timeout: false,
      // Only failures reach opossum while it is closed (see call()), so this reads "5 failures".
      errorThresholdPercentage: 50,
      volumeThreshold: 5,
      resetTimeout: options.breakerResetMs ?? 2_000,
      rollingCountTimeout: 10_000,
      // Latency percentiles and snapshots keep and sort every call's timing: costly at 30k calls/s,
      // and the breaker decides on error rates alone.
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
    });
    this.metrics.breakerState.set(BREAKER_STATE.closed);
    this.breaker.on('open', () => this.metrics.breakerState.set(BREAKER_STATE.open));
    this.breaker.on('halfOpen', () => this.metrics.breakerState.set(BREAKER_STATE.halfOpen));
    this.breaker.on('close', () => this.metrics.breakerState.set(BREAKER_STATE.closed));
  }

  get enabled(): boolean {
    return this.ttlMs > 0;
  }

  /**
   * Reads a user through the cache, as its JSON; null when there is no such user.
   * `load` reads PostgreSQL on a miss. "Not found" is not cached, so creating a user needs no
   * invalidation.
   */
  async read(id: number, load: Loader): Promise<string | null> {
    // An id whose invalidation has not reached Redis yet may have a stale entry there.
    if (!this.enabled || this.pendingInvalidations.has(id)) return toJson(await load(id));
    const pending = this.inflight.get(id);
    if (pending) {
      this.metrics.cacheCoalesced.inc();
      return pending;
    }
    const raw = await this.call(() => this.redis.get(keyOf(id)));
    const entry = typeof raw === 'string' ? parseEntry(raw) : undefined;
    if (entry) {
      this.metrics.cacheHits.inc();
      if (this.shouldRefreshEarly(entry)) void this.refresh(id, load);
      return entry.json;
    }
    this.metrics.cacheMisses.inc();
    return this.loadOnce(id, load);
  }

  /** Drops a user's entry after a write; retried later if Redis cannot be reached now. */
  async invalidate(id: number): Promise<void> {
    if (!this.enabled) return;
    if (this.inflight.has(id) || this.refreshing.has(id)) this.dirty.add(id);
    const ok = await this.call(() => this.redis.del(keyOf(id)));
    if (ok === undefined) {
      this.pendingInvalidations.add(id);
      this.scheduleFlush();
    }
  }

  /** Stops the breaker's timers. Safe to call twice. */
  close(): void {
    clearInterval(this.flushTimer);
    this.flushTimer = undefined;
    this.breaker.shutdown();
  }

  /**
   * Retries pending invalidations every 500 ms until Redis takes them, whether or not anything
   * reads those ids here: another replica may read them from Redis.
   */
  private scheduleFlush(): void {
    if (this.flushTimer) return;
    this.flushTimer = setInterval(() => {
      if (this.pendingInvalidations.size === 0) {
        clearInterval(this.flushTimer);
        this.flushTimer = undefined;
        return;
      }
      void this.flushInvalidations();
    }, 500);
    this.flushTimer.unref();
  }

  private shouldRefreshEarly(entry: Entry): boolean {
    const gap = entry.expiresAt - Date.now();
    if (gap <= 0) return true;
    const window = Math.max(entry.readMs, this.refreshWindowMs);
    return -window * Math.log(Math.random()) >= gap;
  }

  private loadOnce(id: number, load: Loader): Promise<string | null> {
    const pending = this.inflight.get(id) ?? this.refreshing.get(id);
    if (pending) {
      this.metrics.cacheCoalesced.inc();
      return pending;
    }
    return this.track(this.inflight, id, load);
  }

  private refresh(id: number, load: Loader): Promise<string | null> | undefined {
    if (this.refreshing.has(id) || this.inflight.has(id)) return undefined;
    this.metrics.cacheRefreshes.inc();
    return this.track(this.refreshing, id, load).catch(() => null);
  }

  /**
   * Loads and stores one key, visible in `map` until the store is acknowledged: a read that
   * missed before the store landed joins this load instead of querying again.
   */
  private track(map: Map<number, Promise<string | null>>, id: number, load: Loader): Promise<string | null> {
    const started = performance.now();
    const promise = (async () => {
      try {
        const json = toJson(await load(id));
        if (json !== null && !this.dirty.has(id)) await this.store(id, json, performance.now() - started);
        return json;
      } finally {
        map.delete(id);
        if (!this.inflight.has(id) && !this.refreshing.has(id)) this.dirty.delete(id);
      }
    })();
    map.set(id, promise);
    return promise;
  }

  private async store(id: number, json: string, readMs: number): Promise<void> {
    const value = `${Date.now() + this.ttlMs}:${Math.ceil(readMs)}:${json}`;
    await this.call(() => this.redis.set(keyOf(id), value, 'PX', this.ttlMs));
  }

  /**
   * One Redis call; undefined when Redis failed or the breaker is open.
   * While the breaker is closed the call goes straight to Redis and only failures are handed to
   * opossum, so the breaker costs nothing per hit and opens after `volumeThreshold` failures within
   * its rolling window. Open and half-open, every call goes through opossum, which rejects them or
   * lets one trial through.
   */
  private async call<T>(fn: () => Promise<T>): Promise<T | undefined> {
    if (this.faults.cacheLatencyMs > 0) await delay(this.faults.cacheLatencyMs);
    try {
      return this.breaker.closed ? await fn() : ((await this.breaker.fire(fn)) as T);
    } catch (err) {
      this.metrics.cacheErrors.inc();
      if (this.breaker.closed) this.breaker.fire(() => Promise.reject(err)).catch(() => undefined);
      return undefined;
    }
  }

  private async flushInvalidations(): Promise<void> {
    if (this.flushing || this.pendingInvalidations.size === 0) return;
    this.flushing = true;
    try {
      const ids = [...this.pendingInvalidations];
      await this.redis.del(...ids.map(keyOf));
      for (const id of ids) this.pendingInvalidations.delete(id);
    } catch {
      // Still unreachable; the next successful call tries again.
    } finally {
      this.flushing = false;
    }
  }
}
