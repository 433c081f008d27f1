/**
 * Server-side line charts for the HTML report: inline SVG built as strings, so the report needs
 * no script, no DOM and no network to draw. One `<figure>` per chart, with its caption, an SVG
 * (`role="img"` with a text summary for screen readers) and an HTML legend.
 *
 * The shape of the data (which series, which colours) lives in report-series.ts; this file only
 * knows how to draw numbers against seconds.
 */
import type { EventKind } from '../../contract.js';
import { escapeHtml, formatCompact, formatNumber, formatSeconds } from './report-format.js';

/** The SVG's own coordinate system; the browser scales it to the page (viewBox). */
export const CHART_WIDTH = 1000;
export const CHART_HEIGHT = 220;
const MARGIN = { left: 52, right: 14, top: 10, bottom: 26 };
const PLOT_W = CHART_WIDTH - MARGIN.left - MARGIN.right;
const PLOT_H = CHART_HEIGHT - MARGIN.top - MARGIN.bottom;

/** Marker colours by event kind: chaos red, scaling blue, scenario purple, the rest grey. */
export const MARKER_COLORS: Record<EventKind, string> = {
  chaos: '#dc2626',
  scaling: '#2563eb',
  scenario: '#7c3aed',
  lifecycle: '#9ca3af',
  traffic: '#9ca3af',
  autoscaler: '#9ca3af',
};

/** One line of a chart. */
export interface ChartSeries {
  /** Shown in the legend and the tooltip-free text summary. */
  name: string;
  /** CSS colour of the line. */
  color: string;
  /** One value per entry of {@link LineChartOptions.xs}; null (or not finite) leaves a gap. */
  values: (number | null)[];
  /** Dashed, for a series that shadows another (ready replicas under replicas). @defaultValue false */
  dashed?: boolean;
}

/** A timeline event drawn as a thin vertical line. */
export interface ChartMarker {
  /** Seconds from the window start. */
  at: number;
  kind: EventKind;
  /** The tooltip (an SVG `<title>`). */
  label: string;
}

/** What {@link renderLineChart} draws. */
export interface LineChartOptions {
  /** Unique within the report; used as the figure's id. */
  id: string;
  caption: string;
  /** A remark after the caption, e.g. which series were left out. */
  note?: string;
  /** Seconds from the window start of each sample, ascending. */
  xs: number[];
  /** Length of the window in seconds: the x axis spans 0..durationS. */
  durationS: number;
  series: ChartSeries[];
  markers: ChartMarker[];
  /** A fixed top of the y axis (100 for percentages). @defaultValue a round number above the data */
  yMax?: number;
  /** Only whole-number y ticks (replicas, jobs). @defaultValue false */
  integer?: boolean;
  /** Samples further apart than this many seconds are not joined: the telemetry missed seconds. @defaultValue 2.5 */
  gapS?: number;
}

/** Steps a time axis may tick at, in seconds, so ticks land on whole minutes when they can. */
const TIME_STEPS = [1, 2, 5, 10, 15, 20, 30, 60, 120, 180, 300, 600, 900, 1200, 1800, 3600, 7200, 10800, 21600, 43200, 86400];

/** Ticks of the x axis: 0 and every round step up to `durationS`, at most ~8 of them. */
export function timeTicks(durationS: number): number[] {
  const span = Math.max(1, durationS);
  const step = TIME_STEPS.find((s) => span / s <= 8) ?? Math.ceil(span / 8 / 86400) * 86400;
  const ticks: number[] = [];
  for (let t = 0; t <= span + 1e-9; t += step) ticks.push(t);
  return ticks;
}

/** Round ticks from 0 up to at least `max` (about `count` intervals): 1, 2, 2.5 or 5 × a power of ten. */
export function valueTicks(max: number, count = 4, integer = false): number[] {
  const top = max > 0 && Number.isFinite(max) ? max : 1;
  const raw = top / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / magnitude;
  let step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 2.5 ? 2.5 : norm <= 5 ? 5 : 10) * magnitude;
  if (integer) step = Math.max(1, Math.ceil(step));
  const ticks: number[] = [];
  // Rounding each tick keeps 0.1 + 0.2 from printing as 0.30000000000000004.
  for (let i = 0; i * step < top + step - 1e-9; i++) ticks.push(Number((i * step).toPrecision(12)));
  if (ticks.length < 2) ticks.push(step);
  return ticks;
}

const round1 = (n: number) => Math.round(n * 10) / 10;
const isValue = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * The `d` of one series: a single path split with a new `M` at every null and every missed
 * stretch of seconds, so a gap in the data shows as a gap in the line. A lone point between two
 * gaps becomes a zero-length segment, which the round line cap draws as a dot.
 */
export function seriesPath(
  xs: number[],
  values: (number | null)[],
  sx: (s: number) => number,
  sy: (v: number) => number,
  gapS: number,
): string {
  const parts: string[] = [];
  let run = 0;
  let prevX = Number.NaN;
  const close = () => {
    if (run === 1) parts.push('h0');
    run = 0;
  };
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!;
    const v = values[i];
    if (!isValue(v)) {
      close();
      continue;
    }
    if (run > 0 && x - prevX > gapS) close();
    parts.push(`${run === 0 ? 'M' : 'L'}${round1(sx(x))} ${round1(sy(v))}`);
    run++;
    prevX = x;
  }
  close();
  return parts.join('');
}

/** A sentence a screen reader says for the chart: the span, each series' peak, the events. */
function ariaSummary(o: LineChartOptions, empty: string | null): string {
  const span = `0 to ${formatSeconds(o.durationS)}`;
  if (empty) return `${o.caption}, ${span}: ${empty}`;
  const peaks = o.series.map((s) => {
    const vals = s.values.filter(isValue);
    return vals.length ? `${s.name} peaks at ${formatNumber(Math.max(...vals))}` : `${s.name} has no data`;
  });
  const events = o.markers.length ? `; ${o.markers.length} event${o.markers.length === 1 ? '' : 's'} marked` : '';
  return `${o.caption}, ${span}: ${peaks.join(', ')}${events}`;
}

function legend(series: ChartSeries[]): string {
  const items = series.map(
    (s) =>
      `<li><span class="swatch${s.dashed ? ' dashed' : ''}" style="border-top-color:${escapeHtml(s.color)}"></span>${escapeHtml(s.name)}</li>`,
  );
  return `<ul class="legend">${items.join('')}</ul>`;
}

/** A whole chart: `<figure>` with caption, SVG (axes, grid, event markers, one path per series) and legend. */
export function renderLineChart(o: LineChartOptions): string {
  const durationS = Math.max(1, o.durationS);
  const gapS = o.gapS ?? 2.5;
  const hasSamples = o.xs.length > 0;
  const hasData = o.series.some((s) => s.values.some(isValue));
  const empty = !hasSamples ? 'no samples in this window' : !hasData ? 'no data in this window' : null;

  const dataMax = Math.max(0, ...o.series.flatMap((s) => s.values.filter(isValue)));
  const yTicks = o.yMax !== undefined ? valueTicks(o.yMax, 4, o.integer) : valueTicks(dataMax, 4, o.integer);
  const yTop = yTicks[yTicks.length - 1]!;
  const sx = (s: number) => MARGIN.left + (Math.min(Math.max(s, 0), durationS) / durationS) * PLOT_W;
  // Clamped, so a value past a fixed top (or below zero) stays on the plot instead of spilling over the axes.
  const sy = (v: number) => MARGIN.top + PLOT_H - (Math.min(Math.max(v, 0), yTop) / yTop) * PLOT_H;
  const bottom = MARGIN.top + PLOT_H;

  // An empty chart keeps its frame and time axis (events still show) but no value scale: 0–1 would mean nothing.
  const grid = (empty ? [] : yTicks)
    .map((v) => {
      const y = round1(sy(v));
      return `<line class="grid" stroke="#e9eef5" x1="${MARGIN.left}" x2="${MARGIN.left + PLOT_W}" y1="${y}" y2="${y}"/><text class="tick" fill="#64748b" font-size="12" x="${MARGIN.left - 6}" y="${y + 4}" text-anchor="end">${formatCompact(v)}</text>`;
    })
    .join('');
  const xAxis = timeTicks(o.durationS)
    .map((t) => {
      const x = round1(sx(t));
      return `<line class="axis" stroke="#94a3b8" x1="${x}" x2="${x}" y1="${bottom}" y2="${bottom + 4}"/><text class="tick" fill="#64748b" font-size="12" x="${x}" y="${bottom + 17}" text-anchor="middle">${formatNumber(t, 0)} s</text>`;
    })
    .join('');
  const markers = o.markers
    .map((m) => {
      const x = round1(sx(m.at));
      const color = MARKER_COLORS[m.kind] ?? '#9ca3af';
      // The transparent wide twin is only there so a 1 px line is easy to hover for its tooltip.
      return `<g class="marker marker-${escapeHtml(m.kind)}"><title>${escapeHtml(m.label)}</title><line x1="${x}" x2="${x}" y1="${MARGIN.top}" y2="${bottom}" stroke="${color}" stroke-width="1.2" stroke-dasharray="4 3"/><line x1="${x}" x2="${x}" y1="${MARGIN.top}" y2="${bottom}" stroke="transparent" stroke-width="7"/></g>`;
    })
    .join('');
  const lines = empty
    ? `<text class="empty" fill="#64748b" font-size="15" stroke="#fff" stroke-width="6" paint-order="stroke" x="${MARGIN.left + PLOT_W / 2}" y="${MARGIN.top + PLOT_H / 2}" text-anchor="middle">${escapeHtml(empty)}</text>`
    : o.series
        .map(
          (s) =>
            `<path class="line" data-series="${escapeHtml(s.name)}" d="${seriesPath(o.xs, s.values, sx, sy, gapS)}" fill="none" stroke="${escapeHtml(s.color)}" stroke-width="1.8" stroke-linejoin="round" stroke-linecap="round"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
        )
        .join('');
  const frame = `<rect class="frame" fill="none" stroke="#cbd5e1" x="${MARGIN.left}" y="${MARGIN.top}" width="${PLOT_W}" height="${PLOT_H}"/>`;

  const note = o.note ? ` <span class="note">${escapeHtml(o.note)}</span>` : '';
  const svg =
    `<svg role="img" aria-label="${escapeHtml(ariaSummary(o, empty))}" viewBox="0 0 ${CHART_WIDTH} ${CHART_HEIGHT}" width="${CHART_WIDTH}" height="${CHART_HEIGHT}" preserveAspectRatio="xMidYMid meet">` +
    `${frame}${grid}${xAxis}${markers}${lines}</svg>`;
  return `<figure class="chart" id="chart-${escapeHtml(o.id)}"><figcaption>${escapeHtml(o.caption)}${note}</figcaption>${svg}${legend(o.series)}</figure>`;
}
