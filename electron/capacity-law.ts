/**
 * Gunther's Universal Scalability Law as a pure function, with no imports: the control plane
 * fits it (control/capacity/usl.ts) and the dashboard and the report draw it.
 */

/** The law's value at n: C(N) = λN / (1 + σ(N−1) + κN(N−1)). */
export function uslCapacity(n: number, lambda: number, sigma: number, kappa: number): number {
  return (lambda * n) / (1 + sigma * (n - 1) + kappa * n * (n - 1));
}
