import type { ChaosActionButton } from '../../../electron/chaos/buttons.js';
import { fieldKey } from '../../../electron/chaos/buttons.js';
import { InlineNumber } from '../../ui/inline-number.js';
import { ActionRow } from './action-row.js';

export interface ButtonRowProps {
  button: ChaosActionButton;
  /** The form's values, under {@link fieldKey}. */
  values: Readonly<Record<string, number>>;
  onEdit: (patch: Record<string, number>) => void;
  onRun: () => void;
  busy: boolean;
  disabled: boolean;
  /** Why it cannot run here (its data-layer pattern is off): shown in place of its boxes. */
  off?: string | null;
}

/** An action module's button with its number boxes, as the module describes them. */
export function ButtonRow({ button, values, onEdit, onRun, busy, disabled, off }: ButtonRowProps) {
  return (
    <ActionRow label={button.label} title={off ?? button.title} busy={busy} disabled={disabled || !!off} onRun={onRun}>
      {off ? (
        <span className="chaos-off">{off}</span>
      ) : (
        button.fields?.map((f) => {
          const key = fieldKey(button, f.key);
          return (
            <InlineNumber
              key={key}
              label={f.label}
              before={f.before}
              unit={f.unit}
              value={values[key] ?? f.default}
              onChange={(v) => onEdit({ [key]: v })}
              min={f.min}
              max={f.max}
              integer={f.integer}
            />
          );
        })
      )}
    </ActionRow>
  );
}
