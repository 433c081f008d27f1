import type { Sample } from '../../electron/contract.js';
import type { SetState } from './types.js';

/** Chart windows, in seconds. */
export const WINDOWS = [60, 300, 900, 1800] as const;
export type WindowSeconds = (typeof WINDOWS)[number];

/** Samples kept: 30 minutes at one per second, like the control plane's ring buffer. */
export const MAX_SAMPLES = 1800;

export interface TelemetrySlice {
  /** Oldest first, at most {@link MAX_SAMPLES}. */
  samples: Sample[];
  windowSeconds: WindowSeconds;
  addSample(sample: Sample): void;
  setHistory(samples: Sample[]): void;
  setWindow(seconds: WindowSeconds): void;
}

/** The sample history behind the charts. */
export function createTelemetrySlice() {
  return (set: SetState): TelemetrySlice => ({
    samples: [],
    windowSeconds: 60,
    addSample(sample) {
      set((state) => {
        const last = state.samples.at(-1);
        // Out of order or repeated (a reconnect replays history): keep time increasing.
        if (last && sample.t <= last.t) return {};
        const samples =
          state.samples.length >= MAX_SAMPLES ? state.samples.slice(state.samples.length - MAX_SAMPLES + 1) : state.samples.slice();
        samples.push(sample);
        return { samples };
      });
    },
    setHistory(samples) {
      set({ samples: [...samples].sort((a, b) => a.t - b.t).slice(-MAX_SAMPLES) });
    },
    setWindow(seconds) {
      set({ windowSeconds: seconds });
    },
  });
}
