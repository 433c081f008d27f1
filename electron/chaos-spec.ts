/**
 * Chaos's part of the contract: the actions `chaos:inject` takes, what `chaos:status` answers,
 * and the lost-write checker's report (`writes:verify`).
 */
import Type, { type Static } from 'typebox';

const Instance = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,63}$', description: 'an instance id such as api-2' });
const InstanceOrAll = Type.Union([Type.Literal('all'), Instance]);
const obj = <T extends Record<string, import('typebox').TSchema>>(properties: T) => Type.Object(properties, { additionalProperties: false });

/** One chaos action. Every one is recorded on the timeline with what, when and where. */
export const ChaosActionSchema = Type.Union([
  /** SIGKILL (or, with `graceful`, SIGTERM) to a replica, a random api or a random worker; the runtime brings it back. */
  obj({ action: Type.Literal('kill'), target: Type.Union([Type.Literal('random-api'), Type.Literal('random-worker'), Instance]), graceful: Type.Optional(Type.Boolean()) }),
  obj({ action: Type.Literal('pause'), target: Instance }),
  obj({ action: Type.Literal('resume'), target: Instance }),
  /** Kills Redis and brings it back after `forSeconds`. @defaultValue 10 */
  obj({ action: Type.Literal('kill-cache'), forSeconds: Type.Optional(Type.Number({ minimum: 0, maximum: 600 })) }),
  /** Kills PostgreSQL and brings it back after `forSeconds`. @defaultValue 5 */
  obj({ action: Type.Literal('kill-db'), forSeconds: Type.Optional(Type.Number({ minimum: 0, maximum: 600 })) }),
  /** Kills the PostgreSQL read replica for `forSeconds`: reads fall back to the primary. @defaultValue 10 */
  obj({ action: Type.Literal('kill-replica'), forSeconds: Type.Optional(Type.Number({ minimum: 0, maximum: 600 })) }),
  /** Delays the replica's replay by `ms` (recovery_min_apply_delay) for `forSeconds`; 0 ms ends it. @defaultValue 30 s */
  obj({ action: Type.Literal('replica-delay'), ms: Type.Integer({ minimum: 0, maximum: 600_000 }), forSeconds: Type.Optional(Type.Number({ minimum: 1, maximum: 3600 })) }),
  /** Kills the outbox relay in every worker for `forSeconds`, mid-batch: the outbox backs up, then drains. @defaultValue 10 */
  obj({ action: Type.Literal('kill-relay'), forSeconds: Type.Optional(Type.Number({ minimum: 0, maximum: 600 })) }),
  /** Kills the projector in every worker for `forSeconds`, mid-batch: consumer-group lag grows, then catches up. @defaultValue 10 */
  obj({ action: Type.Literal('kill-projector'), forSeconds: Type.Optional(Type.Number({ minimum: 0, maximum: 600 })) }),
  /** Adds latency to a replica's (or every api replica's) database or cache calls. */
  obj({ action: Type.Literal('latency'), target: InstanceOrAll, dbMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000 })), cacheMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000 })) }),
  /** Makes a replica (or every api replica) fail this fraction of requests with 500. */
  obj({ action: Type.Literal('errors'), target: InstanceOrAll, rate: Type.Number({ minimum: 0, maximum: 1 }) }),
  /** Burns cpu on a replica. @defaultValue 30 s, 1 thread */
  obj({ action: Type.Literal('cpu'), target: Instance, seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })), threads: Type.Optional(Type.Integer({ minimum: 1, maximum: 8 })) }),
  /** Leaks memory on a replica until it is restarted (or `clear`). @defaultValue 10 MiB/s */
  obj({ action: Type.Literal('leak'), target: Instance, mbPerSecond: Type.Optional(Type.Integer({ minimum: 1, maximum: 512 })) }),
  /** Blocks a replica's event loop. @defaultValue 2000 ms */
  obj({ action: Type.Literal('block'), target: Instance, ms: Type.Optional(Type.Integer({ minimum: 1, maximum: 60_000 })) }),
  /** The Chaos Monkey: kills a random api or worker replica every `intervalSeconds` (±50 % jitter), never more than `maxDown` at once and never the last one. */
  obj({ action: Type.Literal('monkey'), enabled: Type.Boolean(), intervalSeconds: Type.Optional(Type.Number({ minimum: 1, maximum: 3600 })), maxDown: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 })) }),
]);
export type ChaosAction = Static<typeof ChaosActionSchema>;

/** A fault in force, for the dashboard and `chaos:status`. */
export interface ActiveFault {
  /** e.g. `latency`, `errors`, `kill-cache`, `leak`. */
  action: string;
  /** An instance id, `all`, `redis` or `postgres`. */
  target: string;
  /** e.g. "db +200 ms", "20 % errors", "down for 10 s". */
  detail: string;
  since: number;
  /** When it ends on its own, if it does. */
  until: number | null;
}

/** `chaos:status` (and the answer to `chaos:inject` / `chaos:clear`). */
export interface ChaosStatus {
  /** What the command just did, e.g. "kill api-2" (inject and clear only). */
  message?: string;
  faults: ActiveFault[];
  monkey: { enabled: boolean; intervalSeconds: number; maxDown: number; kills: number; lastKillAt: number | null };
}

/** `writes:verify`: every write the stack acknowledged to the traffic generator, read back. */
export interface WriteCheck {
  /** Writes acknowledged with 201 (and their ids) across this control plane's traffic runs. */
  acknowledged: number;
  /** Read back with the same e-mail. */
  verified: number;
  /** Acknowledged but not there (404, or another user under that id). */
  lost: number;
  /** E-mails stored more than once. */
  duplicated: number;
  lostIds: number[];
  checkedAt: number;
}
