import { useStore } from 'zustand';
import { createAppStore } from './app-store.js';
import { getBridge } from '../api/bridge.js';
import type { AppState } from './types.js';
import type { Theme } from './ui-slice.js';

function saved(): { theme?: Theme; projector?: boolean } {
  try {
    return JSON.parse(localStorage.getItem('scalelab.ui') ?? '{}') as { theme?: Theme; projector?: boolean };
  } catch {
    return {};
  }
}

/** The app's one store, on the bridge the page runs with (Electron IPC or WebSocket). */
export const app = createAppStore(getBridge(), saved());

// Theme and projector mode survive a reload.
app.store.subscribe((state, previous) => {
  if (state.theme !== previous.theme || state.projector !== previous.projector)
    localStorage.setItem('scalelab.ui', JSON.stringify({ theme: state.theme, projector: state.projector }));
});

/** Selects narrowly from the store, so a sample per second re-renders only what reads it. */
export function useAppStore<T>(selector: (state: AppState) => T): T {
  return useStore(app.store, selector);
}
