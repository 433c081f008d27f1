import type { ActiveFault, ChaosAction, ChaosStatus, Sample, WireError, WriteCheck } from '../../electron/contract.js';
import type { Bridge, GetState, SetState } from './types.js';

/**
 * After an answer to `chaos:inject` / `chaos:clear`, samples arriving this soon may have been
 * taken before it: they must not put back a fault that was just cleared (or hide a new one).
 */
export const ANSWER_GRACE_MS = 1500;

/** The Chaos panel's form: how long a store stays down, the faults' sizes, the monkey's pace. */
export interface ChaosDraft {
  cacheSeconds: number;
  dbSeconds: number;
  latencyDbMs: number;
  latencyCacheMs: number;
  /** Percent of requests that fail (the contract's `rate` is this / 100). */
  errorPercent: number;
  monkeyIntervalSeconds: number;
  monkeyMaxDown: number;
  /** The data-layer actions: how long the read replica, the relay or the projector stay down. */
  replicaSeconds: number;
  /** recovery_min_apply_delay to put on the replica, and for how long. */
  replicaDelayMs: number;
  replicaDelaySeconds: number;
  relaySeconds: number;
  projectorSeconds: number;
}

/** The contract's defaults where it has them (kill-cache 10 s, kill-db 5 s, the data layer's 10 s and 30 s); the rest are starting points for a demo. */
export const DEFAULT_CHAOS_DRAFT: ChaosDraft = {
  cacheSeconds: 10,
  dbSeconds: 5,
  latencyDbMs: 100,
  latencyCacheMs: 0,
  errorPercent: 20,
  monkeyIntervalSeconds: 20,
  monkeyMaxDown: 1,
  replicaSeconds: 10,
  replicaDelayMs: 2000,
  replicaDelaySeconds: 30,
  relaySeconds: 10,
  projectorSeconds: 10,
};

/** The buttons of the panel's data-layer row. */
export const DATA_ACTIONS = ['kill-replica', 'replica-delay', 'kill-relay', 'kill-projector'] as const;
export type DataPanelAction = (typeof DATA_ACTIONS)[number];

/** The panel's buttons. */
export type PanelAction = 'kill-api' | 'kill-worker' | 'kill-cache' | 'kill-db' | 'latency' | 'errors' | 'monkey-on' | 'monkey-off' | DataPanelAction;

/** The `chaos:inject` payload a button of the panel sends, with the form as it stands. */
export function panelActionOf(button: PanelAction, draft: ChaosDraft): ChaosAction {
  switch (button) {
    case 'kill-api':
      return { action: 'kill', target: 'random-api' };
    case 'kill-worker':
      return { action: 'kill', target: 'random-worker' };
    case 'kill-cache':
      return { action: 'kill-cache', forSeconds: draft.cacheSeconds };
    case 'kill-db':
      return { action: 'kill-db', forSeconds: draft.dbSeconds };
    case 'latency':
      return { action: 'latency', target: 'all', dbMs: draft.latencyDbMs, cacheMs: draft.latencyCacheMs };
    case 'errors':
      return { action: 'errors', target: 'all', rate: percentToRate(draft.errorPercent) };
    case 'monkey-on':
      return { action: 'monkey', enabled: true, intervalSeconds: draft.monkeyIntervalSeconds, maxDown: draft.monkeyMaxDown };
    case 'monkey-off':
      return { action: 'monkey', enabled: false };
    case 'kill-replica':
      return { action: 'kill-replica', forSeconds: draft.replicaSeconds };
    case 'replica-delay':
      return { action: 'replica-delay', ms: draft.replicaDelayMs, forSeconds: draft.replicaDelaySeconds };
    case 'kill-relay':
      return { action: 'kill-relay', forSeconds: draft.relaySeconds };
    case 'kill-projector':
      return { action: 'kill-projector', forSeconds: draft.projectorSeconds };
  }
}

/** 20 (%) → 0.2, without 0.07 * 100 style noise. */
export function percentToRate(percent: number): number {
  return Math.round(percent * 100) / 10_000;
}

/** One key per action and target, so a button can show that its own action is in flight. */
export function chaosKey(action: ChaosAction | 'clear' | 'verify'): string {
  if (typeof action === 'string') return action;
  return 'target' in action ? `${action.action}:${action.target}` : action.action;
}

/** Whether the monkey's form says something other than the running monkey (Apply has work to do). */
export function monkeyChanged(draft: ChaosDraft, status: ChaosStatus | null): boolean {
  const monkey = status?.monkey;
  return !!monkey?.enabled && (monkey.intervalSeconds !== draft.monkeyIntervalSeconds || monkey.maxDown !== draft.monkeyMaxDown);
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
  editChaos(patch: Partial<ChaosDraft>): void;
  /** Sends one `chaos:inject`; the answer replaces the status. Returns whether it worked. */
  inject(action: ChaosAction): Promise<boolean>;
  /** A panel button: its action with the form's values. */
  injectPanel(button: PanelAction): Promise<boolean>;
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
        const { monkeyIntervalSeconds, monkeyMaxDown } = state.chaosDraft;
        const keep = edited || (monkeyIntervalSeconds === status.monkey.intervalSeconds && monkeyMaxDown === status.monkey.maxDown);
        // The same draft object when nothing changed: a status per second must not re-render the forms.
        const draft = keep ? state.chaosDraft : { ...state.chaosDraft, monkeyIntervalSeconds: status.monkey.intervalSeconds, monkeyMaxDown: status.monkey.maxDown };
        return { chaos: status, chaosDraft: draft, monkeyEdited: edited };
      });
    const command = async <T>(key: string, work: () => Promise<{ ok: true; value: T } | { ok: false; error: WireError }>): Promise<T | undefined> => {
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
        const monkey = patch.monkeyIntervalSeconds !== undefined || patch.monkeyMaxDown !== undefined;
        set((state) => ({ chaosDraft: { ...state.chaosDraft, ...patch }, monkeyEdited: state.monkeyEdited || monkey }));
      },
      async inject(action) {
        const status = await command(chaosKey(action), () => bridge.invoke('chaos:inject', action));
        if (!status) return false;
        answeredAt = Date.now();
        take(status, action.action === 'monkey');
        return true;
      },
      injectPanel(button) {
        return get().inject(panelActionOf(button, get().chaosDraft));
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
