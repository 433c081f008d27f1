/** One figure of a column: a small label over a big number. */
export interface Figure {
  label: string;
  value: string;
  /** Coloured: `ok` green, `warn` amber, `bad` red. */
  tone?: 'ok' | 'warn' | 'bad';
  testId?: string;
  /** What it means, on hover. */
  title?: string;
}

/** A column's figures, three to a row. */
export function Figures({ items, label }: { items: Figure[]; label: string }) {
  return (
    <dl className="data-figures" aria-label={label}>
      {items.map((f) => (
        <div key={f.label} className={f.tone ?? ''} title={f.title}>
          <dt>{f.label}</dt>
          <dd data-testid={f.testId}>{f.value}</dd>
        </div>
      ))}
    </dl>
  );
}

/** A column's heading, and the one muted line that stands in for it when its pattern is off. */
export function ColumnHead({ id, title, off }: { id: string; title: string; off: string | null }) {
  return (
    <>
      <h3 className="data-caption" id={id}>
        {title}
      </h3>
      {off && (
        <p className="data-off muted" data-testid={`${id}-off`}>
          {off}
        </p>
      )}
    </>
  );
}
