import type { DataSpec, RuntimeName, StackSpec, StackSpecInput } from '../../electron/contract.js';
import type { SetState } from './types.js';

/** The stack spec's defaults for the data-layer patterns (electron/stack-spec.ts withDefaults). */
export const DEFAULT_DATA_DRAFT: DataSpec = { readReplica: false, events: true, partitions: 0 };

/** The cpu per replica the stack bar asks for, as typed ("250m", "0.5"; empty: no limit). */
export interface CpuDraft {
  api: string;
  worker: string;
}

export interface DataSlice {
  /** The data-layer patterns the next Start asks for. */
  dataDraft: DataSpec;
  editDataDraft(patch: Partial<DataSpec>): void;
  /** The cpu limits per replica the next Start (or Apply) asks for. */
  cpuDraft: CpuDraft;
  editCpuDraft(patch: Partial<CpuDraft>): void;
}

/** The spec's `resources` for a cpu draft: an empty box is no limit (null). */
export function cpuResources(cpu: CpuDraft): NonNullable<StackSpecInput['resources']> {
  const one = (text: string) => (text.trim() === '' ? null : text.trim());
  return { api: { cpu: one(cpu.api) }, worker: { cpu: one(cpu.worker) } };
}

/** `stack:up` for a running stack with other cpu limits: everything else as it runs (local and Docker change them in place). */
export function cpuUpdateSpec(running: StackSpec, cpu: CpuDraft): StackSpecInput {
  return { ...running, resources: cpuResources(cpu) };
}

/**
 * The `stack:up` payload of the stack bar's Start: the runtime (and the Kubernetes context) picked,
 * and the data-layer patterns of the form.
 */
export function startSpec(
  runtime: RuntimeName,
  context: string | null | undefined,
  data: DataSpec,
  cpu: CpuDraft = { api: '', worker: '' },
): StackSpecInput {
  const spec: StackSpecInput = { runtime, data: { readReplica: data.readReplica, events: data.events, partitions: data.partitions } };
  if (cpu.api.trim() !== '' || cpu.worker.trim() !== '') spec.resources = cpuResources(cpu);
  if (runtime === 'kubernetes') spec.kubernetes = { context: context ?? null };
  return spec;
}

/** The Start form's data-layer settings. */
export function createDataSlice() {
  return (set: SetState): DataSlice => ({
    dataDraft: DEFAULT_DATA_DRAFT,
    editDataDraft(patch) {
      set((state) => ({ dataDraft: { ...state.dataDraft, ...patch } }));
    },
    cpuDraft: { api: '', worker: '' },
    editCpuDraft(patch) {
      set((state) => ({ cpuDraft: { ...state.cpuDraft, ...patch } }));
    },
  });
}
