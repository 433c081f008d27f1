import type { SetState } from './types.js';

export type Theme = 'dark' | 'light';
/** The transport to the control plane: always open under Electron IPC; the WebSocket's otherwise. */
export type Connection = 'connecting' | 'open' | 'closed';

export interface UiSlice {
  theme: Theme;
  /** Larger type for a projector at the back of a room. */
  projector: boolean;
  /** The instance whose details drawer is open. */
  selected: string | null;
  connection: Connection;
  setConnection(connection: Connection): void;
  /** The time under the pointer on any chart, drawn as a crosshair on all of them; null when none is hovered. */
  hoverT: number | null;
  setHoverT(t: number | null): void;
  setTheme(theme: Theme): void;
  toggleProjector(): void;
  select(id: string | null): void;
}

/** View preferences and selection. */
export function createUiSlice(initial: { theme?: Theme; projector?: boolean } = {}) {
  return (set: SetState): UiSlice => ({
    theme: initial.theme ?? 'dark',
    projector: initial.projector ?? false,
    selected: null,
    connection: 'open',
    setConnection(connection) {
      set({ connection });
    },
    hoverT: null,
    setHoverT(t) {
      // The same second under a moving pointer changes nothing: no re-render of every chart.
      set((state) => (state.hoverT === t ? state : { hoverT: t }));
    },
    setTheme(theme) {
      set({ theme });
    },
    toggleProjector() {
      set((state) => ({ projector: !state.projector }));
    },
    select(id) {
      set({ selected: id });
    },
  });
}
