import type { Redis } from 'ioredis';
import { PROJECTOR_GROUP, USER_EVENTS_STREAM } from '../../../backend/stream.js';

/** What Redis says of the `user-events` stream and its projector group. */
export interface StreamFigures {
  /** XLEN: entries in the stream now (it is trimmed, so this is not a count of events). */
  length: number;
  /** XINFO STREAM `entries-added`: every entry ever added, a counter for events/s; undefined before Redis 7. */
  entriesAdded: number | undefined;
  /** The projector group, or undefined before the group exists. */
  group: { lag: number | null; pending: number } | undefined;
}

/** A flat `[key, value, key, value, …]` reply (XINFO's shape over RESP2) as a map. */
export function pairs(reply: unknown): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (!Array.isArray(reply)) return out;
  for (let i = 0; i + 1 < reply.length; i += 2) out.set(String(reply[i]), reply[i + 1]);
  return out;
}

function count(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

/** The projector group's lag and pending from an XINFO GROUPS reply; undefined when the group is not there. */
export function projectorGroup(reply: unknown, group = PROJECTOR_GROUP): StreamFigures['group'] {
  if (!Array.isArray(reply)) return undefined;
  for (const entry of reply) {
    const fields = pairs(entry);
    if (String(fields.get('name')) !== group) continue;
    // lag is nil when Redis cannot tell (entries deleted past the group's position).
    return { lag: count(fields.get('lag')), pending: count(fields.get('pending')) ?? 0 };
  }
  return undefined;
}

const isNoSuchKey = (err: unknown) => err instanceof Error && /no such key/i.test(err.message);

/**
 * Reads the stream's length, entries added and the projector group's lag and pending with one
 * round trip (a pipeline). A stream that does not exist yet (no event so far) is empty.
 * @throws when Redis does not answer
 */
export async function readStream(client: Redis, stream = USER_EVENTS_STREAM, group = PROJECTOR_GROUP): Promise<StreamFigures> {
  const results = await client.pipeline().xlen(stream).xinfo('STREAM', stream).xinfo('GROUPS', stream).exec();
  if (!results) throw new Error('the stream pipeline was discarded');
  const [[lengthError, length], [infoError, info], [groupsError, groups]] = results as [
    [Error | null, unknown],
    [Error | null, unknown],
    [Error | null, unknown],
  ];
  if (lengthError) throw lengthError;
  if (infoError && !isNoSuchKey(infoError)) throw infoError;
  if (groupsError && !isNoSuchKey(groupsError)) throw groupsError;
  const added = infoError ? 0 : count(pairs(info).get('entries-added'));
  return {
    length: count(length) ?? 0,
    entriesAdded: added ?? undefined,
    group: groupsError ? undefined : projectorGroup(groups, group),
  };
}
