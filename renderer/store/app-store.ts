import { createStore, type StoreApi } from 'zustand/vanilla';
import { createAutoscalerSlice } from './autoscaler-slice.js';
import { createCapacitySlice } from './capacity-slice.js';
import { createChaosSlice } from './chaos-slice.js';
import { createDataSlice } from './data-slice.js';
import { createEventsSlice } from './events-slice.js';
import { createGuardSlice } from './guard-slice.js';
import { createScenarioSlice } from './scenario-slice.js';
import { createStackSlice } from './stack-slice.js';
import { createTelemetrySlice } from './telemetry-slice.js';
import { createTrafficSlice } from './traffic-slice.js';
import { createTracesSlice } from './traces-slice.js';
import type { AppState, Bridge } from './types.js';
import { createUiSlice, type SavedUi } from './ui-slice.js';

/**
 * The dashboard's store, combined from slices, and wired to the bridge's event streams: samples,
 * timeline events and progress flow in; the initial status, probes, history and events are loaded.
 * Returns the store and a function that unsubscribes from the bridge.
 */
export function createAppStore(
  bridge: Bridge,
  ui: SavedUi = {},
): { store: StoreApi<AppState>; connect(): Promise<void>; reload(): Promise<void>; disconnect(): void } {
  const store = createStore<AppState>()((set, get) => ({
    ...createStackSlice(bridge)(set, get),
    ...createTelemetrySlice()(set),
    ...createEventsSlice()(set),
    ...createTrafficSlice(bridge)(set, get),
    ...createAutoscalerSlice(bridge)(set, get),
    ...createChaosSlice(bridge)(set, get),
    ...createScenarioSlice(bridge)(set, get),
    ...createDataSlice()(set),
    ...createTracesSlice(bridge)(set, get),
    ...createCapacitySlice(bridge)(set, get),
    ...createGuardSlice(bridge)(set, get),
    ...createUiSlice(ui)(set),
  }));
  const unsubscribes: (() => void)[] = [];
  const state = store.getState;
  /** Everything the dashboard shows, from the control plane: on connect, and again after a reconnect (a new control plane). */
  const load = async () => {
    await Promise.all([
      state().refreshStatus(),
      state().loadProbes(),
      bridge.invoke('telemetry:history', { seconds: 1800 }).then((r) => r.ok && state().setHistory(r.value)),
      bridge.invoke('events:list', { limit: 2000 }).then((r) => r.ok && state().setEvents(r.value)),
      state().refreshAutoscaler(),
      state().refreshChaos(),
      state().refreshScenarios(),
      state().refreshCapacity(),
      state().refreshGuard(),
    ]);
  };
  let statusTimer: ReturnType<typeof setInterval> | undefined;
  return {
    store,
    reload: load,
    async connect() {
      unsubscribes.push(
        bridge.on('sample', (sample) => {
          state().addSample(sample);
          state().syncTraffic(sample.generator ?? null);
          state().syncChaos(sample.chaos ?? null);
        }),
        bridge.on('event', (event) => {
          state().addEvent(event);
          // Lifecycle and scaling change the instance list: refresh it now, not at the next poll.
          void state().refreshStatus();
          // An autoscaler turned on, off or changed (here, from the CLI or another window).
          if (event.kind === 'autoscaler' && event.message.startsWith('autoscaler ')) void state().refreshAutoscaler();
          // A stack started or stopped: which autoscaler applies (emulated or the cluster's HPA) may have changed.
          else if (event.kind === 'lifecycle' && /^stack ".*" (is up|stopped)/.test(event.message)) void state().refreshAutoscaler();
        }),
        bridge.on('progress', (progress) => state().addProgress(progress)),
        bridge.on('decision', (decision) => state().addDecision(decision)),
        bridge.on('scenario', (status) => state().syncScenario(status)),
        bridge.on('capacity', (status) => state().syncCapacity(status)),
        bridge.on('guard', (status) => state().syncGuard(status)),
      );
      await load();
      // A dashboard opened during a run shows it as running.
      state().syncTraffic(state().samples.at(-1)?.generator ?? null);
      statusTimer = setInterval(() => void state().refreshStatus(), 2_000);
    },
    disconnect() {
      for (const unsubscribe of unsubscribes.splice(0)) unsubscribe();
      if (statusTimer) clearInterval(statusTimer);
    },
  };
}
