/**
 * Gunther's Universal Scalability Law as pure functions: the control plane fits it
 * (control/capacity/usl.ts); the dashboard's panel and the HTML report draw the same lines from
 * {@link curveLines}, so the two charts cannot disagree.
 */
import type { CapacityFit, CurvePoint } from './capacity-spec.js';

/** One replica count against a baseline: both capacities and the change, in percent of the baseline. */
export interface CapacityDelta {
  replicas: number;
  capacityRps: number | null;
  baselineRps: number | null;
  deltaPercent: number | null;
}

/**
 * Each replica count measured now or in the baseline, with its change: the CLI's column, the
 * panel's and the report's table read this, so "−18 % at 4 replicas" is the same everywhere.
 */
export function capacityDeltas(curve: readonly CurvePoint[], baseline: readonly CurvePoint[]): CapacityDelta[] {
  const counts = [...new Set([...curve.map((p) => p.replicas), ...baseline.map((p) => p.replicas)])].sort((a, b) => a - b);
  return counts.map((replicas) => {
    const now = curve.find((p) => p.replicas === replicas)?.capacityRps ?? null;
    const then = baseline.find((p) => p.replicas === replicas)?.capacityRps ?? null;
    const deltaPercent = now !== null && then !== null && then > 0 ? Math.round(((now - then) * 1000) / then) / 10 : null;
    return { replicas, capacityRps: now, baselineRps: then, deltaPercent };
  });
}

/** A delta in words: "+12.5 %", "−18 %", "–" when either side is missing. */
export function deltaText(d: Pick<CapacityDelta, 'deltaPercent'>): string {
  if (d.deltaPercent === null) return '–';
  return `${d.deltaPercent > 0 ? '+' : d.deltaPercent < 0 ? '−' : '±'}${Math.abs(d.deltaPercent)} %`;
}

/** The law's value at n: C(N) = λN / (1 + σ(N−1) + κN(N−1)). */
export function uslCapacity(n: number, lambda: number, sigma: number, kappa: number): number {
  return (lambda * n) / (1 + sigma * (n - 1) + kappa * n * (n - 1));
}

/** Round tick values (1, 2, 5 × 10^k apart), about `count` of them from 0 up to `max`. */
export function niceTicks(max: number, count: number): number[] {
  const raw = max / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw;
  return Array.from({ length: Math.floor(max / step) + 1 }, (_, i) => i * step);
}

/**
 * What a capacity chart draws, in data units: the measured points, ideal linear scaling from one
 * replica's capacity (or λ), the fitted law sampled along N, and the axes' extent.
 */
export function curveLines(
  curve: readonly CurvePoint[],
  fit: CapacityFit | null,
  replicas: readonly number[] = [],
  extraY = 0,
): {
  measured: { replicas: number; capacityRps: number }[];
  ideal: [number, number][];
  fitted: [number, number][];
  maxN: number;
  maxY: number;
} {
  const measured = curve.flatMap((p) => (p.capacityRps === null ? [] : [{ replicas: p.replicas, capacityRps: p.capacityRps }]));
  const maxN = Math.max(2, ...replicas, ...curve.map((p) => p.replicas));
  const one = curve.find((p) => p.replicas === 1)?.capacityRps ?? fit?.lambda ?? null;
  const ideal: [number, number][] =
    one === null
      ? []
      : [
          [0, 0],
          [maxN, one * maxN],
        ];
  const fitted: [number, number][] = fit
    ? Array.from({ length: 41 }, (_, i) => (maxN * i) / 40).map((n) => [n, uslCapacity(n, fit.lambda, fit.sigma, fit.kappa)])
    : [];
  const maxY = Math.max(10, extraY, ...measured.map((p) => p.capacityRps), ...ideal.map(([, y]) => y), ...fitted.map(([, y]) => y)) * 1.08;
  return { measured, ideal, fitted, maxN, maxY };
}

/** {@link curveLines} with a baseline's points and law on the same axes, or null for it when there is none. */
export function overlayLines(
  now: { curve: readonly CurvePoint[]; fit: CapacityFit | null; replicas: readonly number[] },
  baseline: { curve: readonly CurvePoint[]; fit: CapacityFit | null } | null | undefined,
  extraY = 0,
): ReturnType<typeof curveLines> & {
  baseline: { measured: { replicas: number; capacityRps: number }[]; fitted: [number, number][] } | null;
} {
  if (!baseline) return { ...curveLines(now.curve, now.fit, now.replicas, extraY), baseline: null };
  const then = curveLines(baseline.curve, baseline.fit, now.replicas);
  const lines = curveLines(now.curve, now.fit, [...now.replicas, then.maxN], Math.max(extraY, then.maxY / 1.08));
  const aligned = curveLines(baseline.curve, baseline.fit, [lines.maxN]);
  return { ...lines, baseline: { measured: aligned.measured, fitted: aligned.fitted } };
}
