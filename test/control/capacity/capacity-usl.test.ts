import { describe, expect, it } from 'vitest';
import { efficiency, fitUsl, peakReplicas, uslCapacity, UslFitError } from '../../../electron/control/capacity/usl.js';

const ns = [1, 2, 4, 8, 16, 32];

describe('USL fit', () => {
  it('recovers known λ, σ, κ from exact synthetic data', () => {
    const points = ns.map((n) => ({ n, capacity: uslCapacity(n, 120, 0.05, 0.002) }));
    const fit = fitUsl(points);
    expect(fit.lambda).toBeCloseTo(120, 1);
    expect(fit.sigma).toBeCloseTo(0.05, 3);
    expect(fit.kappa).toBeCloseTo(0.002, 4);
    expect(fit.r2).toBeGreaterThan(0.9999);
    expect(fit.peakN).toBeCloseTo(Math.sqrt(0.95 / 0.002), 1);
  });

  it('recovers the parameters within 5 % from data with ±2 % deterministic noise', () => {
    const noise = [0.02, -0.015, 0.01, -0.02, 0.015, -0.01];
    const points = ns.map((n, i) => ({ n, capacity: uslCapacity(n, 200, 0.1, 0.001) * (1 + (noise[i] ?? 0)) }));
    const fit = fitUsl(points);
    expect(Math.abs(fit.lambda - 200) / 200).toBeLessThan(0.05);
    expect(Math.abs(fit.sigma - 0.1)).toBeLessThan(0.03);
    expect(fit.r2).toBeGreaterThan(0.99);
  });

  it('keeps σ and κ non-negative on super-linear data, and reports no peak when κ is 0', () => {
    const points = [1, 2, 4].map((n) => ({ n, capacity: 100 * n * (1 + 0.01 * n) }));
    const fit = fitUsl(points);
    expect(fit.sigma).toBeGreaterThanOrEqual(0);
    expect(fit.kappa).toBeGreaterThanOrEqual(0);
    expect(peakReplicas(0.1, 0)).toBeNull();
  });

  it('fits linear scaling with σ = κ = 0 and efficiency 1', () => {
    const fit = fitUsl([1, 2, 4].map((n) => ({ n, capacity: 50 * n })));
    expect(fit.sigma).toBeLessThan(1e-6);
    expect(fit.kappa).toBeLessThan(1e-6);
    expect(fit.peakN).toBeNull();
    expect(efficiency({ n: 4, capacity: 200 }, 50)).toBeCloseTo(1, 6);
  });

  it('refuses a fit from one replica count', () => {
    expect(() =>
      fitUsl([
        { n: 1, capacity: 10 },
        { n: 1, capacity: 11 },
      ]),
    ).toThrow(UslFitError);
  });
});
