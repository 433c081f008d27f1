import { useShallow } from 'zustand/react/shallow';
import { chaosKey, panelActionOf, type PanelAction } from '../../store/chaos-slice.js';
import { useAppStore } from '../../store/use-app-store.js';
import { ActionRow } from './action-row.js';
import { DataChaos } from './data-chaos.js';
import { FaultList } from './fault-list.js';
import { InlineNumber } from '../../ui/inline-number.js';
import { MonkeyControl } from './monkey-control.js';
import { WritesBadge } from './writes-badge.js';

/**
 * Chaos: kill replicas and stores, slow or fail every api replica, let the monkey loose, break the
 * data layer; the faults in force, and the writes badge that says whether anything acknowledged was lost.
 */
export function ChaosPanel() {
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
  const off = !running || busy !== null;
  const row = (button: PanelAction) => ({
    busy: busy === chaosKey(panelActionOf(button, draft)),
    disabled: off,
    onRun: () => void injectPanel(button),
  });

  return (
    <section className="panel chaos" aria-labelledby="chaos-title">
      <header className="panel-header">
        <h2 id="chaos-title">Chaos</h2>
        <p className="chaos-intro muted">{running ? 'break something and watch it heal; every action lands on the timeline' : 'start the stack to break it'}</p>
        <button className={anything ? 'danger' : ''} onClick={() => void clearChaos()} disabled={busy !== null || (!running && !anything)} aria-busy={busy === 'clear'} title="Undo every reversible fault (latency, errors, cpu, leak, a store held down) and stop the monkey">
          Clear all
        </button>
      </header>
      <div className="chaos-grid">
        <div className="chaos-col" role="group" aria-label="Kill">
          <p className="chaos-caption muted">kill: the runtime brings it back</p>
          <div className="chaos-pair">
            <ActionRow label="Kill random api" title="SIGKILL to a random api replica" {...row('kill-api')} />
            <ActionRow label="Kill random worker" title="SIGKILL to a random worker" {...row('kill-worker')} />
          </div>
          <ActionRow label="Kill cache" title="Kill Redis; it comes back after the seconds given" {...row('kill-cache')}>
            <InlineNumber label="cache down for, seconds" before="for" unit="s" value={draft.cacheSeconds} onChange={(v) => edit({ cacheSeconds: v })} min={0} max={600} />
          </ActionRow>
          <ActionRow label="Kill database" title="Kill PostgreSQL; it comes back after the seconds given" {...row('kill-db')}>
            <InlineNumber label="database down for, seconds" before="for" unit="s" value={draft.dbSeconds} onChange={(v) => edit({ dbSeconds: v })} min={0} max={600} />
          </ActionRow>
        </div>
        <div className="chaos-col" role="group" aria-label="Faults on every api replica">
          <p className="chaos-caption muted">every api replica, until cleared</p>
          <ActionRow label="Latency on all api" title="Add this latency to every api replica’s database and cache calls (0 removes it)" {...row('latency')}>
            <InlineNumber label="latency db ms" before="db" value={draft.latencyDbMs} onChange={(v) => edit({ latencyDbMs: v })} min={0} max={60_000} integer />
            <InlineNumber label="latency cache ms" before="cache" unit="ms" value={draft.latencyCacheMs} onChange={(v) => edit({ latencyCacheMs: v })} min={0} max={60_000} integer />
          </ActionRow>
          <ActionRow label="Errors on all api" title="Make every api replica answer this share of requests with 500 (0 removes it)" {...row('errors')}>
            <InlineNumber label="error rate %" unit="% fail" value={draft.errorPercent} onChange={(v) => edit({ errorPercent: v })} min={0} max={100} />
          </ActionRow>
        </div>
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
