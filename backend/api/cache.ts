import CircuitBreaker from 'opossum';
import type { Redis } from 'ioredis';
import { PRIMARY_ONLY_LSN, lsnFromSortable, maxLsn, sortableLsn } from '../db/read-router.js';
import {
  floorOf,
  keyOf,
  markerKeyOf,
  parseEntry,
  toJson,
  UNKNOWN_WRITES,
  USER_STORE_LUA,
  USER_WRITTEN_LUA,
  type Entry,
  type Load,
  type Loader,
  type MarkerScripts,
} from './cache-entry.js';
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
  /**
   * Read-your-writes markers, for a service that reads from a replica: every write leaves the
   * WAL position it committed at in Redis (key `user-lsn:<id>`), and a read that misses gives the
   * newest one as the floor its database read must reach. Off: invalidation is a plain DEL, as
   * without a replica nothing can be behind. @defaultValue false
   */
  writeMarkers?: boolean;
  /** How long a write marker lives, ms: longer than any replay lag the router tolerates. @defaultValue 30000 */
  writeMarkerMs?: number;
}

const BREAKER_STATE = { closed: 0, halfOpen: 1, open: 2 } as const;

/**
 * Cache-aside for users in Redis, behind a circuit breaker.
 * - Concurrent misses on one key share one database read (per replica).
 * - Hot keys are refreshed early (probabilistic early expiration, "XFetch").
 * - With Redis down the breaker opens and every read goes to PostgreSQL; invalidations that
 *   could not reach Redis are retried once it answers again, so no stale user outlives an outage.
 * - With write markers (a read replica), a read that misses carries the user's last write
 *   position as its floor, so any api replica reads back a write made through any other; a
 *   read only joins a load whose floor is as high as its own, and an entry is stored only if no
 *   write marked the user while it was read, so a replica's stale answer is never cached over
 *   a newer write. With Redis unreachable, writes made elsewhere cannot be known: reads go to
 *   the primary; this replica's own writes are remembered in-process for the marker's life.
 */
export class UserCache {
  readonly breaker: CircuitBreaker<[() => Promise<unknown>], unknown>;
  private readonly ttlMs: number;
  private readonly refreshWindowMs: number;
  private readonly markers: boolean;
  private readonly markerMs: number;
  private readonly inflight = new Map<number, Load>();
  private readonly refreshing = new Map<number, Load>();
  /** ids written while a read of them was in flight: that read must not be cached, nor joined */
  private readonly dirty = new Set<number>();
  /** id → its write marker (sortable LSN), or undefined for a plain DEL, not yet in Redis */
  private readonly pendingInvalidations = new Map<number, string | undefined>();
  /** id → this replica's last write to it (sortable LSN) and until when it matters, oldest first */
  private readonly recentWrites = new Map<number, { lsn: string; until: number }>();
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
    this.markers = options.writeMarkers ?? false;
    this.markerMs = options.writeMarkerMs ?? 30_000;
    if (this.markers) {
      redis.defineCommand('userWritten', { numberOfKeys: 2, lua: USER_WRITTEN_LUA });
      redis.defineCommand('userStore', { numberOfKeys: 2, lua: USER_STORE_LUA });
    }
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
   * invalidation (but leaves a write marker, see {@link created}). `floorLsn`: a WAL position
   * the client has seen (header x-min-lsn); a miss reads from a server that has replayed it.
   */
  async read(id: number, load: Loader, floorLsn?: string): Promise<string | null> {
    if (this.markers) return this.readFollowingWrites(id, load, floorLsn);
    // An id whose invalidation has not reached Redis yet may have a stale entry there.
    if (!this.enabled || this.pendingInvalidations.has(id)) return toJson(await load(id));
    const pending = this.inflight.get(id);
    if (pending && !this.dirty.has(id)) {
      this.metrics.cacheCoalesced.inc();
      return pending.promise;
    }
    const raw = await this.call(() => this.redis.get(keyOf(id)));
    const entry = typeof raw === 'string' ? parseEntry(raw) : undefined;
    if (entry) {
      this.metrics.cacheHits.inc();
      if (this.shouldRefreshEarly(entry)) void this.refresh(id, load, undefined, '');
      return entry.json;
    }
    this.metrics.cacheMisses.inc();
    return this.loadOnce(id, load, undefined, '');
  }

  /**
   * Drops a user's entry after a write; retried later if Redis cannot be reached now. `lsn`:
   * the write's WAL position, for the write marker (a missing one, with markers on, sends the
   * user's reads to the primary for the marker's life).
   */
  async invalidate(id: number, lsn?: string): Promise<void> {
    if (this.markers) return this.markWrite(id, lsn);
    if (!this.enabled) return;
    if (this.inflight.has(id) || this.refreshing.has(id)) this.dirty.add(id);
    const ok = await this.call(() => this.redis.del(keyOf(id)));
    if (ok === undefined) {
      this.pendingInvalidations.set(id, undefined);
      this.scheduleFlush();
    }
  }

  /** After a create: with write markers, other api replicas read the new user from a server that has it. */
  async created(id: number, lsn: string | undefined): Promise<void> {
    if (this.markers) await this.markWrite(id, lsn);
  }

  /** Stops the breaker's timers. Safe to call twice. */
  close(): void {
    clearInterval(this.flushTimer);
    this.flushTimer = undefined;
    this.breaker.shutdown();
  }

  private async readFollowingWrites(id: number, load: Loader, floorLsn: string | undefined): Promise<string | null> {
    const local = this.recentWrite(id);
    if (!this.enabled || this.pendingInvalidations.has(id)) {
      // Nothing to cache (or this replica's marker is not in Redis yet): the marker alone decides.
      const marker = this.pendingInvalidations.has(id) ? null : await this.call(() => this.redis.get(markerKeyOf(id)));
      const floor = marker === undefined ? PRIMARY_ONLY_LSN : maxLsn(maxLsn(marker ? lsnFromSortable(marker) : undefined, local), floorLsn);
      return toJson(await load(id, floor));
    }
    const got = await this.call(() => this.redis.mget(keyOf(id), markerKeyOf(id)));
    if (got === undefined) {
      // Redis unreachable: writes through other api replicas cannot be known, so read the primary.
      return toJson(await load(id, PRIMARY_ONLY_LSN));
    }
    const [raw, marker] = got;
    const floor = maxLsn(maxLsn(marker ? lsnFromSortable(marker) : undefined, local), floorLsn);
    const entry = typeof raw === 'string' ? parseEntry(raw) : undefined;
    if (entry) {
      this.metrics.cacheHits.inc();
      if (this.shouldRefreshEarly(entry)) void this.refresh(id, load, floor, marker ?? '');
      return entry.json;
    }
    this.metrics.cacheMisses.inc();
    return this.loadOnce(id, load, floor, marker ?? '');
  }

  private async markWrite(id: number, lsn: string | undefined): Promise<void> {
    const sortable = (lsn === undefined ? undefined : sortableLsn(lsn)) ?? UNKNOWN_WRITES;
    this.rememberWrite(id, sortable);
    if (this.inflight.has(id) || this.refreshing.has(id)) this.dirty.add(id);
    const scripts = this.redis as unknown as MarkerScripts;
    const ok = await this.call(() => scripts.userWritten(keyOf(id), markerKeyOf(id), sortable, this.markerMs));
    if (ok === undefined) {
      const pending = this.pendingInvalidations.get(id);
      this.pendingInvalidations.set(id, pending !== undefined && pending > sortable ? pending : sortable);
      this.scheduleFlush();
    }
  }

  private rememberWrite(id: number, sortable: string): void {
    const now = Date.now();
    const previous = this.recentWrites.get(id);
    this.recentWrites.delete(id);
    this.recentWrites.set(id, { lsn: previous && previous.lsn > sortable ? previous.lsn : sortable, until: now + this.markerMs });
    // Oldest first, all with the same life: expired ones are at the front.
    for (const [key, write] of this.recentWrites) {
      if (write.until > now) break;
      this.recentWrites.delete(key);
    }
  }

  private recentWrite(id: number): string | undefined {
    const write = this.recentWrites.get(id);
    return write && write.until > Date.now() ? lsnFromSortable(write.lsn) : undefined;
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

  /**
   * Joins a load of `id` in flight when it can answer this read: no write to the user since it
   * began (`dirty`), and a floor at least as high as this read's. Otherwise loads anew.
   */
  private loadOnce(id: number, load: Loader, floorLsn: string | undefined, seenMarker: string): Promise<string | null> {
    const pending = this.inflight.get(id) ?? this.refreshing.get(id);
    if (pending && !this.dirty.has(id)) {
      const floor = floorOf(floorLsn);
      if (floor === undefined || (pending.floor !== undefined && pending.floor >= floor)) {
        this.metrics.cacheCoalesced.inc();
        return pending.promise;
      }
    }
    // A second load of a key already loading answers this read alone; the first one stores.
    if (pending) return load(id, floorLsn).then(toJson);
    return this.track(this.inflight, id, load, floorLsn, seenMarker);
  }

  private refresh(id: number, load: Loader, floorLsn: string | undefined, seenMarker: string): Promise<string | null> | undefined {
    if (this.refreshing.has(id) || this.inflight.has(id)) return undefined;
    this.metrics.cacheRefreshes.inc();
    return this.track(this.refreshing, id, load, floorLsn, seenMarker).catch(() => null);
  }

  /**
   * Loads and stores one key, visible in `map` until the store is acknowledged: a read that
   * missed before the store landed joins this load instead of querying again.
   */
  private track(
    map: Map<number, Load>,
    id: number,
    load: Loader,
    floorLsn: string | undefined,
    seenMarker: string,
  ): Promise<string | null> {
    const started = performance.now();
    const promise = (async () => {
      try {
        const json = toJson(await load(id, floorLsn));
        if (json !== null && !this.dirty.has(id)) await this.store(id, json, performance.now() - started, seenMarker);
        return json;
      } finally {
        map.delete(id);
        if (!this.inflight.has(id) && !this.refreshing.has(id)) this.dirty.delete(id);
      }
    })();
    map.set(id, { promise, floor: floorOf(floorLsn) });
    return promise;
  }

  /** `seenMarker`: the user's write marker when the read began ('' for none); with markers, a changed one vetoes the store. */
  private async store(id: number, json: string, readMs: number, seenMarker: string): Promise<void> {
    const value = `${Date.now() + this.ttlMs}:${Math.ceil(readMs)}:${json}`;
    if (!this.markers) {
      await this.call(() => this.redis.set(keyOf(id), value, 'PX', this.ttlMs));
      return;
    }
    const scripts = this.redis as unknown as MarkerScripts;
    await this.call(() => scripts.userStore(keyOf(id), markerKeyOf(id), value, this.ttlMs, seenMarker));
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
      const pending = [...this.pendingInvalidations];
      const scripts = this.redis as unknown as MarkerScripts;
      const dels = pending.filter(([, lsn]) => lsn === undefined).map(([id]) => keyOf(id));
      await Promise.all([
        dels.length > 0 ? this.redis.del(...dels) : undefined,
        ...pending
          .filter(([, lsn]) => lsn !== undefined)
          .map(([id, lsn]) => scripts.userWritten(keyOf(id), markerKeyOf(id), lsn!, this.markerMs)),
      ]);
      // A newer write that failed meanwhile replaced its entry: keep that one for the next round.
      for (const [id, lsn] of pending) if (this.pendingInvalidations.get(id) === lsn) this.pendingInvalidations.delete(id);
    } catch {
      // Still unreachable; the next successful call tries again.
    } finally {
      this.flushing = false;
    }
  }
}
