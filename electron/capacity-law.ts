/**
 * Gunther's Universal Scalability Law as pure functions: the control plane fits it
 * (control/capacity/usl.ts); the dashboard's panel and the HTML report draw the same lines from
 * {@link curveLines}, so the two charts cannot disagree.
 */
import type { CapacityFit, CurvePoint } from './capacity-spec.js';

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
export function curveLines(curve: readonly CurvePoint[], fit: CapacityFit | null, replicas: readonly number[] = [], extraY = 0): { measured: { replicas: number; capacityRps: number }[]; ideal: [number, number][]; fitted: [number, number][]; maxN: number; maxY: number } {
  const measured = curve.flatMap((p) => (p.capacityRps === null ? [] : [{ replicas: p.replicas, capacityRps: p.capacityRps }]));
  const maxN = Math.max(2, ...replicas, ...curve.map((p) => p.replicas));
  const one = curve.find((p) => p.replicas === 1)?.capacityRps ?? fit?.lambda ?? null;
  const ideal: [number, number][] = one === null ? [] : [[0, 0], [maxN, one * maxN]];
  const fitted: [number, number][] = fit ? Array.from({ length: 41 }, (_, i) => (maxN * i) / 40).map((n) => [n, uslCapacity(n, fit.lambda, fit.sigma, fit.kappa)]) : [];
  const maxY = Math.max(10, extraY, ...measured.map((p) => p.capacityRps), ...ideal.map(([, y]) => y), ...fitted.map(([, y]) => y)) * 1.08;
  return { measured, ideal, fitted, maxN, maxY };
}
