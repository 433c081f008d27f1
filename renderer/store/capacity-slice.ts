import type { CapacityBaselineInfo, CapacityRun, CapacityStatus, WireError } from '../../electron/contract.js';
import type { Bridge, GetState, SetState } from './types.js';

/** The capacity form as typed: replica counts comma separated, the SLO and the step. */
export interface CapacityDraft {
  replicas: string;
  p99Ms: number;
  errorPercent: number;
  stepS: number;
  /** A saved baseline to compare with; '' for none. */
  compare: string;
  /** The name the next Save gives the result. */
  saveAs: string;
}

export const DEFAULT_CAPACITY_DRAFT: CapacityDraft = {
  replicas: '1, 2, 4',
  p99Ms: 50,
  errorPercent: 0.1,
  stepS: 10,
  compare: '',
  saveAs: '',
};

const BASELINE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** What is wrong with a baseline name, or null. */
export function baselineNameProblem(name: string): string | null {
  return BASELINE_NAME.test(name) ? null : 'A baseline name is letters, digits, ".", "_" and "-" (up to 64), e.g. before-pool-change.';
}

/** The `capacity:run` payload of a draft, or what is wrong with it. `maxReplicas` is the contract's limit. */
export function capacityRequestOf(draft: CapacityDraft, maxReplicas: number): { request: CapacityRun } | { problem: string } {
  const parts = draft.replicas.split(/[\s,;]+/).filter((p) => p !== '');
  const replicas = parts.map(Number);
  if (replicas.length === 0 || replicas.length > 12 || replicas.some((n) => !Number.isInteger(n) || n < 1 || n > maxReplicas)) {
    return { problem: `Replica counts: up to 12 whole numbers from 1 to ${maxReplicas}, e.g. 1, 2, 4.` };
  }
  if (!(draft.p99Ms > 0)) return { problem: 'The p99 goal must be above 0 ms.' };
  if (!(draft.stepS >= 1 && draft.stepS <= 300)) return { problem: 'A step lasts from 1 to 300 s.' };
  return {
    request: {
      replicas,
      slo: { p99Ms: draft.p99Ms, errorPercent: draft.errorPercent },
      stepS: draft.stepS,
      ...(draft.compare ? { compare: draft.compare } : {}),
    },
  };
}

export interface CapacitySlice {
  /** The running or last search (`capacity:status`, kept current by the `capacity` stream); null until loaded. */
  capacity: CapacityStatus | null;
  capacityDraft: CapacityDraft;
  capacityBusy: 'capacity:run' | 'capacity:stop' | 'capacity:save' | null;
  capacityError: WireError | null;
  /** The saved baselines, newest first. */
  capacityBaselines: CapacityBaselineInfo[];
  /** The baseline saved last by this tab, to say so. */
  capacitySaved: CapacityBaselineInfo | null;
  editCapacity(patch: Partial<CapacityDraft>): void;
  syncCapacity(status: CapacityStatus): void;
  refreshCapacity(): Promise<void>;
  runCapacity(request: CapacityRun): Promise<void>;
  stopCapacity(): Promise<void>;
  saveCapacity(name: string): Promise<void>;
}

export const createCapacitySlice =
  (bridge: Bridge) =>
  (set: SetState, get: GetState): CapacitySlice => ({
    capacity: null,
    capacityDraft: DEFAULT_CAPACITY_DRAFT,
    capacityBusy: null,
    capacityError: null,
    capacityBaselines: [],
    capacitySaved: null,
    editCapacity: (patch) => set((s) => ({ capacityDraft: { ...s.capacityDraft, ...patch } })),
    syncCapacity: (status) => set({ capacity: status }),
    async refreshCapacity() {
      const [result, baselines] = await Promise.all([bridge.invoke('capacity:status', {}), bridge.invoke('capacity:baselines', {})]);
      if (result.ok) set({ capacity: result.value });
      if (baselines.ok) set({ capacityBaselines: baselines.value });
    },
    async saveCapacity(name) {
      if (get().capacityBusy) return;
      set({ capacityBusy: 'capacity:save', capacityError: null, capacitySaved: null });
      const result = await bridge.invoke('capacity:save', { name });
      if (!result.ok) return set({ capacityError: result.error, capacityBusy: null });
      const list = await bridge.invoke('capacity:baselines', {});
      set({ capacitySaved: result.value, capacityBusy: null, ...(list.ok ? { capacityBaselines: list.value } : {}) });
    },
    async runCapacity(request) {
      if (get().capacityBusy) return;
      set({ capacityBusy: 'capacity:run', capacityError: null, capacitySaved: null });
      const result = await bridge.invoke('capacity:run', request);
      set(result.ok ? { capacity: result.value, capacityBusy: null } : { capacityError: result.error, capacityBusy: null });
    },
    async stopCapacity() {
      if (get().capacityBusy) return;
      set({ capacityBusy: 'capacity:stop', capacityError: null });
      const result = await bridge.invoke('capacity:stop', {});
      set(result.ok ? { capacity: result.value, capacityBusy: null } : { capacityError: result.error, capacityBusy: null });
    },
  });
