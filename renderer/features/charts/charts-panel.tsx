import { useMemo } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { useAppStore } from '../../store/use-app-store.js';
import { WINDOWS, type WindowSeconds } from '../../store/telemetry-slice.js';
import { buildRows, eventMarks } from './chart-data.js';
import { TimeChart, type Series } from './time-chart.js';

const PALETTE = ['#4e9af1', '#f5a524', '#17c964', '#f31260', '#9353d3', '#06b7db', '#ff7eb6', '#c7a000', '#7ee081', '#ff8a4c'];
const WINDOW_LABEL: Record<WindowSeconds, string> = { 60: '1 min', 300: '5 min', 900: '15 min', 1800: '30 min' };

const requests: Series[] = [
  { name: 'requests/s', color: '#4e9af1', value: (r) => r.rps },
  { name: 'errors/s', color: '#f31260', value: (r) => r.errors },
  { name: 'offered', color: '#f5a524', value: (r) => r.offered, faint: true },
  { name: 'achieved', color: '#17c964', value: (r) => r.achieved },
];
const latency: Series[] = [
  { name: 'p50', color: '#17c964', value: (r) => r.p50 },
  { name: 'p95', color: '#f5a524', value: (r) => r.p95 },
  { name: 'p99', color: '#f31260', value: (r) => r.p99 },
];
const cache: Series[] = [{ name: 'hit rate', color: '#17c964', value: (r) => r.hitRate }];
const queue: Series[] = [
  { name: 'waiting', color: '#f5a524', value: (r) => r.waiting },
  { name: 'active', color: '#4e9af1', value: (r) => r.active },
  { name: 'jobs/s', color: '#17c964', value: (r) => r.jobsPerSec, faint: true },
];
const replicas: Series[] = [
  { name: 'api', color: '#4e9af1', value: (r) => r.api, step: true },
  { name: 'api ready', color: '#17c964', value: (r) => r.apiReady, step: true, faint: true },
  { name: 'workers', color: '#9353d3', value: (r) => r.worker, step: true },
];

/** The charts on one time axis (six, and cpu throttling when a replica has a cpu limit), with the window picker. */
export function ChartsPanel() {
  const { samples, events, windowSeconds, setWindow, pickTraceSecond, picked } = useAppStore(
    useShallow((s) => ({ samples: s.samples, events: s.events, windowSeconds: s.windowSeconds, setWindow: s.setWindow, pickTraceSecond: s.pickTraceSecond, picked: s.traceWindow?.at ?? null })),
  );
  // The axis ends at the newest sample, so every chart moves in step once a second.
  const to = samples.at(-1)?.t ?? Date.now();
  const from = to - windowSeconds * 1000;
  const { rows, instances } = useMemo(() => buildRows(samples, windowSeconds, to), [samples, windowSeconds, to]);
  const marks = useMemo(() => eventMarks(events, windowSeconds, to), [events, windowSeconds, to]);
  const cpu = useMemo<Series[]>(() => instances.map((id, i) => ({ name: id, color: PALETTE[i % PALETTE.length]!, value: (r) => r.cpu[id] ?? null, faint: id.startsWith('worker') })), [instances]);
  // Only replicas held to a cpu limit have throttling; the chart shows when any has.
  const throttled = useMemo<Series[]>(
    () => instances.flatMap((id, i) => (rows.some((r) => r.throttled[id] != null) ? [{ name: id, color: PALETTE[i % PALETTE.length]!, value: (r: (typeof rows)[number]) => r.throttled[id] ?? null, faint: id.startsWith('worker') }] : [])),
    [instances, rows],
  );

  return (
    <section className="panel charts" aria-labelledby="charts-title">
      <header className="panel-header">
        <h2 id="charts-title">Metrics</h2>
        <div className="segmented" role="radiogroup" aria-label="Chart window">
          {WINDOWS.map((w) => (
            <button key={w} role="radio" aria-checked={w === windowSeconds} className={w === windowSeconds ? 'active' : ''} onClick={() => setWindow(w)}>
              {WINDOW_LABEL[w]}
            </button>
          ))}
        </div>
      </header>
      <div className="chart-grid">
        <TimeChart title="Requests" unit="per second · requests/s server-side, offered/achieved client-observed" rows={rows} series={requests} marks={marks} from={from} to={to} />
        <TimeChart title="Latency" unit="ms · server-side · click a point for its traces" rows={rows} series={latency} marks={marks} from={from} to={to} onPick={pickTraceSecond} picked={picked} />
        <TimeChart title="Cache hit rate" unit="%" rows={rows} series={cache} marks={marks} from={from} to={to} yMax={100} />
        <TimeChart title="Queue" unit="jobs" rows={rows} series={queue} marks={marks} from={from} to={to} />
        <TimeChart title="Replicas" unit="count" rows={rows} series={replicas} marks={marks} from={from} to={to} />
        <TimeChart title="CPU per replica" unit="% of a core" rows={rows} series={cpu} marks={marks} from={from} to={to} />
        {throttled.length > 0 && <TimeChart title="CPU throttling per replica" unit="% of 100 ms periods throttled by the cpu limit" rows={rows} series={throttled} marks={marks} from={from} to={to} yMax={100} />}
      </div>
    </section>
  );
}
