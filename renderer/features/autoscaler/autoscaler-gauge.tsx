import { memo, useLayoutEffect, useRef, useState } from 'react';
import type { MetricKind } from '../../../electron/contract.js';
import { gaugeShape, METRIC_LABEL, METRIC_UNIT, type GaugeZone } from './autoscaler-data.js';
import { formatValue } from '../../ui/format.js';

export interface AutoscalerGaugeProps {
  metric: MetricKind;
  /** What the last sync compared with the target; null before one had data. */
  value: number | null;
  target: number;
  /** The HPA's tolerance: ratios within 1 ± tolerance change nothing. */
  tolerance: number;
  /** Greyed out: the autoscaler is off (the last reading stays for reference). */
  off?: boolean;
}

const ZONE_TEXT: Record<GaugeZone, string> = {
  none: 'no reading yet',
  below: 'below the band: replicas would be removed',
  within: 'inside the tolerance band: no change',
  above: 'above the band: replicas would be added',
};

/**
 * A horizontal gauge: the metric's axis from 0, the tolerance band around the target shaded, the
 * target line and the value the last sync compared with it. Plain SVG, like the time charts.
 */
export const AutoscalerGauge = memo(function AutoscalerGauge({ metric, value, target, tolerance, off }: AutoscalerGaugeProps) {
  const box = useRef<HTMLDivElement>(null);
  const [size, setSize] = useState({ width: 0, height: 0, font: 12 });
  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    const measure = () =>
      setSize((old) => {
        const font = parseFloat(getComputedStyle(el).fontSize) || 12;
        return old.width === el.clientWidth && old.height === el.clientHeight && old.font === font
          ? old
          : { width: el.clientWidth, height: el.clientHeight, font };
      });
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  const shape = gaugeShape(value, target, tolerance);
  const unit = METRIC_UNIT[metric];
  const { width, height, font } = size;
  /** About how wide a label is (tabular digits and short words). */
  const textWidth = (text: string) => text.length * font * 0.56;
  // Room at both ends for the first and last tick's text.
  const padX = 10;
  const plotW = Math.max(1, width - 2 * padX);
  const x = (v: number) => padX + (v / shape.axisMax) * plotW;
  // Top to bottom: the value's text, the bar, the axis labels.
  const barTop = font + 8;
  const barH = Math.max(8, Math.min(font * 1.1, height - barTop - font - 10));
  const label = `${METRIC_LABEL[metric]}: ${value === null ? 'no reading' : `${formatValue(value)} ${unit}`} against target ${formatValue(target)} ${unit} ±${Math.round(tolerance * 100)} %, ${ZONE_TEXT[shape.zone]}`;
  const valueText = value === null ? 'no reading yet' : `${formatValue(value)} ${unit}${shape.offScale ? ' ▸' : ''}`;
  const targetText = `target ${formatValue(target)} ±${Math.round(tolerance * 100)} %`;
  // Labels stay inside the box, and the target's clear of the axis ends' numbers.
  const clampCenter = (center: number, text: string, margin: number) => {
    const half = textWidth(text) / 2;
    return Math.min(Math.max(center, padX + margin + half), width - padX - margin - half);
  };
  const valueX = shape.marker === null ? width / 2 : clampCenter(x(shape.marker), valueText, 0);
  const targetX = clampCenter(x(target), targetText, textWidth(formatValue(shape.axisMax)) + 8);

  return (
    <div className={`gauge ${off ? 'off' : ''} zone-${shape.zone}`} ref={box} role="img" aria-label={label} data-testid="autoscaler-gauge">
      {width > 0 && (
        <svg width={width} height={height} aria-hidden="true">
          <rect className="gauge-track" x={padX} y={barTop} width={plotW} height={barH} rx={barH / 2} />
          <rect
            className="gauge-band"
            x={x(shape.bandLow)}
            y={barTop}
            width={Math.max(2, x(shape.bandHigh) - x(shape.bandLow))}
            height={barH}
          />
          {shape.marker !== null && (
            <rect
              className="gauge-fill"
              x={padX}
              y={barTop + barH * 0.3}
              width={Math.max(0, x(shape.marker) - padX)}
              height={barH * 0.4}
              rx={barH * 0.2}
            />
          )}
          <line className="gauge-target" x1={x(target)} x2={x(target)} y1={barTop - 4} y2={barTop + barH + 4} />
          {shape.marker !== null && (
            <g className="gauge-marker">
              <line x1={x(shape.marker)} x2={x(shape.marker)} y1={barTop - 2} y2={barTop + barH + 2} />
              <path d={`M${x(shape.marker) - 4} ${barTop - 6} h8 l-4 5 z`} />
            </g>
          )}
          <text className="gauge-value" x={valueX} y={font + 1} textAnchor="middle">
            {valueText}
          </text>
          <text className="gauge-tick" x={padX} y={height - 3} textAnchor="start">
            0
          </text>
          <text className="gauge-tick gauge-target-text" x={targetX} y={height - 3} textAnchor="middle">
            {targetText}
          </text>
          <text className="gauge-tick" x={width - padX} y={height - 3} textAnchor="end">
            {formatValue(shape.axisMax)}
          </text>
        </svg>
      )}
    </div>
  );
});
