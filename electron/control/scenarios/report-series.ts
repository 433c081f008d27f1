/**
 * The report's charts as data (six, and cpu throttling when a replica had a cpu limit): which figures of a {@link Sample} each one draws, in which
 * colour. Kept apart from the drawing (report-charts.ts) so a chart can be added or recoloured
 * without touching SVG code.
 */
import type { Sample, TimelineEvent } from '../../contract.js';
import type { ChartMarker, ChartSeries, LineChartOptions } from './report-charts.js';
import { formatClock, formatSeconds } from './report-format.js';

/** Most api replicas the CPU chart draws; more lines than this are unreadable. */
export const MAX_CPU_SERIES = 8;

/** Distinct colours for the per-replica CPU lines (Tableau 10, minus the greys). */
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7'];

const COLORS = {
  blue: '#2563eb',
  red: '#dc2626',
  green: '#16a34a',
  amber: '#d97706',
  orange: '#ea580c',
  teal: '#0d9488',
  slate: '#475569',
} as const;

/** `api-2` before `api-10`. */
const naturalOrder = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

type InstanceFigure = (i: Sample['instances'][number]) => number | null | undefined;

/**
 * A per-replica chart's lines: one per api replica seen in the window with a figure, the busiest
 * {@link MAX_CPU_SERIES} when there are more.
 */
function replicaSeries(samples: Sample[], figure: InstanceFigure): { series: ChartSeries[]; note?: string } {
  const ids = new Set<string>();
  for (const s of samples) for (const i of s.instances) if (i.service === 'api' && figure(i) != null) ids.add(i.id);
  const lines = [...ids].map((id) => {
    const values = samples.map((s) => {
      const i = s.instances.find((x) => x.id === id);
      return i ? (figure(i) ?? null) : null;
    });
    const peak = Math.max(-1, ...values.filter((v): v is number => v !== null && Number.isFinite(v)));
    return { id, values, peak };
  });
  // The busiest replicas are the ones worth seeing (a cpu burn, an unbalanced balancer).
  const shown = lines
    .sort((a, b) => b.peak - a.peak)
    .slice(0, MAX_CPU_SERIES)
    .sort((a, b) => naturalOrder(a.id, b.id));
  const series = shown.map((l, i) => ({ name: l.id, color: PALETTE[i % PALETTE.length]!, values: l.values }));
  const note = lines.length > MAX_CPU_SERIES ? `(the ${MAX_CPU_SERIES} busiest of ${lines.length} replicas)` : undefined;
  return note ? { series, note } : { series };
}

/** An event's tooltip: `12.4 s · 04:50:12 · chaos · kill api-2`. */
export function markerLabel(event: TimelineEvent, from: number): string {
  const where = event.instance ? ` (${event.instance})` : '';
  return `${formatSeconds((event.t - from) / 1000)} · ${formatClock(event.t)} · ${event.kind} · ${event.message}${where}`;
}

/**
 * The charts of a window. `samples` and `events` must already be the window's, sorted by time;
 * x values are seconds from `from`.
 */
export function reportCharts(samples: Sample[], events: TimelineEvent[], from: number, to: number): LineChartOptions[] {
  const xs = samples.map((s) => (s.t - from) / 1000);
  const durationS = Math.max(0, (to - from) / 1000);
  const markers: ChartMarker[] = events.map((e) => ({ at: (e.t - from) / 1000, kind: e.kind, label: markerLabel(e, from) }));
  const pick = (f: (s: Sample) => number | null) => samples.map(f);
  const base = { xs, durationS, markers };
  const cpu = replicaSeries(samples, (i) => i.cpu);
  // Only replicas held to a cpu limit have throttling: the chart is there when one was.
  const throttling = replicaSeries(samples, (i) => (i.throttling?.throttledShare == null ? null : i.throttling.throttledShare * 100));
  return [
    {
      ...base,
      id: 'rps',
      caption: 'Requests per second',
      series: [
        { name: 'requests/s', color: COLORS.blue, values: pick((s) => s.traffic.rps) },
        { name: 'errors/s', color: COLORS.red, values: pick((s) => s.traffic.errorsPerSec) },
      ],
    },
    {
      ...base,
      id: 'latency',
      caption: 'Latency (ms)',
      series: [
        { name: 'p50', color: COLORS.green, values: pick((s) => s.traffic.p50) },
        { name: 'p95', color: COLORS.amber, values: pick((s) => s.traffic.p95) },
        { name: 'p99', color: COLORS.red, values: pick((s) => s.traffic.p99) },
      ],
    },
    {
      ...base,
      id: 'cache',
      caption: 'Cache hit rate (%)',
      yMax: 100,
      series: [{ name: 'hit rate', color: COLORS.teal, values: pick((s) => (s.cache.hitRate === null ? null : s.cache.hitRate * 100)) }],
    },
    {
      ...base,
      id: 'replicas',
      caption: 'Replicas',
      integer: true,
      series: [
        { name: 'api', color: COLORS.blue, values: pick((s) => s.replicas.api) },
        { name: 'api ready', color: COLORS.green, values: pick((s) => s.replicas.apiReady), dashed: true },
        { name: 'worker', color: COLORS.amber, values: pick((s) => s.replicas.worker) },
      ],
    },
    {
      ...base,
      id: 'queue',
      caption: 'Queue (jobs)',
      integer: true,
      series: [
        { name: 'waiting', color: COLORS.orange, values: pick((s) => s.queue.waiting) },
        { name: 'active', color: COLORS.slate, values: pick((s) => s.queue.active) },
      ],
    },
    { ...base, id: 'cpu', caption: 'CPU per api replica (% of one core)', ...cpu },
    ...(throttling.series.length > 0
      ? [
          {
            ...base,
            id: 'throttling',
            caption: 'CPU throttling per api replica (% of 100 ms periods held back by its cpu limit)',
            yMax: 100,
            ...throttling,
          },
        ]
      : []),
  ];
}
