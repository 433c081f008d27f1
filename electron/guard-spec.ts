/**
 * The safety guard a trainer arms before a demo: when the stack's errors stay at or above a share
 * of requests for some seconds, the control plane stops the traffic (a run, a capacity search, the
 * scenario) and the chaos (faults and the monkey), and says why. Part of the contract
 * (electron/contract.ts spreads {@link GUARD_COMMANDS} into its command list).
 */
import Type, { type Static } from 'typebox';

/** `guard:set`: arm or disarm; the threshold and its duration keep their last values when absent. */
export const GuardSetSchema = Type.Object(
  {
    enabled: Type.Boolean(),
    /** Errors at or above this share of requests, in percent, count as a bad second. @defaultValue 5 */
    errorPercent: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 100 })),
    /** Bad seconds in a row that trip the guard. @defaultValue 5 */
    seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 600 })),
  },
  { additionalProperties: false },
);
export type GuardSetInput = Static<typeof GuardSetSchema>;

export const DEFAULT_GUARD = { errorPercent: 5, seconds: 5 } as const;

/** When the guard last tripped, on what, and what it stopped. */
export interface GuardTrip {
  at: number;
  /** e.g. "errors 38 % for 5 s (limit 5 % for 5 s)" */
  reason: string;
  /** What it stopped, in words ("stopped the traffic", "cleared chaos (2 faults, the monkey)"); empty when nothing was running. */
  stopped: string[];
}

/** `guard:status`, and the `guard` event on every change. */
export interface GuardStatus {
  enabled: boolean;
  errorPercent: number;
  seconds: number;
  /** Bad seconds in a row so far (0 when the last second was fine). */
  badSeconds: number;
  /** The error share of the newest second, in percent; null before a second with requests or errors. */
  lastErrorPercent: number | null;
  tripped: GuardTrip | null;
}

const Empty = Type.Object({}, { additionalProperties: false });

export const GUARD_COMMANDS = {
  /** Arms (or disarms) the safety guard; resolves with its status. */
  'guard:set': GuardSetSchema,
  /** The guard's settings, where it stands, and its last trip. */
  'guard:status': Empty,
} as const;

export interface GuardResults {
  'guard:set': GuardStatus;
  'guard:status': GuardStatus;
}
