import { useId } from 'react';
import { MAX_RPS, PROFILE_KINDS, type ProfileKind, type TrafficDraft } from '../../store/traffic-slice.js';
import { NumberField } from '../../ui/number-field.js';

const DAY = 86_400;

const HINT: Record<ProfileKind, string> = {
  constant: 'one steady rate',
  ramp: 'linear, then holds',
  step: 'stairs from → to',
  spike: 'base, then a burst',
  sine: 'waves min ↔ max',
  replay: 'a rate per second',
};

interface Props {
  draft: TrafficDraft;
  disabled: boolean;
  edit: (patch: Partial<TrafficDraft>) => void;
}

/** The parameters of the chosen profile, each a labelled number box (a text box for replay). */
function Parameters({ draft, disabled, edit }: Props) {
  const rate = { min: 0, max: MAX_RPS, disabled };
  const seconds = { min: 0, max: DAY, exclusiveMin: true, disabled };
  const replayId = useId();
  switch (draft.kind) {
    case 'constant': {
      const p = draft.constant;
      return <NumberField label="rps" value={p.rps} onChange={(v) => edit({ constant: { rps: v ?? 0 } })} {...rate} />;
    }
    case 'ramp': {
      const p = draft.ramp;
      return (
        <>
          <NumberField label="from rps" value={p.from} onChange={(v) => edit({ ramp: { ...p, from: v ?? 0 } })} {...rate} />
          <NumberField label="to rps" value={p.to} onChange={(v) => edit({ ramp: { ...p, to: v ?? 0 } })} {...rate} />
          <NumberField label="over s" value={p.overS} onChange={(v) => edit({ ramp: { ...p, overS: v ?? 1 } })} {...seconds} />
        </>
      );
    }
    case 'step': {
      const p = draft.step;
      return (
        <>
          <NumberField label="from rps" value={p.from} onChange={(v) => edit({ step: { ...p, from: v ?? 0 } })} {...rate} />
          <NumberField label="to rps" value={p.to} onChange={(v) => edit({ step: { ...p, to: v ?? 0 } })} {...rate} />
          <NumberField
            label="steps"
            value={p.steps}
            onChange={(v) => edit({ step: { ...p, steps: v ?? 1 } })}
            min={1}
            max={1000}
            integer
            disabled={disabled}
          />
          <NumberField label="every s" value={p.everyS} onChange={(v) => edit({ step: { ...p, everyS: v ?? 1 } })} {...seconds} />
        </>
      );
    }
    case 'spike': {
      const p = draft.spike;
      return (
        <>
          <NumberField label="base rps" value={p.base} onChange={(v) => edit({ spike: { ...p, base: v ?? 0 } })} {...rate} />
          <NumberField label="peak rps" value={p.peak} onChange={(v) => edit({ spike: { ...p, peak: v ?? 0 } })} {...rate} />
          <NumberField
            label="at s"
            value={p.atS}
            onChange={(v) => edit({ spike: { ...p, atS: v ?? 0 } })}
            min={0}
            max={DAY}
            disabled={disabled}
          />
          <NumberField label="for s" value={p.forS} onChange={(v) => edit({ spike: { ...p, forS: v ?? 1 } })} {...seconds} />
        </>
      );
    }
    case 'sine': {
      const p = draft.sine;
      return (
        <>
          <NumberField label="min rps" value={p.min} onChange={(v) => edit({ sine: { ...p, min: v ?? 0 } })} {...rate} />
          <NumberField label="max rps" value={p.max} onChange={(v) => edit({ sine: { ...p, max: v ?? 0 } })} {...rate} />
          <NumberField label="period s" value={p.periodS} onChange={(v) => edit({ sine: { ...p, periodS: v ?? 1 } })} {...seconds} />
        </>
      );
    }
    case 'replay': {
      const p = draft.replay;
      return (
        <div className="replay-field">
          <label htmlFor={replayId}>rates/s, comma-separated</label>
          <textarea
            id={replayId}
            rows={2}
            value={p.rates}
            disabled={disabled}
            spellCheck={false}
            onChange={(e) => edit({ replay: { ...p, rates: e.target.value } })}
          />
          <label className="check">
            <input
              type="checkbox"
              checked={p.loop}
              disabled={disabled}
              onChange={(e) => edit({ replay: { ...p, loop: e.target.checked } })}
            />{' '}
            loop
          </label>
        </div>
      );
    }
  }
}

/** The profile picker and the chosen profile's parameters. */
export function ProfileEditor({ draft, disabled, edit }: Props) {
  const pickerId = useId();
  return (
    <div className="profile-editor">
      <div className="profile-picker">
        <label htmlFor={pickerId}>Profile</label>
        <select id={pickerId} value={draft.kind} disabled={disabled} onChange={(e) => edit({ kind: e.target.value as ProfileKind })}>
          {PROFILE_KINDS.map((kind) => (
            <option key={kind} value={kind}>
              {kind}
            </option>
          ))}
        </select>
        <span className="muted hint">{HINT[draft.kind]}</span>
      </div>
      <div className={`profile-params kind-${draft.kind}`}>
        <Parameters key={draft.kind} draft={draft} disabled={disabled} edit={edit} />
      </div>
    </div>
  );
}
