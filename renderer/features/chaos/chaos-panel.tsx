import { useShallow } from 'zustand/react/shallow';
import { buttonsAt, type ButtonPlace, type ChaosActionButton } from '../../../electron/chaos/buttons.js';
import { chaosKey, panelActionOf } from '../../store/chaos-slice.js';
import { useAppStore } from '../../store/use-app-store.js';
import { ButtonRow } from './button-row.js';
import { DataChaos } from './data-chaos.js';
import { FaultList } from './fault-list.js';
import { MonkeyControl } from './monkey-control.js';
import { WritesBadge } from './writes-badge.js';
import { PanelTitle, useCollapsed } from '../../ui/panel-title.js';

/** The panel's first two columns: their captions, and the action modules' buttons placed there. */
const COLUMNS: { place: ButtonPlace; label: string; caption: string }[] = [
  { place: 'kill', label: 'Kill', caption: 'kill: the runtime brings it back' },
  { place: 'every-api', label: 'Faults on every api replica', caption: 'every api replica, until cleared' },
];

/** Buttons in runs: those with no boxes side by side, each with boxes on its own row. */
function runs(buttons: ChaosActionButton[]): ChaosActionButton[][] {
  const out: ChaosActionButton[][] = [];
  for (const b of buttons) {
    const last = out.at(-1);
    if (!b.fields?.length && last && !last[0]!.fields?.length) last.push(b);
    else out.push([b]);
  }
  return out;
}

/**
 * Chaos: kill replicas and stores, slow or fail every api replica, let the monkey loose, break the
 * data layer; the faults in force, and the writes badge that says whether anything acknowledged was lost.
 */
export function ChaosPanel() {
  const collapsed = useCollapsed('chaos');
  const { running, busy, draft, edit, injectPanel, clearChaos, anything } = useAppStore(
    useShallow((s) => ({
      running: s.status?.state === 'running',
      busy: s.chaosBusy,
      draft: s.chaosDraft,
      edit: s.editChaos,
      injectPanel: s.injectPanel,
      clearChaos: s.clearChaos,
      anything: (s.chaos?.faults.length ?? 0) > 0 || !!s.chaos?.monkey.enabled,
    })),
  );
  const row = (button: ChaosActionButton) => (
    <ButtonRow
      key={button.id}
      button={button}
      values={draft}
      onEdit={edit}
      busy={busy === chaosKey(panelActionOf(button.id, draft))}
      disabled={!running || busy !== null}
      onRun={() => void injectPanel(button.id)}
    />
  );

  return (
    <section id="chaos-panel" className={`panel chaos${collapsed ? ' collapsed' : ''}`} aria-labelledby="chaos-title">
      <header className="panel-header">
        <PanelTitle panel="chaos" id="chaos-title">
          Chaos
        </PanelTitle>
        <p className="chaos-intro muted">
          {running ? 'break something and watch it heal; every action lands on the timeline' : 'start the stack to break it'}
        </p>
        <button
          className={anything ? 'danger' : ''}
          onClick={() => void clearChaos()}
          disabled={busy !== null || (!running && !anything)}
          aria-busy={busy === 'clear'}
          title="Undo every reversible fault (latency, errors, cpu, leak, a store held down) and stop the monkey"
        >
          Clear all
        </button>
      </header>
      <div className="chaos-grid">
        {COLUMNS.map((column) => (
          <div key={column.place} className="chaos-col" role="group" aria-label={column.label}>
            <p className="chaos-caption muted">{column.caption}</p>
            {runs(buttonsAt(column.place)).map((run) =>
              run.length > 1 ? (
                <div key={run[0]!.id} className="chaos-pair">
                  {run.map(row)}
                </div>
              ) : (
                row(run[0]!)
              ),
            )}
          </div>
        ))}
        <MonkeyControl />
      </div>
      <DataChaos />
      <div className="chaos-state">
        <FaultList />
        <WritesBadge />
      </div>
    </section>
  );
}
