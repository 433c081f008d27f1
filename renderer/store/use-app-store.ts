import { useStore } from 'zustand';
import { createAppStore } from './app-store.js';
import { getBridge } from '../api/bridge.js';
import type { AppState } from './types.js';
import { parseSavedUi } from './ui-slice.js';

/** The app's one store, on the bridge the page runs with (Electron IPC or WebSocket). */
export const app = createAppStore(getBridge(), parseSavedUi(localStorage.getItem('scalelab.ui')));

// Theme, projector mode and the folded panels survive a reload.
app.store.subscribe((state, previous) => {
  if (state.theme !== previous.theme || state.projector !== previous.projector || state.collapsed !== previous.collapsed)
    localStorage.setItem('scalelab.ui', JSON.stringify({ theme: state.theme, projector: state.projector, collapsed: state.collapsed }));
});

/** Selects narrowly from the store, so a sample per second re-renders only what reads it. */
export function useAppStore<T>(selector: (state: AppState) => T): T {
  return useStore(app.store, selector);
}
