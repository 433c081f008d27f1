import type { CapacityRun, CapacityStatus, WireError } from '../../electron/contract.js';
import type { Bridge, GetState, SetState } from './types.js';

/** The capacity form as typed: replica counts comma separated, the SLO and the step. */
export interface CapacityDraft {
  replicas: string;
  p99Ms: number;
  errorPercent: number;
  stepS: number;
}

export const DEFAULT_CAPACITY_DRAFT: CapacityDraft = { replicas: '1, 2, 4', p99Ms: 50, errorPercent: 0.1, stepS: 10 };

/** The `capacity:run` payload of a draft, or what is wrong with it. `maxReplicas` is the contract's limit. */
export function capacityRequestOf(draft: CapacityDraft, maxReplicas: number): { request: CapacityRun } | { problem: string } {
  const parts = draft.replicas.split(/[\s,;]+/).filter((p) => p !== '');
  const replicas = parts.map(Number);
  if (replicas.length === 0 || replicas.length > 12 || replicas.some((n) => !Number.isInteger(n) || n < 1 || n > maxReplicas)) {
    return { problem: `Replica counts: up to 12 whole numbers from 1 to ${maxReplicas}, e.g. 1, 2, 4.` };
  }
  if (!(draft.p99Ms > 0)) return { problem: 'The p99 goal must be above 0 ms.' };
  if (!(draft.stepS >= 1 && draft.stepS <= 300)) return { problem: 'A step lasts from 1 to 300 s.' };
  return { request: { replicas, slo: { p99Ms: draft.p99Ms, errorPercent: draft.errorPercent }, stepS: draft.stepS } };
}

export interface CapacitySlice {
  /** The running or last search (`capacity:status`, kept current by the `capacity` stream); null until loaded. */
  capacity: CapacityStatus | null;
  capacityDraft: CapacityDraft;
  capacityBusy: 'capacity:run' | 'capacity:stop' | null;
  capacityError: WireError | null;
  editCapacity(patch: Partial<CapacityDraft>): void;
  syncCapacity(status: CapacityStatus): void;
  refreshCapacity(): Promise<void>;
  runCapacity(request: CapacityRun): Promise<void>;
  stopCapacity(): Promise<void>;
}

export const createCapacitySlice =
  (bridge: Bridge) =>
  (set: SetState, get: GetState): CapacitySlice => ({
    capacity: null,
    capacityDraft: DEFAULT_CAPACITY_DRAFT,
    capacityBusy: null,
    capacityError: null,
    editCapacity: (patch) => set((s) => ({ capacityDraft: { ...s.capacityDraft, ...patch } })),
    syncCapacity: (status) => set({ capacity: status }),
    async refreshCapacity() {
      const result = await bridge.invoke('capacity:status', {});
      if (result.ok) set({ capacity: result.value });
    },
    async runCapacity(request) {
      if (get().capacityBusy) return;
      set({ capacityBusy: 'capacity:run', capacityError: null });
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
