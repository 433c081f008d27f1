import type { ActiveFault, ChaosAction, ChaosStatus, Sample, WireError, WriteCheck } from '../../electron/contract.js';
import { buttonAction, CHAOS_BUTTONS, defaultValues } from '../../electron/chaos/buttons.js';
import type { Bridge, GetState, SetState } from './types.js';

/**
 * After an answer to `chaos:inject` / `chaos:clear`, samples arriving this soon may have been
 * taken before it: they must not put back a fault that was just cleared (or hide a new one).
 */
export const ANSWER_GRACE_MS = 1500;

/**
 * The Chaos panel's form: every panel button's number boxes (under `<button id>.<field>`, from the
 * action modules) and the monkey's pace and how many it may hold down.
 */
export type ChaosDraft = Readonly<Record<string, number>>;

/** The monkey's two boxes in the draft. */
export const MONKEY_INTERVAL = 'monkey.intervalSeconds';
export const MONKEY_MAX_DOWN = 'monkey.maxDown';

/** The panel's buttons: every module's, but the instance drawer's. */
export const PANEL_BUTTONS = CHAOS_BUTTONS.filter((b) => b.place !== 'replica');

/** The modules' defaults (kill-cache 10 s, kill-db 5 s, …), and a monkey that strikes every ~20 s, one down at a time. */
export const DEFAULT_CHAOS_DRAFT: ChaosDraft = { ...defaultValues(PANEL_BUTTONS), [MONKEY_INTERVAL]: 20, [MONKEY_MAX_DOWN]: 1 };

/** The `chaos:inject` payload of a panel button (by id), with the form as it stands. */
export function panelActionOf(id: string, draft: ChaosDraft): ChaosAction {
  const button = PANEL_BUTTONS.find((b) => b.id === id);
  if (!button) throw new Error(`no chaos button "${id}"`);
  return buttonAction(button, draft);
}

/** The monkey's switch turned on (or Apply) with the form's pace. */
export function monkeyOn(draft: ChaosDraft): ChaosAction {
  return { action: 'monkey', enabled: true, intervalSeconds: draft[MONKEY_INTERVAL]!, maxDown: draft[MONKEY_MAX_DOWN]! };
}

/** One key per action and target, so a button can show that its own action is in flight. */
export function chaosKey(action: ChaosAction | 'clear' | 'verify'): string {
  if (typeof action === 'string') return action;
  return 'target' in action ? `${action.action}:${action.target}` : action.action;
}

/** Whether the monkey's form says something other than the running monkey (Apply has work to do). */
export function monkeyChanged(draft: ChaosDraft, status: ChaosStatus | null): boolean {
  const monkey = status?.monkey;
  return !!monkey?.enabled && (monkey.intervalSeconds !== draft[MONKEY_INTERVAL] || monkey.maxDown !== draft[MONKEY_MAX_DOWN]);
}

/** The faults that touch one instance: its own, and those on every api replica when it is one. */
export function faultsOf(status: ChaosStatus | null, id: string): ActiveFault[] {
  const api = /^api-\d+$/.test(id);
  return (status?.faults ?? []).filter((f) => f.target === id || (api && f.target === 'all'));
}

/** What the writes badge shows. */
export interface WritesView {
  acknowledged: number;
  verified: number | null;
  lost: number | null;
  duplicated: number | null;
  lostIds: number[];
  checkedAt: number | null;
  /** Writes acknowledged since the check (the check says nothing about them yet). */
  sinceCheck: number;
  state: 'unchecked' | 'ok' | 'lost';
}

/**
 * The badge from the live sample and the last `writes:verify` answer, whichever checked last
 * (the sample carries the check once the control plane has it; the answer arrives first).
 */
export function writesView(live: Sample['writes'] | null | undefined, check: WriteCheck | null): WritesView {
  const sampleChecked = live?.checkedAt ?? null;
  const useCheck = check !== null && (sampleChecked === null || check.checkedAt >= sampleChecked);
  const acknowledged = Math.max(live?.acknowledged ?? 0, check?.acknowledged ?? 0);
  const verified = useCheck ? check.verified : (live?.verified ?? null);
  const lost = useCheck ? check.lost : (live?.lost ?? null);
  const checkedAcknowledged = useCheck ? check.acknowledged : verified === null ? 0 : verified + (lost ?? 0);
  const checkedAt = useCheck ? check.checkedAt : sampleChecked;
  return {
    acknowledged,
    verified,
    lost,
    duplicated: useCheck ? check.duplicated : null,
    lostIds: (useCheck ? check.lostIds : live?.lostIds) ?? [],
    checkedAt,
    sinceCheck: checkedAt === null ? 0 : Math.max(0, acknowledged - checkedAcknowledged),
    state: lost === null ? 'unchecked' : lost > 0 ? 'lost' : 'ok',
  };
}

export interface ChaosSlice {
  chaosDraft: ChaosDraft;
  /** The monkey's fields were edited since they last followed the running monkey. */
  monkeyEdited: boolean;
  /** Faults in force and the monkey: from the samples, or the last answer to a chaos command. */
  chaos: ChaosStatus | null;
  /** The {@link chaosKey} of the chaos command in flight, if any. */
  chaosBusy: string | null;
  /** The last `writes:verify` answer. */
  lastWriteCheck: WriteCheck | null;
  /** Changes boxes of the form (by draft key). */
  editChaos(patch: ChaosDraft): void;
  /** Sends one `chaos:inject`; the answer replaces the status. Returns whether it worked. */
  inject(action: ChaosAction): Promise<boolean>;
  /** A panel button (by id): its action with the form's values. */
  injectPanel(id: string): Promise<boolean>;
  clearChaos(): Promise<void>;
  verifyWrites(): Promise<void>;
  /** Loads `chaos:status` (for a page opened with no samples flowing). Quiet: the samples carry it too. */
  refreshChaos(): Promise<void>;
  /** Follows the status a sample carries. */
  syncChaos(status: ChaosStatus | null): void;
}

/** Faults in force, the monkey, the lost-write check, and the commands that inject and clear chaos. */
export function createChaosSlice(bridge: Bridge) {
  return (set: SetState, get: GetState): ChaosSlice => {
    let answeredAt = 0;
    const fail = (error: WireError) => set({ error });
    /** A new status: the monkey's form follows it unless someone is editing it. */
    const take = (status: ChaosStatus, resetMonkey = false) =>
      set((state) => {
        const edited = resetMonkey ? false : state.monkeyEdited;
        const old = state.chaosDraft;
        const keep = edited || (old[MONKEY_INTERVAL] === status.monkey.intervalSeconds && old[MONKEY_MAX_DOWN] === status.monkey.maxDown);
        // The same draft object when nothing changed: a status per second must not re-render the forms.
        const draft = keep ? old : { ...old, [MONKEY_INTERVAL]: status.monkey.intervalSeconds, [MONKEY_MAX_DOWN]: status.monkey.maxDown };
        return { chaos: status, chaosDraft: draft, monkeyEdited: edited };
      });
    const command = async <T>(
      key: string,
      work: () => Promise<{ ok: true; value: T } | { ok: false; error: WireError }>,
    ): Promise<T | undefined> => {
      set({ chaosBusy: key, error: null });
      try {
        const result = await work();
        if (!result.ok) {
          fail(result.error);
          return undefined;
        }
        return result.value;
      } finally {
        set({ chaosBusy: null });
      }
    };

    return {
      chaosDraft: DEFAULT_CHAOS_DRAFT,
      monkeyEdited: false,
      chaos: null,
      chaosBusy: null,
      lastWriteCheck: null,
      editChaos(patch) {
        const monkey = MONKEY_INTERVAL in patch || MONKEY_MAX_DOWN in patch;
        set((state) => ({ chaosDraft: { ...state.chaosDraft, ...patch }, monkeyEdited: state.monkeyEdited || monkey }));
      },
      async inject(action) {
        const status = await command(chaosKey(action), () => bridge.invoke('chaos:inject', action));
        if (!status) return false;
        answeredAt = Date.now();
        take(status, action.action === 'monkey');
        return true;
      },
      injectPanel(id) {
        return get().inject(panelActionOf(id, get().chaosDraft));
      },
      async clearChaos() {
        const status = await command('clear', () => bridge.invoke('chaos:clear', {}));
        if (!status) return;
        answeredAt = Date.now();
        take(status, true);
      },
      async verifyWrites() {
        const check = await command('verify', () => bridge.invoke('writes:verify', {}));
        if (check) set({ lastWriteCheck: check });
      },
      async refreshChaos() {
        const result = await bridge.invoke('chaos:status', {});
        if (result.ok) take(result.value);
      },
      syncChaos(status) {
        if (!status || Date.now() - answeredAt < ANSWER_GRACE_MS) return;
        take(status);
      },
    };
  };
}
