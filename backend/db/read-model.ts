import type pg from 'pg';
import type { UserEventType } from '../stream.js';

/** One user event as the projector applies it (a stream entry, parsed). */
export interface UserEvent {
  /** The outbox row's event_id: the key that makes applying an event idempotent. */
  eventId: string;
  type: UserEventType;
  userId: number;
  /** created: id, email, createdAt; updated: id, email, oldEmail; deleted: id, oldEmail, createdAt. */
  payload: Record<string, unknown>;
  /** ISO-8601 time of the change. */
  occurredAt: string;
}

/** What one {@link applyEvents} did. */
export interface ApplyResult {
  /** Events applied now. */
  applied: number;
  /** Events skipped because their event id was applied before (or twice in this batch). */
  duplicates: number;
}

/** The domain of an e-mail address, lower-cased: what follows its last `@`. */
const DOMAIN = (field: string) => `lower(substring(payload->>'${field}' from '@([^@]*)$'))`;

/**
 * Signups and domain counts are deltas summed per key, so a batch touches each row once and every
 * event commutes with the others. Rows are upserted in key order so that two projectors never
 * lock the same rows in opposite orders.
 */
const APPLY_DELTAS = /* sql */ `
WITH e AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS e(type text, payload jsonb)
), signups AS (
  INSERT INTO read_model_signups (minute, signups)
  SELECT date_trunc('minute', (payload->>'createdAt')::timestamptz, 'UTC'), count(*)
  FROM e WHERE type = 'user.created' GROUP BY 1 ORDER BY 1
  ON CONFLICT (minute) DO UPDATE SET signups = read_model_signups.signups + EXCLUDED.signups
), deltas AS (
  SELECT domain, sum(delta)::int AS delta FROM (
    SELECT ${DOMAIN('email')} AS domain, 1 AS delta FROM e WHERE type IN ('user.created', 'user.updated')
    UNION ALL
    SELECT ${DOMAIN('oldEmail')}, -1 FROM e WHERE type IN ('user.updated', 'user.deleted')
  ) d WHERE domain IS NOT NULL GROUP BY domain HAVING sum(delta) <> 0
)
INSERT INTO read_model_domains (domain, users) SELECT domain, delta FROM deltas ORDER BY domain
ON CONFLICT (domain) DO UPDATE SET users = read_model_domains.users + EXCLUDED.users
RETURNING domain, users`;

/**
 * Applies a batch of events inside the caller's transaction (the caller commits). Each event id is
 * recorded in read_model_applied first; only the events recorded now change the projection, so a
 * batch delivered twice (a relay that died after XADD, a projector that died before XACK) counts
 * once. `read_model_state` keeps the number of events applied and the newest one.
 */
export async function applyEvents(client: pg.ClientBase, events: readonly UserEvent[]): Promise<ApplyResult> {
  if (events.length === 0) return { applied: 0, duplicates: 0 };
  // Sorted, so concurrent projectors wait on each other's event ids in one order: no deadlock.
  const ids = [...new Set(events.map((e) => e.eventId))].sort();
  const { rows } = await client.query<{ event_id: string }>({
    name: 'read-model-applied',
    text: 'INSERT INTO read_model_applied (event_id) SELECT unnest($1::uuid[]) ORDER BY 1 ON CONFLICT DO NOTHING RETURNING event_id',
    values: [ids],
  });
  const fresh = new Set(rows.map((r) => r.event_id));
  const todo: UserEvent[] = [];
  for (const event of events) {
    // The first copy of a fresh id is applied; any other copy in this batch is a duplicate.
    if (fresh.delete(event.eventId)) todo.push(event);
  }
  if (todo.length === 0) return { applied: 0, duplicates: events.length };

  // The relay writes occurred_at as fixed-width UTC with microseconds, so text order is time order;
  // the event id breaks ties, so a rebuild picks the same newest event as the live projection did.
  const newest = todo.reduce((a, b) => (b.occurredAt > a.occurredAt || (b.occurredAt === a.occurredAt && b.eventId > a.eventId) ? b : a));
  const newer = '(last_occurred_at IS NULL OR ($3::timestamptz, $2::uuid) > (last_occurred_at, last_event_id))';
  // First the one state row: from here on projector transactions that apply anything run one at a time.
  await client.query({
    name: 'read-model-state',
    text: `UPDATE read_model_state SET events = events + $1,
             last_event_id = CASE WHEN ${newer} THEN $2::uuid ELSE last_event_id END,
             last_occurred_at = CASE WHEN ${newer} THEN $3::timestamptz ELSE last_occurred_at END,
             updated_at = clock_timestamp()
           WHERE id = 1`,
    values: [todo.length, newest.eventId, newest.occurredAt],
  });
  const payloads = JSON.stringify(todo.map((e) => ({ type: e.type, payload: e.payload })));
  const touched = await client.query<{ domain: string; users: number }>({
    name: 'read-model-deltas',
    text: APPLY_DELTAS,
    values: [payloads],
  });
  // A domain whose last user left disappears, as it would from an aggregate over users.
  const emptied = touched.rows.filter((r) => r.users === 0).map((r) => r.domain);
  if (emptied.length > 0) await client.query('DELETE FROM read_model_domains WHERE domain = ANY($1::text[]) AND users = 0', [emptied]);
  return { applied: todo.length, duplicates: events.length - todo.length };
}

/** Empties the read model (inside the caller's transaction), for a rebuild from the stream. */
export async function resetReadModel(client: pg.ClientBase): Promise<void> {
  await client.query('TRUNCATE read_model_signups, read_model_domains, read_model_applied');
  await client.query(
    'UPDATE read_model_state SET events = 0, last_event_id = NULL, last_occurred_at = NULL, updated_at = clock_timestamp() WHERE id = 1',
  );
}

/** GET /stats/users, as the read model has it. */
export interface UserStats {
  /** Users now, by the projection (the sum over domains). */
  total: number;
  /** Minutes of the last hour with any sign-up, oldest first. */
  signupsPerMinute: { minute: string; signups: number }[];
  /** The 20 domains with the most users. */
  domains: { domain: string; users: number }[];
  freshness: {
    /** Events applied so far. */
    events: number;
    /** The newest event applied, null before any. */
    lastEventId: string | null;
    /** When that event's change happened, null before any. */
    lastOccurredAt: string | null;
    /** When the projector last applied an event (or the read model was reset). */
    projectedAt: string;
  };
}

const ISO = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** One round trip: every figure comes from the same snapshot. */
const STATS_SQL = /* sql */ `
SELECT
  (SELECT coalesce(sum(users), 0)::bigint FROM read_model_domains) AS total,
  (SELECT coalesce(json_agg(json_build_object('minute', ${ISO('minute')}, 'signups', signups) ORDER BY minute), '[]'::json)
     FROM read_model_signups WHERE minute > now() - interval '60 minutes' AND signups > 0) AS signups,
  (SELECT coalesce(json_agg(json_build_object('domain', domain, 'users', users) ORDER BY users DESC, domain), '[]'::json)
     FROM (SELECT domain, users FROM read_model_domains WHERE users > 0 ORDER BY users DESC, domain LIMIT 20) top) AS domains,
  s.events, s.last_event_id::text AS last_event_id,
  CASE WHEN s.last_occurred_at IS NULL THEN NULL ELSE ${ISO('s.last_occurred_at')} END AS last_occurred_at,
  ${ISO('s.updated_at')} AS projected_at
FROM read_model_state s WHERE s.id = 1`;

interface StatsRow {
  // bigint columns: strings unless db/pool.ts's parser is installed, so Number() them.
  total: number | string;
  signups: { minute: string; signups: number }[];
  domains: { domain: string; users: number }[];
  events: number | string;
  last_event_id: string | null;
  last_occurred_at: string | null;
  projected_at: string;
}

/** Reads the read model's figures. */
export async function readUserStats(pool: pg.Pool): Promise<UserStats> {
  const { rows } = await pool.query<StatsRow>({ name: 'read-model-stats', text: STATS_SQL });
  const row = rows[0];
  if (!row) throw new Error('read_model_state has no row: the outbox migration (003) has not run');
  return {
    total: Number(row.total),
    signupsPerMinute: row.signups,
    domains: row.domains,
    freshness: {
      events: Number(row.events),
      lastEventId: row.last_event_id,
      lastOccurredAt: row.last_occurred_at,
      projectedAt: row.projected_at,
    },
  };
}
