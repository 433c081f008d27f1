import type { TraceDetail, TraceList, WireError } from '../../electron/contract.js';
import type { Bridge, GetState, SetState } from './types.js';

/** A second picked on the latency chart, and the window whose traces are listed (±1 s around it). */
export interface TraceWindow {
  at: number;
  from: number;
  to: number;
}

/** How far either side of a picked second the list reaches, ms: a request measured at second t started up to about a second before it. */
export const PICK_SPAN_MS = 1000;
/** Without a pick, the list shows the slowest traces of this many recent ms. */
export const RECENT_MS = 5 * 60_000;
/** Traces listed at most. */
export const TRACE_LIST_LIMIT = 30;

export interface TracesSlice {
  /** The picked window; null: the slowest recent traces. */
  traceWindow: TraceWindow | null;
  traceList: TraceList | null;
  traceListError: WireError | null;
  /** The trace shown as a waterfall. */
  openTraceId: string | null;
  openTrace: TraceDetail | null;
  openTraceError: WireError | null;
  /** Picks the second at `t` (a point of the latency chart) and lists its traces; null goes back to the recent ones. */
  pickTraceSecond(t: number | null): void;
  /** Fetches the list for the current window. */
  refreshTraces(): Promise<void>;
  /** Opens a trace's waterfall (null closes it). */
  showTrace(traceId: string | null): Promise<void>;
}

/** The `traces:list` window for a pick, or the recent one ending now. */
export function traceQueryWindow(window: TraceWindow | null, now: number): { from: number; to: number } {
  return window ? { from: window.from, to: window.to } : { from: Math.max(0, now - RECENT_MS), to: now };
}

export const createTracesSlice =
  (bridge: Bridge) =>
  (set: SetState, get: GetState): TracesSlice => {
    /** Reads a trace into the open view, unless another was opened meanwhile. */
    const loadTrace = async (traceId: string): Promise<void> => {
      const result = await bridge.invoke('traces:get', { traceId });
      if (get().openTraceId !== traceId) return;
      if (result.ok) set({ openTrace: result.value, openTraceError: null });
      else set({ openTraceError: result.error });
    };
    return {
      traceWindow: null,
      traceList: null,
      traceListError: null,
      openTraceId: null,
      openTrace: null,
      openTraceError: null,
      pickTraceSecond(t) {
        set({
          traceWindow: t === null ? null : { at: t, from: t - PICK_SPAN_MS, to: t + PICK_SPAN_MS },
          openTraceId: null,
          openTrace: null,
          openTraceError: null,
        });
        void get().refreshTraces();
      },
      async refreshTraces() {
        const window = get().traceWindow;
        const result = await bridge.invoke('traces:list', { ...traceQueryWindow(window, Date.now()), limit: TRACE_LIST_LIMIT });
        // A pick made while this was in flight wins.
        if (get().traceWindow !== window) return;
        if (!result.ok) return set({ traceListError: result.error });
        set({ traceList: result.value, traceListError: null });
        // Spans of one trace arrive in batches from several processes (the balancer's at once, the
        // replicas' a second or so later): an open trace that has grown since is read again.
        const { openTrace, openTraceId } = get();
        const listed = result.value.traces.find((t) => t.traceId === openTraceId);
        if (openTrace && listed && listed.spanCount !== openTrace.spans.length) await loadTrace(listed.traceId);
      },
      async showTrace(traceId) {
        set({ openTraceId: traceId, openTrace: null, openTraceError: null });
        if (traceId !== null) await loadTrace(traceId);
      },
    };
  };
