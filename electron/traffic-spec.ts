/**
 * What a traffic run is: its rate profile, its workload, and what it reports. Part of the
 * contract (electron/contract.ts lists the commands); kept apart so each file reads in one go.
 */
import Type, { type Static } from 'typebox';

/** Highest arrival rate a run may ask for. */
export const MAX_RPS = 50_000;
const Rate = Type.Number({ minimum: 0, maximum: MAX_RPS });
const Seconds = Type.Number({ exclusiveMinimum: 0, maximum: 86_400 });

/** How the target rate moves over time (t = seconds since the start). */
export const TrafficProfileSchema = Type.Union([
  Type.Object({ kind: Type.Literal('constant'), rps: Rate }, { additionalProperties: false }),
  /** Linear from `from` to `to` over `overS`, then stays at `to`. */
  Type.Object({ kind: Type.Literal('ramp'), from: Rate, to: Rate, overS: Seconds }, { additionalProperties: false }),
  /** `steps` equal steps from `from` to `to`, one every `everyS`. */
  Type.Object(
    { kind: Type.Literal('step'), from: Rate, to: Rate, steps: Type.Integer({ minimum: 1, maximum: 1000 }), everyS: Seconds },
    { additionalProperties: false },
  ),
  /** `base`, jumping to `peak` at `atS` for `forS`. */
  Type.Object(
    { kind: Type.Literal('spike'), base: Rate, peak: Rate, atS: Type.Number({ minimum: 0, maximum: 86_400 }), forS: Seconds },
    { additionalProperties: false },
  ),
  /** Oscillates between `min` and `max` with period `periodS`, starting at `min`. */
  Type.Object({ kind: Type.Literal('sine'), min: Rate, max: Rate, periodS: Seconds }, { additionalProperties: false }),
  /** A recorded rate per second, replayed (looping when `loop`). */
  Type.Object(
    { kind: Type.Literal('replay'), rates: Type.Array(Rate, { minItems: 1, maxItems: 86_400 }), loop: Type.Optional(Type.Boolean()) },
    { additionalProperties: false },
  ),
]);
export type TrafficProfile = Static<typeof TrafficProfileSchema>;

const Percent = Type.Number({ minimum: 0, maximum: 100 });
/** Share of each request kind, in percent (normalised if they do not add to 100). */
export const MixSchema = Type.Object(
  {
    read: Type.Optional(Percent),
    write: Type.Optional(Percent),
    list: Type.Optional(Percent),
    missing: Type.Optional(Percent),
    sendEmail: Type.Optional(Percent),
  },
  { additionalProperties: false },
);
export type Mix = Required<Static<typeof MixSchema>>;
export const DEFAULT_MIX: Mix = { read: 80, write: 10, list: 5, missing: 5, sendEmail: 0 };

/** How reads pick among existing users: uniform, or Zipf with skew `s` (hot keys → cache hits). */
export const KeysSchema = Type.Object(
  { distribution: Type.Union([Type.Literal('uniform'), Type.Literal('zipf')]), s: Type.Optional(Type.Number({ minimum: 0, maximum: 5 })) },
  { additionalProperties: false },
);
export type Keys = Static<typeof KeysSchema>;

/** A traffic run. */
export const TrafficSpecSchema = Type.Object(
  {
    profile: TrafficProfileSchema,
    /** Runs until stopped when absent. */
    durationS: Type.Optional(Seconds),
    mix: Type.Optional(MixSchema),
    /** @defaultValue zipf, s = 1.1 */
    keys: Type.Optional(KeysSchema),
    /** Per-request timeout. @defaultValue 2000 */
    timeoutMs: Type.Optional(Type.Integer({ minimum: 10, maximum: 60_000 })),
  },
  { additionalProperties: false },
);
export type TrafficSpec = Static<typeof TrafficSpecSchema>;

/** Changes a running traffic run: a new rate (the profile becomes constant), mix or keys. */
export const TrafficUpdateSchema = Type.Object(
  { rps: Type.Optional(Rate), mix: Type.Optional(MixSchema), keys: Type.Optional(KeysSchema) },
  { additionalProperties: false },
);
export type TrafficUpdate = Static<typeof TrafficUpdateSchema>;

/** Failures by kind. */
export interface TrafficErrors {
  timeout: number;
  refused: number;
  http4xx: number;
  http5xx: number;
}

/**
 * The load generator's own health, so its limits are never mistaken for the stack's. Node 20 has
 * no per-thread cpu clock (`process.cpuUsage()` in a worker thread counts the whole process), so
 * its cpu is the event-loop utilization of its threads: the share of wall time a thread's loop was
 * not idle, which for this cpu-bound loop is its cpu share.
 */
export interface GeneratorHealth {
  threads: number;
  /** Its threads' event-loop utilization added up, in cores (1 = one core busy). */
  busyCores: number;
  /** The busiest thread's event-loop utilization, 0..1. */
  busiestThread: number;
  /** How late requests were fired against their scheduled times, ms (p99 and max). */
  lagP99Ms: number | null;
  lagMaxMs: number | null;
  /** `generator` when it, not the stack, was the limit; then the client-observed figures understate the stack. */
  limitedBy: 'generator' | null;
  /** Why, e.g. "lag p99 120 ms, 3 % dropped"; null when it kept up. */
  limitReason: string | null;
}

/** A run's figures, so far or final: client-observed (as the load generator saw them). */
export interface TrafficSummary {
  running: boolean;
  profile: TrafficProfile['kind'];
  durationS: number;
  offeredRps: number;
  achievedRps: number;
  requests: number;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  errors: TrafficErrors;
  /** Requests the generator could not send on time (it was the bottleneck, not the server). */
  droppedByClient: number;
  /** 201s with their ids, for the lost-write checker. */
  acknowledgedWrites: number;
  /** The generator's health over the run; `limitedSeconds` counts the seconds it was the limit (absent from older recordings). */
  health?: GeneratorHealth & { limitedSeconds: number };
}

/** The generator's last second, streamed in every Sample: client-observed figures and its own health. */
export interface TrafficSecond {
  running: boolean;
  profile: TrafficProfile['kind'];
  targetRps: number;
  offeredRps: number;
  achievedRps: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  errorsPerSec: TrafficErrors;
  droppedPerSec: number;
  /** Absent from recordings made before it was reported. */
  health?: GeneratorHealth;
}
