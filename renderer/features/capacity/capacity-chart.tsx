import type { CapacityBaseline, CapacityFit, CurvePoint } from '../../../electron/contract.js';
import { niceTicks, overlayLines } from '../../../electron/capacity-law.js';

const W = 560;
const H = 280;
const PAD = { left: 64, right: 40, top: 16, bottom: 44 };

/** The best rate the count being searched has held so far: drawn hollow, it is not its capacity yet. */
export interface ProvisionalPoint {
  replicas: number;
  rps: number;
}

/**
 * Measured capacity against replicas, with the fitted law and ideal linear scaling; the count
 * being searched shows its best passing rate so far as a hollow point.
 */
export function CapacityChart({
  curve,
  fit,
  replicas,
  provisional,
  baseline,
}: {
  curve: readonly CurvePoint[];
  fit: CapacityFit | null;
  replicas: readonly number[];
  provisional: ProvisionalPoint | null;
  baseline?: CapacityBaseline | null;
}) {
  const { measured, ideal, fitted, maxN, maxY, baseline: then } = overlayLines({ curve, fit, replicas }, baseline, provisional?.rps ?? 0);
  const x = (n: number) => PAD.left + (n / maxN) * (W - PAD.left - PAD.right);
  const y = (rps: number) => H - PAD.bottom - (rps / maxY) * (H - PAD.top - PAD.bottom);
  const path = (points: [number, number][]) =>
    points.map(([n, r], i) => `${i === 0 ? 'M' : 'L'}${x(n).toFixed(1)},${y(r).toFixed(1)}`).join(' ');
  const xTicks = niceTicks(maxN, Math.min(maxN, 8)).filter((n) => Number.isInteger(n));
  return (
    <svg
      className="capacity-chart"
      viewBox={`0 0 ${W} ${H}`}
      role="img"
      aria-label="Capacity against api replicas: measured points, the fitted Universal Scalability Law and ideal linear scaling"
      data-testid="capacity-chart"
    >
      {niceTicks(maxY, 4).map((v) => (
        <g key={`y${v}`}>
          <line className="grid" x1={PAD.left} x2={W - PAD.right} y1={y(v)} y2={y(v)} />
          <text className="tick" x={PAD.left - 8} y={y(v) + 5} textAnchor="end">
            {v >= 1000 ? `${v / 1000}k` : v}
          </text>
        </g>
      ))}
      {xTicks.map((n) => (
        <text key={`x${n}`} className="tick" x={x(n)} y={H - PAD.bottom + 20} textAnchor="middle">
          {n}
        </text>
      ))}
      <text className="axis-title" x={(PAD.left + W - PAD.right) / 2} y={H - 6} textAnchor="middle">
        api replicas
      </text>
      <text
        className="axis-title"
        x={14}
        y={(PAD.top + H - PAD.bottom) / 2}
        textAnchor="middle"
        transform={`rotate(-90 14 ${(PAD.top + H - PAD.bottom) / 2})`}
      >
        req/s within the SLO
      </text>
      {ideal.length > 0 && <path className="ideal" d={path(ideal)} data-testid="capacity-ideal" />}
      {then && then.fitted.length > 0 && <path className="baseline-fitted" d={path(then.fitted)} data-testid="capacity-baseline-fitted" />}
      {then?.measured.map((p) => (
        <g key={`b${p.replicas}`} className="baseline-point" data-testid={`capacity-baseline-point-${p.replicas}`}>
          <circle cx={x(p.replicas)} cy={y(p.capacityRps)} r={6} />
          <text x={x(p.replicas)} y={y(p.capacityRps) + 24} textAnchor="middle">
            {Math.round(p.capacityRps)}
          </text>
        </g>
      ))}
      {fitted.length > 0 && <path className="fitted" d={path(fitted)} data-testid="capacity-fitted" />}
      {measured.length === 0 && !provisional && (
        <text className="axis-title" x={(PAD.left + W - PAD.right) / 2} y={(PAD.top + H - PAD.bottom) / 2} textAnchor="middle">
          each replica count’s capacity appears here as it is found
        </text>
      )}
      {provisional && (
        <g className="provisional" data-testid="capacity-provisional">
          <circle cx={x(provisional.replicas)} cy={y(provisional.rps)} r={6} />
          <text x={x(provisional.replicas)} y={y(provisional.rps) - 12} textAnchor="middle">
            ≥ {Math.round(provisional.rps)}
          </text>
        </g>
      )}
      {measured.map((p) => (
        <g key={p.replicas} className="measured" data-testid={`capacity-point-${p.replicas}`}>
          <circle cx={x(p.replicas)} cy={y(p.capacityRps)} r={6} />
          <text x={x(p.replicas)} y={y(p.capacityRps) - 12} textAnchor="middle">
            {Math.round(p.capacityRps)}
          </text>
        </g>
      ))}
    </svg>
  );
}
