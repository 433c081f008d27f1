import { useId } from 'react';
import type { Mix } from '../../../electron/contract.js';
import { MIX_KINDS, mixNote, mixTotal, type TrafficDraft } from '../../store/traffic-slice.js';
import { NumberField } from '../../ui/number-field.js';

const MIX_LABEL: Record<keyof Mix, string> = { read: 'read', write: 'write', list: 'list', missing: 'missing', sendEmail: 'send-email' };

interface Props {
  draft: TrafficDraft;
  /** Mid-run only mix and keys may change (`traffic:update`); the rest is fixed when the run starts. */
  running: boolean;
  edit: (patch: Partial<TrafficDraft>) => void;
}

/** The request mix (percent per kind) and how reads pick their keys. */
export function WorkloadEditor({ draft, running, edit }: Props) {
  const keysId = useId();
  const total = mixTotal(draft.mix);
  return (
    <div className="workload">
      <fieldset className="mix">
        <legend>
          Mix %{' '}
          <span className={`mix-sum ${total === 100 ? 'muted' : total <= 0 ? 'bad' : 'warn'}`} aria-live="polite">
            · {mixNote(draft.mix)}
          </span>
        </legend>
        {MIX_KINDS.map((kind) => (
          <NumberField
            key={kind}
            label={MIX_LABEL[kind]}
            value={draft.mix[kind]}
            onChange={(v) => edit({ mix: { ...draft.mix, [kind]: v ?? 0 } })}
            min={0}
            max={100}
          />
        ))}
      </fieldset>
      <div className="workload-row">
        <div className="keys-field">
          <label htmlFor={keysId}>Keys</label>
          <select
            id={keysId}
            value={draft.keys.distribution}
            onChange={(e) => edit({ keys: { ...draft.keys, distribution: e.target.value as 'uniform' | 'zipf' } })}
          >
            <option value="zipf">Zipf</option>
            <option value="uniform">uniform</option>
          </select>
        </div>
        <NumberField
          label="skew s"
          layout="inline"
          value={draft.keys.s}
          onChange={(v) => edit({ keys: { ...draft.keys, s: v ?? 1.1 } })}
          min={0}
          max={5}
          step={0.1}
          disabled={draft.keys.distribution !== 'zipf'}
        />
      </div>
    </div>
  );
}

/** How long the run lasts (empty: until stopped) and how long one request may take. */
export function RunOptions({ draft, running, edit }: Props) {
  return (
    <div className="run-options">
      <NumberField
        label="duration s"
        value={draft.durationS}
        onChange={(v) => edit({ durationS: v })}
        min={0}
        max={86_400}
        exclusiveMin
        optional
        placeholder="until stopped"
        disabled={running}
      />
      <NumberField
        label="timeout ms"
        value={draft.timeoutMs}
        onChange={(v) => edit({ timeoutMs: v ?? 2000 })}
        min={10}
        max={60_000}
        integer
        disabled={running}
      />
    </div>
  );
}
