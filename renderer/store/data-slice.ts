import type { DataSpec, RuntimeName, StackSpecInput } from '../../electron/contract.js';
import type { SetState } from './types.js';

/** The stack spec's defaults for the data-layer patterns (electron/stack-spec.ts withDefaults). */
export const DEFAULT_DATA_DRAFT: DataSpec = { readReplica: false, events: true, partitions: 0 };

export interface DataSlice {
  /** The data-layer patterns the next Start asks for. */
  dataDraft: DataSpec;
  editDataDraft(patch: Partial<DataSpec>): void;
}

/**
 * The `stack:up` payload of the stack bar's Start: the runtime (and the Kubernetes context) picked,
 * and the data-layer patterns of the form.
 */
export function startSpec(runtime: RuntimeName, context: string | null | undefined, data: DataSpec): StackSpecInput {
  const spec: StackSpecInput = { runtime, data: { readReplica: data.readReplica, events: data.events, partitions: data.partitions } };
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
  });
}
