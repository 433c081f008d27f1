import { memo, useLayoutEffect, useMemo, useRef, useState, type MouseEvent, type ReactElement } from 'react';
import type { TimelineEvent } from '../../../electron/contract.js';
import { markLabel, markTone, type ChartRow } from './chart-data.js';
import { formatTime } from '../../ui/format.js';
import { placeLabels, quarterMax, wholeMax } from './chart-scale.js';
import { useAppStore } from '../../store/use-app-store.js';

/** A chart row: any shape with a time. */
export interface TimedRow {
  t: number;
}

/** One line of a chart. */
export interface Series<R extends TimedRow = ChartRow> {
  name: string;
  color: string;
  value: (row: R) => number | null;
  /** Steps for counts (replicas), straight segments for rates. */
  step?: boolean;
  /** Drawn fainter: a secondary line (ready replicas, workers' cpu). */
  faint?: boolean;
  /** Drawn against the right axis (a second unit, see `unitRight`); dashed. */
  right?: boolean;
  /** Dashed, so a line it overlays shows through (a part of another series). */
  dashed?: boolean;
}

export interface TimeChartProps<R extends TimedRow = ChartRow> {
  title: string;
  unit: string;
  /** The right axis's unit, for series marked `right`; without it there is no right axis. */
  unitRight?: string;
  rows: R[];
  series: Series<R>[];
  marks: TimelineEvent[];
  from: number;
  to: number;
  /** Fixed y range (percent charts); otherwise from the data. */
  yMax?: number;
  /** Clicking a point picks its time (the latency chart picks a second to list its traces). */
  onPick?: (t: number) => void;
  /** The picked time, marked with a line. */
  picked?: number | null;
  /** Whole-number quantities (replicas): the y axis's ticks are whole too. */
  integer?: boolean;
}

const MARK_COLORS: Record<TimelineEvent['kind'] | 'recovered', string> = {
  recovered: 'var(--ok)',
  lifecycle: 'var(--mark-lifecycle)',
  scaling: 'var(--mark-scaling)',
  chaos: 'var(--mark-chaos)',
  traffic: 'var(--mark-traffic)',
  autoscaler: 'var(--mark-autoscaler)',
  scenario: 'var(--mark-scenario)',
};
const PAD = { left: 46, right: 10, top: 8, bottom: 22 };
/** About how wide a tick label's character is, in ems of the chart font (tabular digits). */
const CHAR_EM = 0.62;
/** The time axis's labels (`12:34:56`), and the room each wants beside the next. */
const TIME_LABEL_CHARS = 8;
/** Legend entries shown before "+N more": one line, the same height on every chart. */
const LEGEND_MAX = 7;
/**
 * How many time labels fit a plot this wide: 4 where they fit, never fewer than 2. The first and
 * last are anchored at the plot's ends, so the pair next to them needs one and a half labels apart.
 */
export function timeTickCount(plotWidth: number, font: number): number {
  const labelWidth = TIME_LABEL_CHARS * CHAR_EM * font;
  return Math.max(2, Math.min(4, Math.floor(plotWidth / (1.5 * labelWidth + 10)) + 1));
}

/** A tick label: 3 significant digits at most (0.25, 3.75, 62.5), thousands as k. */
export function label(value: number): string {
  if (value >= 10_000) return `${(value / 1000).toFixed(0)}k`;
  if (value >= 1000) return `${(value / 1000).toFixed(1)}k`;
  return String(Number(value.toPrecision(3)));
}

/** An SVG path through the points, broken where a value is missing. */
function linePath<R extends TimedRow>(rows: R[], s: Series<R>, x: (t: number) => number, y: (v: number) => number): string {
  let d = '';
  let pen = false;
  for (const row of rows) {
    const v = s.value(row);
    if (v === null || !Number.isFinite(v)) {
      pen = false;
      continue;
    }
    const px = x(row.t).toFixed(1);
    const py = y(v);
    if (!pen) d += `M${px} ${py.toFixed(1)}`;
    else if (s.step) d += `H${px}V${py.toFixed(1)}`;
    else d += `L${px} ${py.toFixed(1)}`;
    pen = true;
  }
  return d;
}

/**
 * A line chart on the dashboard's shared time axis (the same `from`–`to` and the same four ticks
 * on every chart) with the timeline's events as vertical marks. Plain SVG paths, one per series:
 * a whole update of six charts costs a few milliseconds (bench/results/renderer.md), where a
 * general charting library spent 100–600 ms on the same data.
 */
export const TimeChart = memo(function TimeChart<R extends TimedRow>({
  title,
  unit,
  unitRight,
  rows,
  series,
  marks,
  from,
  to,
  yMax,
  onPick,
  picked,
  integer,
}: TimeChartProps<R>) {
  const box = useRef<HTMLDivElement>(null);
  const [size, setSize] = useState({ width: 0, height: 0, font: 12 });
  const [hover, setHover] = useState<number | null>(null);
  // One crosshair across every chart: the time under the pointer on any of them.
  const sharedT = useAppStore((s) => s.hoverT);
  const setSharedT = useAppStore((s) => s.setHoverT);

  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    const measure = () =>
      setSize((old) => {
        // Projector mode changes the chart font with the chart height, so a resize is the moment to read it.
        const font = parseFloat(getComputedStyle(el).getPropertyValue('--chart-font')) || 12;
        return old.width === el.clientWidth && old.height === el.clientHeight && old.font === font
          ? old
          : { width: el.clientWidth, height: el.clientHeight, font };
      });
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  const { width, height, font } = size;
  const [top, topRight] = useMemo(() => {
    let max = 0;
    let maxRight = 0;
    for (const row of rows) {
      for (const s of series) {
        const v = s.value(row) ?? 0;
        if (s.right && unitRight !== undefined) maxRight = Math.max(maxRight, v);
        else max = Math.max(max, v);
      }
    }
    return [yMax ?? (integer ? wholeMax(max) : quarterMax(max)), quarterMax(maxRight)];
  }, [rows, series, yMax, unitRight, integer]);
  const fractions = [0, 0.25, 0.5, 0.75, 1];
  // The right axis takes the room its longest label needs.
  const rightLabels = unitRight === undefined ? [] : fractions.map((f) => label(topRight * f));
  const padRight = unitRight === undefined ? PAD.right : Math.ceil(Math.max(...rightLabels.map((l) => l.length)) * CHAR_EM * font) + 14;
  const plotW = Math.max(1, width - PAD.left - padRight);
  const plotH = Math.max(1, height - PAD.top - PAD.bottom);
  const x = (t: number) => PAD.left + ((t - from) / Math.max(1, to - from)) * plotW;
  const yOf = (scale: number) => (v: number) => PAD.top + plotH - (Math.min(v, scale) / scale) * plotH;
  const y = yOf(top);
  const paths = useMemo(
    () => (width === 0 ? [] : series.map((s) => ({ s, d: linePath(rows, s, x, s.right && unitRight !== undefined ? yOf(topRight) : y) }))),
    [rows, series, width, height, top, topRight, from, to, unitRight, padRight],
  );
  const tickCount = timeTickCount(plotW, font);
  const xTicks = Array.from({ length: tickCount }, (_, i) => from + ((to - from) * i) / (tickCount - 1));
  const yTicks = fractions.map((f) => top * f);
  const hovered = hover === null ? undefined : rows[hover];
  // Marks carry a short label at the top of the plot ("kill api-2", "HPA api 2→4") where it fits.
  const labelled = useMemo(() => {
    const items = marks.map((m) => ({ m, text: markLabel(m), x: PAD.left + ((m.t - from) / Math.max(1, to - from)) * plotW }));
    const rowsOf = placeLabels(items.map((i) => ({ x: i.x, width: i.text.length * CHAR_EM * font * 0.95 })));
    return items.map((item, i) => ({ ...item, row: rowsOf[i]!, tone: markTone(item.m) }));
  }, [marks, from, to, plotW, font]);

  /** The row nearest the pointer. */
  const nearest = (event: MouseEvent<SVGSVGElement>): number => {
    const rect = event.currentTarget.getBoundingClientRect();
    const t = from + ((event.clientX - rect.left - PAD.left) / plotW) * (to - from);
    let best = 0;
    for (let i = 1; i < rows.length; i += 1) if (Math.abs(rows[i]!.t - t) < Math.abs(rows[best]!.t - t)) best = i;
    return best;
  };
  const onMove = (event: MouseEvent<SVGSVGElement>) => {
    if (rows.length === 0) return;
    const i = nearest(event);
    setHover(i);
    setSharedT(rows[i]!.t);
  };
  // From the click itself, not the hover state: a click may come before the hover has rendered.
  const onClick = (event: MouseEvent<SVGSVGElement>) => {
    if (onPick && rows.length > 0) onPick(rows[nearest(event)]!.t);
  };

  const latest = rows.at(-1);
  const summary = latest ? series.map((s) => `${s.name} ${s.value(latest)?.toFixed(1) ?? 'none'}`).join(', ') : 'no data';
  return (
    <figure className="chart" aria-label={`${title} chart`}>
      <figcaption>
        {title} <span className="unit">{unitRight === undefined ? unit : `${unit} · right: ${unitRight}`}</span>
      </figcaption>
      <div className="chart-body" ref={box}>
        {rows.length === 0 ? (
          <div className="chart-empty">No samples yet: they arrive once a second while the stack runs.</div>
        ) : (
          <svg
            width={width}
            height={height}
            role="img"
            aria-label={`${title}: ${summary}`}
            className={onPick ? 'pickable' : undefined}
            onMouseMove={onMove}
            onMouseLeave={() => {
              setHover(null);
              setSharedT(null);
            }}
            onClick={onPick ? onClick : undefined}
          >
            {yTicks.map((v) => (
              <g key={v}>
                <line x1={PAD.left} x2={PAD.left + plotW} y1={y(v)} y2={y(v)} className="grid-line" />
                <text x={PAD.left - 6} y={y(v)} className="tick" textAnchor="end" dominantBaseline="middle">
                  {label(v)}
                </text>
              </g>
            ))}
            {unitRight !== undefined &&
              fractions.map((f, i) => (
                <text
                  key={`r${f}`}
                  x={PAD.left + plotW + 6}
                  y={y(top * f)}
                  className="tick right"
                  textAnchor="start"
                  dominantBaseline="middle"
                >
                  {rightLabels[i]}
                </text>
              ))}
            {xTicks.map((t, i) => (
              <text
                key={i}
                x={x(t)}
                y={PAD.top + plotH + 15}
                className="tick"
                textAnchor={i === 0 ? 'start' : i === tickCount - 1 ? 'end' : 'middle'}
              >
                {formatTime(t)}
              </text>
            ))}
            {labelled.map(({ m, tone }) => (
              <line
                key={`${m.t}-${m.message}`}
                x1={x(m.t)}
                x2={x(m.t)}
                y1={PAD.top}
                y2={PAD.top + plotH}
                stroke={MARK_COLORS[tone]}
                strokeDasharray="4 3"
                className="mark"
              >
                <title>{`${formatTime(m.t)} ${m.message}`}</title>
              </line>
            ))}
            {paths.map(({ s, d }) => (
              <path
                key={s.name}
                data-series={s.name}
                d={d}
                fill="none"
                stroke={s.color}
                className="series"
                strokeOpacity={s.faint ? 0.55 : 1}
                strokeDasharray={s.dashed || (s.right && unitRight !== undefined) ? '5 3' : undefined}
                strokeLinejoin="round"
              />
            ))}
            {labelled.map(({ m, text, row, tone, x: mx }) =>
              row === null ? null : (
                <text
                  key={`l${m.t}-${m.message}`}
                  x={mx - 3}
                  y={PAD.top + font * (row + 0.85)}
                  textAnchor="end"
                  className="mark-label"
                  fill={MARK_COLORS[tone]}
                  data-mark={text}
                >
                  {text}
                </text>
              ),
            )}
            {picked != null && picked >= from && picked <= to && (
              <line x1={x(picked)} x2={x(picked)} y1={PAD.top} y2={PAD.top + plotH} className="picked-line" />
            )}
            {sharedT !== null && sharedT >= from && sharedT <= to && (
              <line x1={x(sharedT)} x2={x(sharedT)} y1={PAD.top} y2={PAD.top + plotH} className="crosshair" data-testid="crosshair" />
            )}
          </svg>
        )}
        {hovered && (
          <div className="chart-tooltip" style={{ left: Math.min(x(hovered.t) + 10, width - 170) }}>
            <div className="muted">{formatTime(hovered.t)}</div>
            {series.map((s) => (
              <div key={s.name}>
                <span className="swatch" style={{ background: s.color }} /> {s.name} <b>{s.value(hovered)?.toFixed(1) ?? '–'}</b>
              </div>
            ))}
          </div>
        )}
      </div>
      <ul className="legend">
        {(series.length > LEGEND_MAX ? series.slice(0, LEGEND_MAX - 1) : series).map((s) => (
          <li key={s.name}>
            <span
              className={`swatch ${s.dashed || (s.right && unitRight !== undefined) ? 'dashed' : ''}`}
              style={{ background: s.color, opacity: s.faint ? 0.55 : 1 }}
            />
            {s.name}
          </li>
        ))}
        {series.length > LEGEND_MAX && <li className="muted">+{series.length - LEGEND_MAX + 1} more (hover for values)</li>}
      </ul>
    </figure>
  );
}) as <R extends TimedRow = ChartRow>(props: TimeChartProps<R>) => ReactElement;
