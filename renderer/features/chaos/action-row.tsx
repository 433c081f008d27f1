import type { ReactNode } from 'react';
import { FieldProblems, useFieldProblems } from '../../ui/number-field.js';

export interface ActionRowProps {
  /** The button's words, and its accessible name. */
  label: string;
  /** What it does, shown on hover. */
  title: string;
  onRun: () => void;
  /** This row's command is in flight. */
  busy: boolean;
  disabled: boolean;
  /** The row's number boxes ("for [10] s"); while one is invalid the button does not send. */
  children?: ReactNode;
}

/** One chaos button with the numbers it sends beside it. */
export function ActionRow({ label, title, onRun, busy, disabled, children }: ActionRowProps) {
  const { report, first } = useFieldProblems();
  return (
    <FieldProblems.Provider value={report}>
      <div className="chaos-row">
        <button
          className={`chaos-button ${busy ? 'busy' : ''}`}
          aria-busy={busy}
          disabled={disabled || first !== undefined}
          title={first ?? title}
          onClick={onRun}
        >
          {label}
        </button>
        {children && <span className="chaos-params">{children}</span>}
      </div>
    </FieldProblems.Provider>
  );
}
