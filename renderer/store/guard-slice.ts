import { DEFAULT_GUARD, type GuardStatus, type WireError } from '../../electron/contract.js';
import type { Bridge, GetState, SetState } from './types.js';

/** The guard's form as typed. */
export interface GuardDraft {
  errorPercent: number;
  seconds: number;
}

/** What is wrong with the draft, or null. */
export function guardDraftProblem(draft: GuardDraft): string | null {
  if (!(draft.errorPercent > 0 && draft.errorPercent <= 100)) return 'The error limit is a share of requests above 0 and up to 100 %.';
  if (!(Number.isInteger(draft.seconds) && draft.seconds >= 1 && draft.seconds <= 600)) return 'The guard waits whole seconds, 1 to 600.';
  return null;
}

export interface GuardSlice {
  /** `guard:status`, kept current by the `guard` stream; null until loaded. */
  guard: GuardStatus | null;
  guardDraft: GuardDraft;
  guardBusy: boolean;
  guardError: WireError | null;
  /** The trip this tab's banner was dismissed for (its time), so a new trip shows again. */
  guardDismissed: number | null;
  editGuard(patch: Partial<GuardDraft>): void;
  syncGuard(status: GuardStatus): void;
  refreshGuard(): Promise<void>;
  /** Arms the guard with the draft, or disarms it. */
  setGuard(enabled: boolean): Promise<void>;
  dismissGuardTrip(): void;
}

export const createGuardSlice =
  (bridge: Bridge) =>
  (set: SetState, get: GetState): GuardSlice => ({
    guard: null,
    guardDraft: { ...DEFAULT_GUARD },
    guardBusy: false,
    guardError: null,
    guardDismissed: null,
    editGuard: (patch) => set((s) => ({ guardDraft: { ...s.guardDraft, ...patch } })),
    // The form follows settings made elsewhere (the CLI, another tab) unless they are being edited here.
    syncGuard: (status) =>
      set((s) => ({
        guard: status,
        guardDraft:
          s.guard?.enabled === status.enabled && s.guard.errorPercent === status.errorPercent && s.guard.seconds === status.seconds
            ? s.guardDraft
            : { errorPercent: status.errorPercent, seconds: status.seconds },
      })),
    async refreshGuard() {
      const result = await bridge.invoke('guard:status', {});
      if (result.ok) get().syncGuard(result.value);
    },
    async setGuard(enabled) {
      if (get().guardBusy) return;
      const draft = get().guardDraft;
      if (enabled && guardDraftProblem(draft)) return;
      set({ guardBusy: true, guardError: null });
      const result = await bridge.invoke(
        'guard:set',
        enabled ? { enabled, errorPercent: draft.errorPercent, seconds: draft.seconds } : { enabled },
      );
      if (result.ok) get().syncGuard(result.value);
      set(result.ok ? { guardBusy: false } : { guardBusy: false, guardError: result.error });
    },
    dismissGuardTrip: () => set((s) => ({ guardDismissed: s.guard?.tripped?.at ?? null })),
  });
