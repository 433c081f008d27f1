/**
 * Gunther's Universal Scalability Law, fitted by least squares.
 *
 * C(N) = λN / (1 + σ(N−1) + κN(N−1)). Pure: no I/O, no clock, so the fit can be
 * tested on synthetic data and reused by the CLI, the panel and the report.
 */

/** One measured point: the capacity (req/s) found at a replica count. */
export interface UslPoint {
  n: number;
  capacity: number;
}

/** The fitted law and what follows from it. */
export interface UslFit {
  /** Throughput of one replica with no contention (req/s). */
  lambda: number;
  /** Contention (serial fraction), ≥ 0. */
  sigma: number;
  /** Coherency (crosstalk), ≥ 0. */
  kappa: number;
  /** Coefficient of determination of the fit on the measured points. */
  r2: number;
  /** Predicted peak replica count √((1−σ)/κ); null when κ = 0 or σ ≥ 1 (no finite peak). */
  peakN: number | null;
}

/** Thrown when there are too few usable points to fit three parameters' worth of shape. */
export class UslFitError extends NamedError {}

import { uslCapacity } from '../../capacity-law.js';
import { NamedError } from '../../../backend/named-error.js';

export { uslCapacity };

/** Efficiency C(N)/(N·C(1)) of a measured point against the measured one-replica capacity. */
export function efficiency(point: UslPoint, c1: number): number {
  return c1 > 0 ? point.capacity / (point.n * c1) : 0;
}

/** The predicted peak N* = √((1−σ)/κ), or null when the curve never turns down. */
export function peakReplicas(sigma: number, kappa: number): number | null {
  if (kappa <= 0 || sigma >= 1) return null;
  return Math.sqrt((1 - sigma) / kappa);
}

// For fixed σ, κ the best λ is linear least squares: λ = Σ C·g / Σ g², g = C(N)/λ.
function bestLambda(points: UslPoint[], sigma: number, kappa: number): { lambda: number; sse: number } {
  let cg = 0;
  let gg = 0;
  for (const p of points) {
    const g = uslCapacity(p.n, 1, sigma, kappa);
    cg += p.capacity * g;
    gg += g * g;
  }
  const lambda = gg > 0 ? Math.max(0, cg / gg) : 0;
  let sse = 0;
  for (const p of points) sse += (p.capacity - uslCapacity(p.n, lambda, sigma, kappa)) ** 2;
  return { lambda, sse };
}

/**
 * Fit λ, σ, κ (σ, κ ≥ 0) to the points by least squares: λ in closed form for each (σ, κ),
 * a coarse grid over (σ, κ) then a shrinking pattern search, so the answer is deterministic
 * and never leaves the constraint set.
 */
export function fitUsl(input: UslPoint[]): UslFit {
  const points = input.filter((p) => Number.isFinite(p.n) && p.n >= 1 && Number.isFinite(p.capacity) && p.capacity >= 0);
  const distinct = new Set(points.map((p) => p.n));
  if (distinct.size < 2) throw new UslFitError(`need capacities at 2 or more replica counts, got ${distinct.size}`);
  let best = { sigma: 0, kappa: 0, ...bestLambda(points, 0, 0) };
  const consider = (sigma: number, kappa: number): void => {
    if (sigma < 0 || kappa < 0) return;
    const r = bestLambda(points, sigma, kappa);
    if (r.sse < best.sse) best = { sigma, kappa, ...r };
  };
  for (let i = 0; i <= 40; i += 1) {
    const sigma = i / 40;
    consider(sigma, 0);
    for (let j = 0; j <= 40; j += 1) consider(sigma, 1e-5 * 10 ** (j / 8));
  }
  let ds = 0.025;
  let dk = Math.max(best.kappa, 1e-4);
  for (let iter = 0; iter < 2000 && (ds > 1e-9 || dk > 1e-12); iter += 1) {
    const before = best.sse;
    const { sigma, kappa } = best;
    consider(sigma + ds, kappa);
    consider(sigma - ds, kappa);
    consider(sigma, kappa + dk);
    consider(sigma, kappa - dk);
    consider(sigma, 0);
    if (best.sse >= before) {
      ds /= 2;
      dk /= 2;
    }
  }
  const mean = points.reduce((s, p) => s + p.capacity, 0) / points.length;
  const sst = points.reduce((s, p) => s + (p.capacity - mean) ** 2, 0);
  const r2 = sst > 0 ? 1 - best.sse / sst : best.sse === 0 ? 1 : 0;
  return { lambda: best.lambda, sigma: best.sigma, kappa: best.kappa, r2, peakN: peakReplicas(best.sigma, best.kappa) };
}
