import { useShallow } from 'zustand/react/shallow';
import { useAppStore } from '../../store/use-app-store.js';
import { AssertionList } from './assertion-list.js';
import { PlayerControls } from './player-controls.js';
import { ReportExport } from './report-export.js';
import { stateTone } from './scenario-data.js';
import { ScenarioPicker } from './scenario-picker.js';
import { StepList } from './step-list.js';
import { PanelTitle, useCollapsed } from '../../ui/panel-title.js';

/**
 * Scenarios: a scripted demo (traffic phases, chaos, scaling) on one timeline, played like a
 * track — Play, Pause, Step, Reset — with its steps, its assertions judged live and at the end,
 * and the report of any time window.
 */
export function ScenarioPanel() {
  const collapsed = useCollapsed('scenario');
  const { state, name, error } = useAppStore(
    useShallow((s) => ({ state: s.scenario?.state ?? 'idle', name: s.scenario?.name ?? null, error: s.scenario?.error ?? null })),
  );
  return (
    <section id="scenario-panel" className={`panel scenario${collapsed ? ' collapsed' : ''}`} aria-labelledby="scenario-title">
      <header className="panel-header">
        <PanelTitle panel="scenario" id="scenario-title">
          Scenario
        </PanelTitle>
        <span className={`scenario-badge tone-${stateTone(state)}`} data-testid="scenario-state" title="The player’s state">
          {state}
        </span>
        <span className="scenario-name" data-testid="scenario-name" title={name ?? undefined}>
          {name ?? <span className="muted">none loaded</span>}
        </span>
        <PlayerControls />
      </header>
      {error && (
        <p className="scenario-error" role="status" data-testid="scenario-error">
          {error}
        </p>
      )}
      <div className="scenario-grid">
        <div className="scenario-col">
          <ScenarioPicker />
          <ReportExport />
        </div>
        <StepList />
        <AssertionList />
      </div>
    </section>
  );
}
