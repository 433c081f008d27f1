import { useShallow } from 'zustand/react/shallow';
import { useAppStore } from '../../store/use-app-store.js';
import { WINDOWS, type WindowSeconds } from '../../store/telemetry-slice.js';
import { latencySeries, replicasSeries, requestsSeries } from './chart-series.js';
import { TimeChart } from '../../ui/chart/time-chart.js';
import { useChartFrame } from './use-chart-frame.js';

const WINDOW_LABEL: Record<WindowSeconds, string> = { 60: '1 min', 300: '5 min', 900: '15 min', 1800: '30 min' };

/** The window picker every chart follows. */
export function WindowPicker() {
  const { windowSeconds, setWindow } = useAppStore(useShallow((s) => ({ windowSeconds: s.windowSeconds, setWindow: s.setWindow })));
  return (
    <div className="segmented" role="radiogroup" aria-label="Chart window">
      {WINDOWS.map((w) => (
        <button
          key={w}
          role="radio"
          aria-checked={w === windowSeconds}
          className={w === windowSeconds ? 'active' : ''}
          onClick={() => setWindow(w)}
        >
          {WINDOW_LABEL[w]}
        </button>
      ))}
    </div>
  );
}

/** Requests, latency and replicas side by side under the stat row: the story of a demo on one screen. */
export function KeyCharts() {
  const { rows, marks, from, to } = useChartFrame();
  const { pickTraceSecond, picked } = useAppStore(
    useShallow((s) => ({ pickTraceSecond: s.pickTraceSecond, picked: s.traceWindow?.at ?? null })),
  );
  return (
    <section className="panel key-charts" aria-label="Key charts">
      <div className="key-grid">
        <TimeChart
          title="Requests"
          unit="/s · served server-side, offered/achieved client"
          rows={rows}
          series={requestsSeries}
          marks={marks}
          from={from}
          to={to}
        />
        <TimeChart
          title="Latency"
          unit="ms · server-side · click for traces"
          rows={rows}
          series={latencySeries}
          marks={marks}
          from={from}
          to={to}
          onPick={pickTraceSecond}
          picked={picked}
        />
        <TimeChart title="Replicas" unit="count" rows={rows} series={replicasSeries} marks={marks} from={from} to={to} integer />
      </div>
      <div className="key-window">
        <WindowPicker />
      </div>
    </section>
  );
}
