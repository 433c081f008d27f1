import { useShallow } from 'zustand/react/shallow';
import { buttonsAt } from '../../../electron/chaos/buttons.js';
import { chaosKey, panelActionOf } from '../../store/chaos-slice.js';
import { useAppStore } from '../../store/use-app-store.js';
import { dataPatterns } from '../../store/data-patterns.js';
import { ButtonRow } from './button-row.js';
import { patternOff } from './chaos-data.js';

const DATA_BUTTONS = buttonsAt('data');

/**
 * The data layer's chaos: the read replica killed or slowed, the outbox relay or the projector
 * killed mid-batch. A button whose pattern is off says why, in place of its numbers.
 */
export function DataChaos() {
  const { running, busy, draft, edit, injectPanel, readReplica, events } = useAppStore(
    useShallow((s) => {
      const p = dataPatterns(s.status?.spec, s.samples.at(-1)?.data);
      return {
        running: s.status?.state === 'running',
        busy: s.chaosBusy,
        draft: s.chaosDraft,
        edit: s.editChaos,
        injectPanel: s.injectPanel,
        readReplica: p.readReplica,
        events: p.events,
      };
    }),
  );
  return (
    <div className="chaos-col chaos-data" role="group" aria-label="Data layer chaos">
      <p className="chaos-caption muted">data layer: reads fall back to the primary, events catch up</p>
      {DATA_BUTTONS.map((button) => (
        <ButtonRow
          key={button.id}
          button={button}
          values={draft}
          onEdit={edit}
          off={running ? patternOff(button.needs, { readReplica, events }) : null}
          busy={busy === chaosKey(panelActionOf(button.id, draft))}
          disabled={!running || busy !== null}
          onRun={() => void injectPanel(button.id)}
        />
      ))}
    </div>
  );
}
