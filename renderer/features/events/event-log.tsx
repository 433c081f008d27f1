import { useMemo } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { KINDS, visibleEvents } from '../../store/events-slice.js';
import { useAppStore } from '../../store/use-app-store.js';
import { formatTime } from '../../ui/format.js';

/** Every event, newest first, filterable by kind. */
export function EventLog() {
  const { events, hiddenKinds, toggleKind } = useAppStore(
    useShallow((s) => ({ events: s.events, hiddenKinds: s.hiddenKinds, toggleKind: s.toggleKind })),
  );
  const shown = useMemo(() => visibleEvents(events, hiddenKinds).slice(0, 300), [events, hiddenKinds]);
  return (
    <section className="panel events" aria-labelledby="events-title">
      <header className="panel-header">
        <h2 id="events-title">Events</h2>
        <div className="chips" role="group" aria-label="Show event kinds">
          {KINDS.map((kind) => (
            <button
              key={kind}
              className={`chip kind-${kind} ${hiddenKinds.includes(kind) ? 'off' : ''}`}
              aria-pressed={!hiddenKinds.includes(kind)}
              onClick={() => toggleKind(kind)}
            >
              {kind}
            </button>
          ))}
        </div>
      </header>
      <ol className="event-list">
        {shown.length === 0 ? (
          <li className="muted">No events yet: starting, scaling and restarts appear here.</li>
        ) : (
          shown.map((e) => (
            <li key={`${e.t}-${e.message}`} className={`event level-${e.level}`}>
              <time dateTime={new Date(e.t).toISOString()}>{formatTime(e.t)}</time>
              <span className={`chip kind-${e.kind}`}>{e.kind}</span>
              <span className="event-message">{e.message}</span>
            </li>
          ))
        )}
      </ol>
    </section>
  );
}
