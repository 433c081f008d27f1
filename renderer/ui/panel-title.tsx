import type { ReactNode } from 'react';
import { useAppStore } from '../store/use-app-store.js';
import type { CollapsiblePanel } from '../store/ui-slice.js';

/** Whether `panel` is folded to its header line. */
export function useCollapsed(panel: CollapsiblePanel): boolean {
  return useAppStore((s) => s.collapsed.includes(panel));
}

/**
 * A panel's title with the button that folds the panel to its header line (the header keeps its
 * state and its main action: Stop traffic, Clear all, Play…) and opens it again.
 */
export function PanelTitle({ panel, id, children }: { panel: CollapsiblePanel; id: string; children: ReactNode }) {
  const collapsed = useCollapsed(panel);
  const toggle = useAppStore((s) => s.toggleCollapsed);
  return (
    <div className="panel-title">
      <button
        className="ghost fold"
        onClick={() => toggle(panel)}
        aria-expanded={!collapsed}
        aria-controls={`${panel}-panel`}
        aria-label={`${collapsed ? 'Open' : 'Fold'} ${panel}`}
        title={collapsed ? 'Open this panel' : 'Fold this panel to its header line'}
      >
        <span aria-hidden="true">{collapsed ? '▸' : '▾'}</span>
      </button>
      <h2 id={id}>{children}</h2>
    </div>
  );
}
