/**
 * The user cache's layout in Redis (see UserCache in cache.ts): entry keys and format, the
 * write-marker keys and the Lua scripts that maintain them, and the shapes of a database read.
 */
import { PRIMARY_ONLY_LSN, parseLsn, sortableLsn } from '../db/read-router.js';
import type { UserRecord } from '../db/users.js';

/**
 * A cached user as stored in Redis: `<expiry epoch ms>:<database read ms>:<user JSON>`.
 * The JSON is the API's response body, so a hit is sent without parsing or serializing.
 */
export interface Entry {
  /** expiry, epoch ms */
  expiresAt: number;
  /** how long the database read took, ms */
  readMs: number;
  /** the user as JSON */
  json: string;
}

/** Reads a user from PostgreSQL; `minLsn` is the floor the answering server must have replayed (ReadRouter). */
export type Loader = (id: number, minLsn?: string) => Promise<UserRecord | null>;

/** A database read of one user in flight, and the floor it was started with. */
export interface Load {
  promise: Promise<string | null>;
  floor: bigint | undefined;
}

/** The Redis scripts of the write markers (defined with defineCommand: EVALSHA, EVAL on first use). */
export interface MarkerScripts {
  /** Drops the entry and raises the marker to the given position (never lowers it), renewing its life. */
  userWritten(entryKey: string, markerKey: string, sortableLsn: string, markerMs: number): Promise<number>;
  /** Stores the entry unless the marker changed since the read began: a write happened meanwhile. */
  userStore(entryKey: string, markerKey: string, value: string, ttlMs: number, seenMarker: string): Promise<number>;
}

export const USER_WRITTEN_LUA = `
redis.call('DEL', KEYS[1])
local m = redis.call('GET', KEYS[2])
if (not m) or m < ARGV[1] then m = ARGV[1] end
redis.call('SET', KEYS[2], m, 'PX', ARGV[2])
return 1`;

export const USER_STORE_LUA = `
local m = redis.call('GET', KEYS[2]) or ''
if m ~= ARGV[3] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

export const UNKNOWN_WRITES = sortableLsn(PRIMARY_ONLY_LSN)!;

/** The user as the API's JSON body: exactly the UserRecord fields, nothing else. */
export function toJson(user: UserRecord | null): string | null {
  return user === null ? null : JSON.stringify(user);
}

export function keyOf(id: number): string {
  return `user:${id}`;
}

export function markerKeyOf(id: number): string {
  return `user-lsn:${id}`;
}

export function floorOf(lsn: string | undefined): bigint | undefined {
  return lsn === undefined ? undefined : parseLsn(lsn);
}

export function parseEntry(raw: string): Entry | undefined {
  const first = raw.indexOf(':');
  const second = raw.indexOf(':', first + 1);
  if (first < 1 || second < 0) return undefined;
  const expiresAt = Number(raw.slice(0, first));
  const readMs = Number(raw.slice(first + 1, second));
  if (!Number.isFinite(expiresAt) || !Number.isFinite(readMs) || raw.charCodeAt(second + 1) !== 123 /* { */) return undefined;
  return { expiresAt, readMs, json: raw.slice(second + 1) };
}
