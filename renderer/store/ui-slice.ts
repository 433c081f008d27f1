import type { SetState } from './types.js';

export type Theme = 'dark' | 'light';
/** The panels that fold to their header line (the controls, and the views below them). */
export const COLLAPSIBLE_PANELS = [
  'chaos',
  'traffic',
  'autoscaler',
  'scenario',
  'capacity',
  'data',
  'charts',
  'endpoints',
  'traces',
] as const;
export type CollapsiblePanel = (typeof COLLAPSIBLE_PANELS)[number];
/** The view preferences that survive a reload. */
export interface SavedUi {
  theme?: Theme;
  projector?: boolean;
  collapsed?: CollapsiblePanel[];
}
/** The transport to the control plane: always open under Electron IPC; the WebSocket's otherwise. */
export type Connection = 'connecting' | 'open' | 'closed';

export interface UiSlice {
  theme: Theme;
  /** Larger type for a projector at the back of a room. */
  projector: boolean;
  /** Panels folded to their header line: a trainer keeps the page to what the room should see. */
  collapsed: CollapsiblePanel[];
  toggleCollapsed(panel: CollapsiblePanel): void;
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

/** The saved view preferences, parsed: local storage is written by whatever ran on this origin before. */
export function parseSavedUi(text: string | null): SavedUi {
  let raw: unknown;
  try {
    raw = JSON.parse(text ?? '{}');
  } catch {
    return {};
  }
  if (typeof raw !== 'object' || raw === null) return {};
  const { theme, projector, collapsed } = raw as Record<string, unknown>;
  return {
    theme: theme === 'light' || theme === 'dark' ? theme : undefined,
    projector: typeof projector === 'boolean' ? projector : undefined,
    collapsed: Array.isArray(collapsed)
      ? [...new Set(collapsed.filter((p): p is CollapsiblePanel => (COLLAPSIBLE_PANELS as readonly unknown[]).includes(p)))]
      : undefined,
  };
}

/** View preferences and selection. */
export function createUiSlice(initial: SavedUi = {}) {
  return (set: SetState): UiSlice => ({
    theme: initial.theme ?? 'dark',
    projector: initial.projector ?? false,
    collapsed: initial.collapsed ?? [],
    toggleCollapsed(panel) {
      set((state) => ({
        collapsed: state.collapsed.includes(panel) ? state.collapsed.filter((p) => p !== panel) : [...state.collapsed, panel],
      }));
    },
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
