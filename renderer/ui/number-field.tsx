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

function valid(
  text: string,
  { min, max, integer, exclusiveMin, optional }: Pick<NumberFieldProps, 'min' | 'max' | 'integer' | 'exclusiveMin' | 'optional'>,
): { ok: true; value: number | null } | { ok: false; reason: string } {
  if (text.trim() === '') return optional ? { ok: true, value: null } : { ok: false, reason: 'a number is needed' };
  const n = Number(text);
  if (!Number.isFinite(n)) return { ok: false, reason: 'not a number' };
  if (integer && !Number.isInteger(n)) return { ok: false, reason: 'a whole number is needed' };
  if (exclusiveMin ? n <= min : n < min) return { ok: false, reason: `must be ${exclusiveMin ? 'more than' : 'at least'} ${min}` };
  if (n > max) return { ok: false, reason: `must be at most ${max}` };
  return { ok: true, value: n };
}

/** What a number box needs to accept a value: its bounds, and whether an empty box means null. */
export type NumberRules = Pick<NumberFieldProps, 'min' | 'max' | 'integer' | 'exclusiveMin' | 'optional'>;

/**
 * The state every number box shares: the text as typed, whether it is a valid value, its problem
 * reported through {@link FieldProblems}, and the text following `value` when it changes elsewhere
 * (unless the box already says the same). `change` passes on valid values only.
 */
export function useNumberText(
  label: string,
  value: number | null,
  rules: NumberRules,
  disabled: boolean | undefined,
  onChange: (value: number | null) => void,
) {
  const id = useId();
  const [text, setText] = useState(value === null ? '' : String(value));
  const check = valid(text, rules);
  const report = useContext(FieldProblems);
  const problem = check.ok || disabled ? null : `${label}: ${check.reason}`;
  useEffect(() => {
    report(id, problem);
    return () => report(id, null);
  }, [problem]);
  useEffect(() => {
    setText((old) => {
      const shown = valid(old, rules);
      return shown.ok && shown.value === value ? old : value === null ? '' : String(value);
    });
  }, [value]);
  const change = (next: string) => {
    setText(next);
    const parsed = valid(next, rules);
    if (parsed.ok) onChange(parsed.value);
  };
  return { id, text, invalid: !check.ok, problem, change };
}

/**
 * A labelled number box that lets a person type freely (an empty box, "1." on the way to "1.5")
 * and passes on only valid values; an invalid one is marked and explained, not sent.
 */
export function NumberField({
  label,
  value,
  onChange,
  min,
  max,
  integer,
  exclusiveMin,
  optional,
  step,
  placeholder,
  disabled,
  className,
  layout = 'stacked',
}: NumberFieldProps) {
  const { id, text, invalid, problem, change } = useNumberText(
    label,
    value,
    { min, max, integer, exclusiveMin, optional },
    disabled,
    onChange,
  );
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
        aria-invalid={invalid}
        title={problem ?? undefined}
        onChange={(e) => change(e.target.value)}
      />
      {layout === 'unit' && labelElement}
    </div>
  );
}
