import { memo } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { TimelineEvent } from '../../../electron/contract.js';
import { formatTime, type ChartRow } from './chart-data.js';

/** One line of a chart. */
export interface Series {
  name: string;
  color: string;
  value: (row: ChartRow) => number | null;
  /** Steps for counts (replicas), straight lines for rates. */
  step?: boolean;
  dashed?: boolean;
}

export interface TimeChartProps {
  title: string;
  unit: string;
  rows: ChartRow[];
  series: Series[];
  marks: TimelineEvent[];
  from: number;
  to: number;
  /** Fixed y range (percent charts); otherwise from the data. */
  yMax?: number;
}

const MARK_COLORS: Record<TimelineEvent['kind'], string> = {
  lifecycle: 'var(--mark-lifecycle)',
  scaling: 'var(--mark-scaling)',
  chaos: 'var(--mark-chaos)',
  traffic: 'var(--mark-traffic)',
  autoscaler: 'var(--mark-autoscaler)',
};

/**
 * A line chart on the dashboard's shared time axis (the same `from`–`to` for every chart) with
 * the timeline's events as vertical marks. Animation is off: a sample arrives every second, and
 * an animated redraw would never settle.
 */
export const TimeChart = memo(function TimeChart({ title, unit, rows, series, marks, from, to, yMax }: TimeChartProps) {
  // Five evenly spaced ticks, the same on every chart: the axis reads as one clock.
  const ticks = [0, 1, 2, 3, 4].map((i) => Math.round(from + ((to - from) * i) / 4));
  return (
    <figure className="chart" aria-label={`${title} chart`}>
      <figcaption>
        {title} <span className="unit">{unit}</span>
      </figcaption>
      <div className="chart-body">
        {rows.length === 0 ? (
          <div className="chart-empty">No samples yet: they arrive once a second while the stack runs.</div>
        ) : (
          <ResponsiveContainer width="100%" height="100%" debounce={50}>
            <LineChart data={rows} margin={{ top: 6, right: 12, bottom: 0, left: 0 }} syncId="scalelab" syncMethod="value">
              <CartesianGrid stroke="var(--grid)" vertical={false} />
              <XAxis dataKey="t" type="number" scale="time" domain={[from, to]} ticks={ticks} tickFormatter={formatTime} stroke="var(--axis)" tick={{ fontSize: 'var(--chart-font)' }} interval="preserveStartEnd" allowDataOverflow />
              <YAxis stroke="var(--axis)" width={48} tick={{ fontSize: 'var(--chart-font)' }} domain={yMax === undefined ? [0, 'auto'] : [0, yMax]} allowDecimals={false} />
              <Tooltip labelFormatter={(t) => formatTime(Number(t))} contentStyle={{ background: 'var(--panel)', border: '1px solid var(--border)' }} isAnimationActive={false} />
              <Legend wrapperStyle={{ fontSize: 'var(--chart-font)' }} />
              {marks.map((m) => (
                <ReferenceLine key={`${m.t}-${m.message}`} x={m.t} stroke={MARK_COLORS[m.kind]} strokeDasharray="3 3" ifOverflow="hidden" />
              ))}
              {series.map((s) => (
                <Line
                  key={s.name}
                  name={s.name}
                  dataKey={s.value}
                  stroke={s.color}
                  strokeWidth={2}
                  strokeDasharray={s.dashed ? '5 4' : undefined}
                  dot={false}
                  type={s.step ? 'stepAfter' : 'monotone'}
                  isAnimationActive={false}
                  connectNulls
                />
              ))}
            </LineChart>
          </ResponsiveContainer>
        )}
      </div>
    </figure>
  );
});
