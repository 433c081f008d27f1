import { useEffect, useRef, useState, type ReactNode } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { Instance } from '../../../electron/contract.js';
import { call, subscribe } from '../../api/bridge.js';
import { useAppStore } from '../../store/use-app-store.js';
import { formatTime } from '../../ui/format.js';

const MAX_LINES = 500;

/** Shows a log line compactly: pino JSON as "time level msg", anything else as is. */
function present(line: string): string {
  if (!line.startsWith('{')) return line;
  try {
    const entry = JSON.parse(line) as { time?: number; level?: number; msg?: string };
    const level =
      ({ 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' } as Record<number, string>)[entry.level ?? 30] ?? '';
    return `${entry.time ? formatTime(entry.time) : ''} ${level} ${entry.msg ?? line}`;
  } catch {
    return line;
  }
}

/**
 * Details of the selected instance, its live log and kill; `actions` (beside Kill) and `faults`
 * (below) are the chaos feature's, composed in by the app.
 */
export function InstanceDrawer({
  actions,
  faults,
}: {
  actions?: (instance: Instance) => ReactNode;
  faults?: (instance: Instance) => ReactNode;
}) {
  const { selected, select, status, signal } = useAppStore(
    useShallow((s) => ({ selected: s.selected, select: s.select, status: s.status, signal: s.signal })),
  );
  const instance = status?.instances.find((i) => i.id === selected);
  const [lines, setLines] = useState<string[]>([]);
  const [logError, setLogError] = useState<string | null>(null);
  const closeRef = useRef<HTMLButtonElement>(null);
  const logRef = useRef<HTMLPreElement>(null);

  useEffect(() => {
    if (!selected) return;
    closeRef.current?.focus();
    setLines([]);
    setLogError(null);
    let live = true;
    const unsubscribe = subscribe('log', (l) => {
      if (l.instance === selected && live) setLines((prev) => [...prev, l.line].slice(-MAX_LINES));
    });
    call('logs:tail', { instance: selected, lines: 200 })
      .then((tail) => live && setLines((prev) => [...tail.lines, ...prev].slice(-MAX_LINES)))
      .then(() => call('logs:follow', { instance: selected }))
      .catch((err: Error) => live && setLogError(err.message));
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') select(null);
    };
    window.addEventListener('keydown', onKey);
    return () => {
      live = false;
      unsubscribe();
      window.removeEventListener('keydown', onKey);
      void call('logs:unfollow', { instance: selected }).catch(() => undefined);
    };
  }, [selected, select]);

  useEffect(() => {
    const el = logRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [lines]);

  if (!selected) return null;
  return (
    <aside className="drawer" role="dialog" aria-modal="false" aria-labelledby="drawer-title">
      <header className="drawer-header">
        <h2 id="drawer-title">{selected}</h2>
        <button ref={closeRef} className="ghost" onClick={() => select(null)} aria-label="Close details">
          ✕
        </button>
      </header>
      {instance ? (
        <dl className="details">
          <dt>phase</dt>
          <dd className={`phase-text phase-${instance.phase}`} data-testid="drawer-phase">
            {instance.phase}
          </dd>
          <dt>restarts</dt>
          <dd>{instance.restarts}</dd>
          <dt>pid</dt>
          <dd>{instance.pid ?? '–'}</dd>
          <dt>port</dt>
          <dd>{instance.port ?? '–'}</dd>
          <dt>started</dt>
          <dd>{instance.startedAt ? formatTime(instance.startedAt) : '–'}</dd>
        </dl>
      ) : (
        <p className="muted">This instance is gone (scaled away or stopped).</p>
      )}
      {instance && (
        <div className="drawer-actions">
          <button className="danger" onClick={() => void signal(instance.id, 'kill')} title="SIGKILL: the supervisor restarts it">
            Kill
          </button>
          {actions?.(instance)}
        </div>
      )}
      {instance && faults?.(instance)}
      <h3>Log</h3>
      {logError ? <p className="warn">{logError}</p> : null}
      <pre className="log" ref={logRef} tabIndex={0} aria-label={`${selected} log`}>
        {lines.length === 0 ? 'no output yet' : lines.map(present).join('\n')}
      </pre>
    </aside>
  );
}
