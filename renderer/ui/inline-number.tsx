import { useNumberText } from './number-field.js';

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

/**
 * A small number box inside a sentence ("Kill cache for [10] s"), labelled for assistive tech by
 * `label`. Like the traffic form's NumberField it passes on valid values only and reports its
 * problem through {@link FieldProblems}, so the button beside it can refuse to send.
 */
export function InlineNumber({ label, value, onChange, min, max, integer, before, unit, disabled }: InlineNumberProps) {
  const { id, text, invalid, problem, change } = useNumberText(
    label,
    value,
    { min, max, integer },
    disabled,
    (v) => v !== null && onChange(v),
  );
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
        aria-invalid={invalid}
        title={problem ?? undefined}
        onChange={(e) => change(e.target.value)}
      />
      {unit && <span aria-hidden="true">{unit}</span>}
    </span>
  );
}
