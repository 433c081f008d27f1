import { createContext, useCallback, useContext, useEffect, useId, useState } from 'react';

/** Where fields report that their text is not a valid value, so Start can say which one. */
export const FieldProblems = createContext<(id: string, problem: string | null) => void>(() => undefined);

/**
 * The problems the NumberFields of one form report through {@link FieldProblems}: `report` goes
 * in the provider, `first` is the one to show (undefined when every field is valid).
 */
export function useFieldProblems(): { report: (id: string, problem: string | null) => void; first: string | undefined } {
  const [problems, setProblems] = useState<Record<string, string>>({});
  const report = useCallback((id: string, problem: string | null) => {
    setProblems((old) => {
      if ((old[id] ?? null) === problem) return old;
      const next = { ...old };
      if (problem === null) delete next[id];
      else next[id] = problem;
      return next;
    });
  }, []);
  return { report, first: Object.values(problems)[0] };
}

export interface NumberFieldProps {
  label: string;
  /** null shows an empty box (only when `optional`). */
  value: number | null;
  /** Called with valid values only; while the text is not one, the box is marked invalid. */
  onChange: (value: number | null) => void;
  min: number;
  max: number;
  /** Whole numbers only. */
  integer?: boolean;
  /** Greater than `min`, not equal to it (durations). */
  exclusiveMin?: boolean;
  /** An empty box means null ("until stopped"). */
  optional?: boolean;
  step?: number;
  placeholder?: string;
  disabled?: boolean;
  className?: string;
  /** Label above the box (default), before it on one line, or after it like a unit ("req/s"). */
  layout?: 'stacked' | 'inline' | 'unit';
}

function valid(text: string, { min, max, integer, exclusiveMin, optional }: Pick<NumberFieldProps, 'min' | 'max' | 'integer' | 'exclusiveMin' | 'optional'>): { ok: true; value: number | null } | { ok: false; reason: string } {
  if (text.trim() === '') return optional ? { ok: true, value: null } : { ok: false, reason: 'a number is needed' };
  const n = Number(text);
  if (!Number.isFinite(n)) return { ok: false, reason: 'not a number' };
  if (integer && !Number.isInteger(n)) return { ok: false, reason: 'a whole number is needed' };
  if (exclusiveMin ? n <= min : n < min) return { ok: false, reason: `must be ${exclusiveMin ? 'more than' : 'at least'} ${min}` };
  if (n > max) return { ok: false, reason: `must be at most ${max}` };
  return { ok: true, value: n };
}

/**
 * A labelled number box that lets a person type freely (an empty box, "1." on the way to "1.5")
 * and passes on only valid values; an invalid one is marked and explained, not sent.
 */
export function NumberField({ label, value, onChange, min, max, integer, exclusiveMin, optional, step, placeholder, disabled, className, layout = 'stacked' }: NumberFieldProps) {
  const id = useId();
  const [text, setText] = useState(value === null ? '' : String(value));
  const check = valid(text, { min, max, integer, exclusiveMin, optional });
  const report = useContext(FieldProblems);
  const problem = check.ok || disabled ? null : `${label}: ${check.reason}`;
  useEffect(() => {
    report(id, problem);
    return () => report(id, null);
  }, [problem]);
  // Follow changes made elsewhere (the rate slider), unless the box already says the same.
  useEffect(() => {
    setText((old) => {
      const shown = valid(old, { min, max, integer, exclusiveMin, optional });
      return shown.ok && shown.value === value ? old : value === null ? '' : String(value);
    });
  }, [value]);
  const labelElement = <label htmlFor={id}>{label}</label>;
  return (
    <div className={`number-field ${layout} ${className ?? ''}`}>
      {layout !== 'unit' && labelElement}
      <input
        id={id}
        type="number"
        inputMode="decimal"
        value={text}
        min={min}
        max={max}
        step={step ?? (integer ? 1 : 'any')}
        placeholder={placeholder}
        disabled={disabled}
        aria-invalid={!check.ok}
        title={problem ?? undefined}
        onChange={(e) => {
          setText(e.target.value);
          const next = valid(e.target.value, { min, max, integer, exclusiveMin, optional });
          if (next.ok) onChange(next.value);
        }}
      />
      {layout === 'unit' && labelElement}
    </div>
  );
}
