import { useEffect } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { useAppStore } from '../../store/use-app-store.js';
import { formatTime } from '../../ui/format.js';
import { SpanWaterfall } from './span-waterfall.js';
import { TraceList } from './trace-list.js';
import { emptyReason } from './trace-view.js';
import { PanelTitle, useCollapsed } from '../../ui/panel-title.js';

/** The list refreshes this often: spans arrive in batches, seconds after their requests. */
const REFRESH_MS = 3000;

/** Slow requests: the traces of a picked second (or the slowest recent ones) and one as a span waterfall. */
export function TracesPanel() {
  const collapsed = useCollapsed('traces');
  const s = useAppStore(
    useShallow((st) => ({
      window: st.traceWindow,
      list: st.traceList,
      listError: st.traceListError,
      openTraceId: st.openTraceId,
      openTrace: st.openTrace,
      openTraceError: st.openTraceError,
      runtime: st.status?.runtime ?? null,
      dockerBridge: st.status?.spec?.docker.network === 'bridge',
      pick: st.pickTraceSecond,
      refresh: st.refreshTraces,
      show: st.showTrace,
    })),
  );
  const { refresh } = s;
  useEffect(() => {
    void refresh();
    const timer = setInterval(() => void refresh(), REFRESH_MS);
    return () => clearInterval(timer);
  }, [refresh, s.window]);

  const traces = s.list?.traces ?? [];
  return (
    <section id="traces-panel" className={`panel traces${collapsed ? ' collapsed' : ''}`} aria-labelledby="traces-title">
      <header className="panel-header">
        <PanelTitle panel="traces" id="traces-title">
          Slow requests
        </PanelTitle>
        <div className="traces-scope">
          {s.window ? (
            <>
              <span>
                Traces started {formatTime(s.window.from)}–{formatTime(s.window.to)}{' '}
                <span className="muted">(picked on the latency chart)</span>
              </span>
              <button className="ghost" onClick={() => s.pick(null)}>
                Show recent
              </button>
            </>
          ) : (
            <span className="muted">Slowest of the last 5 minutes · click the latency chart to pick a second</span>
          )}
        </div>
      </header>
      {s.listError && (
        <p className="bad" role="alert">
          {s.listError.name}: {s.listError.message}
        </p>
      )}
      <div className="traces-body">
        <div className="traces-list-column">
          {traces.length === 0 ? (
            <p className="traces-empty muted">{emptyReason(s.list?.tracing ?? null, s.window !== null, s.runtime, s.dockerBridge)}</p>
          ) : (
            <TraceList traces={traces} openTraceId={s.openTraceId} onOpen={(id) => void s.show(id)} />
          )}
        </div>
        <div className="traces-waterfall-column">
          {s.openTrace ? (
            <SpanWaterfall trace={s.openTrace} onClose={() => void s.show(null)} />
          ) : s.openTraceError ? (
            <p className="bad" role="alert">
              {s.openTraceError.message}
            </p>
          ) : (
            <p className="traces-empty muted">{s.openTraceId ? 'Loading the trace…' : 'Pick a trace to see its spans as a waterfall.'}</p>
          )}
        </div>
      </div>
    </section>
  );
}
