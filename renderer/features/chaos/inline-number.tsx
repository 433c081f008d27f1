import { useContext, useEffect, useId, useState } from 'react';
import { FieldProblems } from '../traffic/number-field.js';

export interface InlineNumberProps {
  /** The accessible name (the visible words around the box are short: "for", "s"). */
  label: string;
  value: number;
  /** Called with valid values only; while the text is not one, the box is marked invalid. */
  onChange: (value: number) => void;
  min: number;
  max: number;
  integer?: boolean;
  /** Words before the box ("for", "db"). */
  before?: string;
  /** Its unit ("s", "ms", "%"). */
  unit?: string;
  disabled?: boolean;
}

function parse(text: string, min: number, max: number, integer: boolean | undefined): { ok: true; value: number } | { ok: false; reason: string } {
  if (text.trim() === '') return { ok: false, reason: 'a number is needed' };
  const n = Number(text);
  if (!Number.isFinite(n)) return { ok: false, reason: 'not a number' };
  if (integer && !Number.isInteger(n)) return { ok: false, reason: 'a whole number is needed' };
  if (n < min) return { ok: false, reason: `must be at least ${min}` };
  if (n > max) return { ok: false, reason: `must be at most ${max}` };
  return { ok: true, value: n };
}

/**
 * A small number box inside a sentence ("Kill cache for [10] s"), labelled for assistive tech by
 * `label`. Like the traffic form's NumberField it passes on valid values only and reports its
 * problem through {@link FieldProblems}, so the button beside it can refuse to send.
 */
export function InlineNumber({ label, value, onChange, min, max, integer, before, unit, disabled }: InlineNumberProps) {
  const id = useId();
  const [text, setText] = useState(String(value));
  const check = parse(text, min, max, integer);
  const report = useContext(FieldProblems);
  const problem = check.ok || disabled ? null : `${label}: ${check.reason}`;
  useEffect(() => {
    report(id, problem);
    return () => report(id, null);
  }, [problem]);
  // Follow changes made elsewhere (the running monkey's settings), unless the box already says the same.
  useEffect(() => {
    setText((old) => {
      const shown = parse(old, min, max, integer);
      return shown.ok && shown.value === value ? old : String(value);
    });
  }, [value]);
  return (
    <span className="inline-number">
      {before && <span aria-hidden="true">{before}</span>}
      <input
        id={id}
        type="number"
        inputMode="decimal"
        aria-label={label}
        value={text}
        min={min}
        max={max}
        step={integer ? 1 : 'any'}
        disabled={disabled}
        aria-invalid={!check.ok}
        title={problem ?? undefined}
        onChange={(e) => {
          setText(e.target.value);
          const next = parse(e.target.value, min, max, integer);
          if (next.ok) onChange(next.value);
        }}
      />
      {unit && <span aria-hidden="true">{unit}</span>}
    </span>
  );
}
