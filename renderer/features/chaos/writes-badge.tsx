import { useShallow } from 'zustand/react/shallow';
import { writesView } from '../../store/chaos-slice.js';
import { useAppStore } from '../../store/use-app-store.js';
import { formatTime } from '../../ui/format.js';
import { lostIdsText } from './chaos-data.js';

/**
 * Writes acknowledged to the traffic generator, and whether a read-back found them all: the proof
 * that chaos cost availability, not data. Red when any acknowledged write is gone.
 */
export function WritesBadge() {
  const { live, check, busy, running, verify } = useAppStore(
    useShallow((s) => ({
      live: s.samples.at(-1)?.writes,
      check: s.lastWriteCheck,
      busy: s.chaosBusy,
      running: s.status?.state === 'running',
      verify: s.verifyWrites,
    })),
  );
  const view = writesView(live, check);
  const note =
    view.state === 'unchecked'
      ? 'Verify reads every acknowledged write back'
      : `checked ${formatTime(view.checkedAt!)}${view.sinceCheck > 0 ? ` · ${view.sinceCheck} newer` : ''}${view.duplicated ? ` · ${view.duplicated} duplicated` : ''}`;
  return (
    <div className={`writes-badge ${view.state}`} role="group" aria-labelledby="writes-title">
      <header className="writes-head">
        <h3 id="writes-title" className="chaos-caption">
          writes
        </h3>
        {view.state === 'lost' ? (
          <p className="writes-note lost-ids" data-testid="writes-lost-ids" title={view.lostIds.join(', ')}>
            lost ids: {lostIdsText(view.lostIds, view.lost ?? view.lostIds.length)}
          </p>
        ) : (
          <p className="writes-note muted">{note}</p>
        )}
      </header>
      <div className="writes-body">
        <dl className="writes-figures">
          <div>
            <dt>acknowledged</dt>
            <dd data-testid="writes-acknowledged">{view.acknowledged}</dd>
          </div>
          <div>
            <dt>verified</dt>
            <dd data-testid="writes-verified">{view.verified ?? '–'}</dd>
          </div>
          <div className={view.state === 'lost' ? 'bad' : ''}>
            <dt>lost</dt>
            <dd data-testid="writes-lost">{view.lost ?? '–'}</dd>
          </div>
        </dl>
        <button
          onClick={() => void verify()}
          disabled={busy !== null || !running}
          aria-busy={busy === 'verify'}
          title="Read every write the stack acknowledged back from the service"
        >
          Verify
        </button>
      </div>
    </div>
  );
}
