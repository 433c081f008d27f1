import type { CommandName, Probe, Progress, ScalableService, StackSpecInput, StackStatus, WireError } from '../../electron/contract.js';
import type { Bridge, GetState, SetState } from './types.js';

/** Most progress lines kept for the stack bar. */
const MAX_PROGRESS = 50;

export interface StackSlice {
  status: StackStatus | null;
  probes: Probe[] | null;
  /** Progress lines of the running long command, oldest first. */
  progress: Progress[];
  /** The long command in flight, if any (its button shows a spinner and others wait). */
  busy: CommandName | null;
  /** The last failure, shown in a banner until dismissed. */
  error: WireError | null;
  refreshStatus(): Promise<void>;
  loadProbes(): Promise<void>;
  start(spec: StackSpecInput): Promise<void>;
  stop(purge?: boolean): Promise<void>;
  scale(service: ScalableService, replicas: number): Promise<void>;
  signal(id: string, how: 'kill' | 'stop' | 'pause' | 'resume'): Promise<void>;
  /** `lab:reset`, then the trace pick cleared and everything it touched reread. */
  resetLab(): Promise<void>;
  /** What the last reset did, in words; null until one ran. */
  lastReset: string[] | null;
  addProgress(progress: Progress): void;
  dismissError(): void;
}

/** Stack status, runtime probes, progress of long work, and the actions that change the stack. */
export function createStackSlice(bridge: Bridge) {
  return (set: SetState, get: GetState): StackSlice => {
    /** Runs a command; a failure lands in `error` instead of throwing into React. */
    const run = async <T>(
      command: CommandName,
      work: () => Promise<{ ok: true; value: T } | { ok: false; error: WireError }>,
      long: boolean,
    ): Promise<T | undefined> => {
      if (long) set({ busy: command, progress: [], error: null });
      try {
        const result = await work();
        if (!result.ok) {
          set({ error: result.error });
          return undefined;
        }
        return result.value;
      } finally {
        if (long) set({ busy: null });
      }
    };
    return {
      status: null,
      probes: null,
      progress: [],
      busy: null,
      error: null,
      async refreshStatus() {
        const status = await run('stack:status', () => bridge.invoke('stack:status', {}), false);
        if (status) set({ status });
      },
      async loadProbes() {
        const probes = await run('runtime:probe', () => bridge.invoke('runtime:probe', {}), false);
        if (probes) set({ probes });
      },
      async start(spec) {
        const status = await run('stack:up', () => bridge.invoke('stack:up', spec), true);
        if (status) set({ status });
        await get().refreshStatus();
      },
      async stop(purge = false) {
        await run('stack:down', () => bridge.invoke('stack:down', { purge }), true);
        await get().refreshStatus();
      },
      async scale(service, replicas) {
        const status = await run('stack:scale', () => bridge.invoke('stack:scale', { service, replicas }), true);
        if (status) set({ status });
      },
      lastReset: null,
      async resetLab() {
        const reset = await run('lab:reset', () => bridge.invoke('lab:reset', {}), true);
        if (reset) set({ lastReset: reset.done });
        get().pickTraceSecond(null);
        await Promise.all([get().refreshStatus(), get().refreshCapacity()]);
      },
      async signal(id, how) {
        await run('instance:signal', () => bridge.invoke('instance:signal', { id, how }), false);
        await get().refreshStatus();
      },
      addProgress(progress) {
        set((state) => ({ progress: [...state.progress, progress].slice(-MAX_PROGRESS) }));
      },
      dismissError() {
        set({ error: null });
      },
    };
  };
}
