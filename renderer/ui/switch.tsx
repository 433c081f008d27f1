/** An on/off switch (a button with role="switch"): the autoscalers', the Chaos Monkey's, the safety guard's. */
export function Switch({
  on,
  label,
  disabled,
  busy,
  title,
  className,
  onToggle,
}: {
  on: boolean;
  label: string;
  disabled: boolean;
  busy?: boolean;
  title?: string;
  className?: string;
  onToggle: () => void;
}) {
  return (
    <button
      role="switch"
      className={`switch ${className ?? ''} ${on ? 'checked' : ''}`}
      aria-checked={on}
      aria-label={label}
      aria-busy={busy}
      disabled={disabled}
      title={title}
      onClick={onToggle}
    >
      <span className="switch-track" aria-hidden="true">
        <span className="switch-thumb" />
      </span>
      <span aria-hidden="true">{on ? 'on' : 'off'}</span>
    </button>
  );
}
