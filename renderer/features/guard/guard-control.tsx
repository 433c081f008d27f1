import { useShallow } from 'zustand/react/shallow';
import { guardDraftProblem } from '../../store/guard-slice.js';
import { useAppStore } from '../../store/use-app-store.js';
import { Switch } from '../../ui/switch.js';
import { InlineNumber } from '../../ui/inline-number.js';

/** The safety guard in the Scale panel: a switch and its limit, "errors ≥ [5] % for [5] s", and where it stands. */
export function GuardControl() {
  const { guard, draft, busy, error, edit, setGuard } = useAppStore(
    useShallow((s) => ({
      guard: s.guard,
      draft: s.guardDraft,
      busy: s.guardBusy,
      error: s.guardError,
      edit: s.editGuard,
      setGuard: s.setGuard,
    })),
  );
  const on = !!guard?.enabled;
  const problem = guardDraftProblem(draft);
  const changed = on && (draft.errorPercent !== guard.errorPercent || draft.seconds !== guard.seconds);
  return (
    <div className={`guard ${on ? 'on' : ''}`} role="group" aria-label="Safety guard">
      <div className="guard-head">
        <Switch
          on={on}
          label="Safety guard"
          className="guard-switch"
          busy={busy}
          disabled={busy || (!on && problem !== null)}
          title={problem ?? (on ? 'Disarm the guard' : 'Stop traffic and chaos when errors pass the limit')}
          onToggle={() => void setGuard(!on)}
        />
        <span className="guard-title">Safety guard</span>
      </div>
      <div className="chaos-params">
        <InlineNumber
          label="guard error limit, percent"
          before="errors ≥"
          unit="%"
          value={draft.errorPercent}
          onChange={(v) => edit({ errorPercent: v })}
          min={0.1}
          max={100}
        />
        <InlineNumber
          label="guard seconds"
          before="for"
          unit="s"
          value={draft.seconds}
          onChange={(v) => edit({ seconds: v })}
          min={1}
          max={600}
          integer
        />
        {changed && (
          <button className="primary chaos-apply" onClick={() => void setGuard(true)} disabled={busy || problem !== null}>
            Apply
          </button>
        )}
      </div>
      <p className="guard-state muted" data-testid="guard-state">
        {error
          ? `${error.name}: ${error.message}`
          : on
            ? `armed: stops traffic and chaos${guard.badSeconds > 0 ? ` · ${guard.badSeconds} of ${guard.seconds} bad seconds` : ''}`
            : 'off: nothing stops a run on errors'}
      </p>
    </div>
  );
}
