import { useMemo } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { draftProblem, profileOf } from '../../store/traffic-slice.js';
import { useAppStore } from '../../store/use-app-store.js';
import { FieldProblems, useFieldProblems } from '../../ui/number-field.js';
import { ProfileEditor } from './profile-editor.js';
import { ProfilePreview } from './profile-preview.js';
import { RateSlider } from './rate-slider.js';
import { TrafficFigures } from './traffic-figures.js';
import { RunOptions, WorkloadEditor } from './workload-editor.js';
import { PanelTitle, useCollapsed } from '../../ui/panel-title.js';

/**
 * Fire traffic at the stack: a rate profile with a preview of its shape, the rate slider, the
 * request mix and key skew, then Fire / Stop with live figures and the run's summary.
 */
export function TrafficPanel() {
  const collapsed = useCollapsed('traffic');
  const { draft, running, busy, stackState, last, edit, start, stop } = useAppStore(
    useShallow((s) => ({
      draft: s.trafficDraft,
      last: s.lastTrafficSummary,
      running: s.trafficRunning,
      busy: s.trafficBusy,
      stackState: s.status?.state ?? 'stopped',
      edit: s.editTraffic,
      start: s.startTraffic,
      stop: s.stopTraffic,
    })),
  );
  const { report, first: fieldProblem } = useFieldProblems();
  const profile = useMemo(() => profileOf(draft), [draft]);
  const problem = fieldProblem ?? draftProblem(draft);
  const reason = stackState !== 'running' ? 'Start the stack first: traffic goes through its balancer.' : problem;

  return (
    <section id="traffic-panel" className={`panel traffic${collapsed ? ' collapsed' : ''}`} aria-labelledby="traffic-title">
      <header className="panel-header">
        <PanelTitle panel="traffic" id="traffic-title">
          Traffic
        </PanelTitle>
        <span className="traffic-state" data-testid="traffic-state">
          <span className={`dot ${running ? 'running' : ''}`} aria-hidden="true" />
          {running ? `firing · ${draft.kind}` : last ? `idle · last run: ${last.profile}, ${Math.round(last.durationS)} s` : 'idle'}
        </span>
        <p className={`traffic-reason ${reason && !running ? 'warn' : 'muted'}`} id="traffic-reason" role="status">
          {running ? 'Rate, mix and keys change live.' : reason}
        </p>
        {running ? (
          <button className="danger" onClick={() => void stop()} disabled={busy !== null}>
            {busy === 'traffic:stop' ? 'Stopping…' : 'Stop traffic'}
          </button>
        ) : (
          <button
            className="primary"
            onClick={() => void start()}
            disabled={busy !== null || reason !== null}
            aria-describedby="traffic-reason"
          >
            {busy === 'traffic:start' ? 'Firing…' : 'Fire traffic'}
          </button>
        )}
      </header>
      <FieldProblems.Provider value={report}>
        <div className="traffic-grid">
          <div className="traffic-col">
            <ProfileEditor draft={draft} disabled={running} edit={edit} />
            <ProfilePreview profile={profile} durationS={draft.durationS} />
          </div>
          <div className="traffic-col">
            <RateSlider />
            <WorkloadEditor draft={draft} running={running} edit={edit} />
          </div>
          <div className="traffic-col figures-col">
            <RunOptions draft={draft} running={running} edit={edit} />
            <TrafficFigures />
          </div>
        </div>
      </FieldProblems.Provider>
    </section>
  );
}
