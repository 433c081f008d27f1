import { useId } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { MONKEY_INTERVAL, MONKEY_MAX_DOWN, monkeyChanged, monkeyOn } from '../../store/chaos-slice.js';
import { useAppStore } from '../../store/use-app-store.js';
import { FieldProblems, useFieldProblems } from '../../ui/number-field.js';
import { monkeySummary } from './chaos-data.js';
import { Switch } from '../../ui/switch.js';
import { InlineNumber } from '../../ui/inline-number.js';

/** The Chaos Monkey: its switch, its pace and how many it may hold down, and what it has done. */
export function MonkeyControl() {
  const { monkey, running, busy, draft, edit, inject } = useAppStore(
    useShallow((s) => ({
      monkey: s.chaos?.monkey ?? null,
      running: s.status?.state === 'running',
      busy: s.chaosBusy,
      draft: s.chaosDraft,
      edit: s.editChaos,
      inject: s.inject,
    })),
  );
  const { report, first } = useFieldProblems();
  const on = !!monkey?.enabled;
  const changed = monkeyChanged(draft, monkey ? { faults: [], monkey } : null);
  const titleId = useId();
  return (
    <FieldProblems.Provider value={report}>
      <div className={`chaos-col monkey ${on ? 'on' : ''}`} role="group" aria-labelledby={titleId}>
        <div className="monkey-head">
          <Switch
            on={on}
            label="Chaos Monkey"
            className="chaos-switch"
            busy={busy === 'monkey'}
            disabled={busy !== null || (!on && (!running || first !== undefined))}
            title={first ?? (on ? 'Stop the monkey' : 'Let the monkey kill a random api or worker replica every interval (±50 %)')}
            onToggle={() => void inject(on ? { action: 'monkey', enabled: false } : monkeyOn(draft))}
          />
          <span id={titleId} className="monkey-title">
            Chaos Monkey
          </span>
        </div>
        <div className="chaos-params">
          <InlineNumber
            label="monkey interval, seconds"
            before="every"
            unit="s"
            value={draft[MONKEY_INTERVAL]!}
            onChange={(v) => edit({ [MONKEY_INTERVAL]: v })}
            min={1}
            max={3600}
          />
          <InlineNumber
            label="monkey max down"
            before="max down"
            value={draft[MONKEY_MAX_DOWN]!}
            onChange={(v) => edit({ [MONKEY_MAX_DOWN]: v })}
            min={1}
            max={10}
            integer
          />
          {on && changed && (
            <button
              className="primary chaos-apply"
              onClick={() => void inject(monkeyOn(draft))}
              disabled={busy !== null || first !== undefined}
              title={first}
            >
              Apply
            </button>
          )}
        </div>
        <p className="monkey-summary muted" data-testid="monkey-summary">
          {monkeySummary(monkey)}
        </p>
      </div>
    </FieldProblems.Provider>
  );
}
