/**
 * Chaos's part of the contract: the actions `chaos:inject` takes, what `chaos:status` answers,
 * and the lost-write checker's report (`writes:verify`).
 */
import Type, { type Static, type TUnion } from 'typebox';
import { CHAOS_ACTIONS } from './chaos/actions/index.js';

export type { ActiveFault } from './chaos/action-kit.js';
import type { ActiveFault } from './chaos/action-kit.js';

type Schemas<T extends readonly unknown[]> = { -readonly [K in keyof T]: T[K] extends { schema: infer S } ? S : never };

/**
 * One chaos action: the union of every module's schema in `chaos/actions/` (each says what it
 * does). Every one is recorded on the timeline with what, when and where.
 */
export const ChaosActionSchema = Type.Union(CHAOS_ACTIONS.map((a) => a.schema) as Schemas<typeof CHAOS_ACTIONS>) as TUnion<
  Schemas<typeof CHAOS_ACTIONS>
>;
export type ChaosAction = Static<typeof ChaosActionSchema>;

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
