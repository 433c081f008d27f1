import { useMemo } from 'react';
import type { TraceDetail } from '../../../electron/contract.js';
import { formatMs, serviceColors, traceExtent, traceRowView, waterfallRows, waterfallTicks } from './trace-view.js';

export interface SpanWaterfallProps {
  trace: TraceDetail;
  onClose: () => void;
}

/** Indentation per level of the span tree, px. */
const INDENT_PX = 12;

/** One trace as a waterfall: a row per span, indented by depth, its bar offset by start and sized by duration. */
export function SpanWaterfall({ trace, onClose }: SpanWaterfallProps) {
  const rows = useMemo(() => waterfallRows(trace.spans), [trace]);
  const total = traceExtent(trace.spans);
  const colors = serviceColors(trace.spans);
  const head = traceRowView(trace.summary);
  return (
    <section className="waterfall" aria-label={`Trace ${head.what}`}>
      <header className="waterfall-header">
        <div>
          <strong>{head.what}</strong> <span className={head.error ? 'bad' : 'muted'}>{head.status}</span> <span>{head.duration}</span>{' '}
          <span className="muted">
            · {head.spans} · {trace.summary.traceId.slice(0, 12)}…
          </span>
        </div>
        <ul className="waterfall-legend">
          {[...colors].map(([service, color]) => (
            <li key={service}>
              <span className="swatch" style={{ background: color }} />
              {service}
            </li>
          ))}
        </ul>
        <button className="ghost" onClick={onClose} aria-label="Close the trace">
          ✕
        </button>
      </header>
      <div className="waterfall-grid" role="table" aria-label="Spans">
        <div className="waterfall-row axis" role="row">
          <span className="span-label muted" role="columnheader">
            span
          </span>
          <span className="span-track" role="columnheader">
            {waterfallTicks(total).map((t, i, all) => (
              <span
                key={t.pct}
                className={`tick-label${i === 0 ? ' first' : i === all.length - 1 ? ' last' : ''}`}
                style={{ left: `${t.pct}%` }}
              >
                {t.label}
              </span>
            ))}
          </span>
        </div>
        {rows.map((r) => (
          <div
            key={r.span.spanId}
            className={`waterfall-row${r.span.status.code === 'error' ? ' failed' : ''}`}
            role="row"
            title={r.title}
            data-span={r.span.name}
          >
            <span className="span-label" role="cell" style={{ paddingLeft: r.depth * INDENT_PX }}>
              <span className="swatch" style={{ background: r.color }} />
              <span className="span-name">{r.span.name}</span>
            </span>
            <span className="span-track" role="cell">
              <span className="span-bar" style={{ left: `${r.leftPct}%`, width: `${r.widthPct}%`, background: r.color }} />
              <span
                className={`span-time${r.leftPct + r.widthPct > 82 ? ' inside' : ''}`}
                style={r.leftPct + r.widthPct > 82 ? { right: `${100 - r.leftPct - r.widthPct}%` } : { left: `${r.leftPct + r.widthPct}%` }}
              >
                {formatMs(r.span.durationMs)}
              </span>
            </span>
          </div>
        ))}
      </div>
    </section>
  );
}
