import type { TraceSummary } from '../../../electron/contract.js';
import { traceRowView } from './trace-view.js';

export interface TraceListProps {
  traces: TraceSummary[];
  openTraceId: string | null;
  onOpen: (traceId: string) => void;
}

/** The traces of the window, slowest first: duration, route, status, spans; a failed one marked. */
export function TraceList({ traces, openTraceId, onOpen }: TraceListProps) {
  return (
    <ul className="trace-list" aria-label="Traces, slowest first">
      {traces.map((t) => {
        const v = traceRowView(t);
        return (
          <li key={v.traceId}>
            <button
              className={`trace-row${v.error ? ' failed' : ''}${v.traceId === openTraceId ? ' active' : ''}`}
              aria-pressed={v.traceId === openTraceId}
              aria-label={`${v.what} ${v.status} ${v.duration}${v.error ? ' failed' : ''}`}
              onClick={() => onOpen(v.traceId)}
            >
              <span className="trace-duration">{v.duration}</span>
              <span className="trace-what" title={`${v.what} · trace ${v.traceId}`}>
                {v.what}
              </span>
              <span className={`trace-status${v.error ? ' bad' : ''}`}>
                {v.error && <span aria-hidden="true">⚠ </span>}
                {v.status}
              </span>
              <span className="trace-spans muted">{v.spans}</span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}
