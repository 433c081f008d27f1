/**
 * The capacity search: the highest constant arrival rate at which the SLO holds. A coarse ramp
 * (the rate doubles until a step misses the SLO), then bisection between the last pass and the
 * first miss. The step runner is injected, so the same search runs against the stack's balancer
 * and, in tests, against a synthetic server whose capacity is known.
 */
import type { CapacityResult, CapacitySlo, CapacityStep, StepTelemetry } from '../../capacity-spec.js';
import type { TrafficSummary } from '../../traffic-spec.js';

/** What a step runner measured: the generator's summary of the step and the stack's telemetry. */
export interface StepMeasurement {
  summary: TrafficSummary;
  telemetry: StepTelemetry | null;
}

/**
 * Holds `rps` constant for `durationS` and reports it. On abort it ends the step early and
 * resolves (or rejects); the search then discards that step.
 */
export type StepRunner = (rps: number, durationS: number, signal: AbortSignal) => Promise<StepMeasurement>;

/** Options of {@link searchCapacity}. */
export interface SearchOptions {
  replicas: number;
  slo: CapacitySlo;
  /** @defaultValue 10 */
  stepS?: number;
  /** The first (lowest) rate. @defaultValue {@link DEFAULT_MIN_RPS} */
  minRps?: number;
  /** @defaultValue 20000 */
  maxRps?: number;
  /** The ramp's first rate when a good guess is known (the last replica count's capacity, scaled); at least minRps. */
  startRps?: number;
  /** The ramp multiplies the rate by this after each pass. @defaultValue 2 */
  growth?: number;
  /** Bisection stops when the bracket's upper end is within this share of its lower end. @defaultValue 0.03 */
  precision?: number;
  /** @defaultValue 24 */
  maxSteps?: number;
  /** Called after each step with it and every step so far. */
  onStep?: (step: CapacityStep, steps: readonly CapacityStep[]) => void;
  signal?: AbortSignal;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

/** The lowest rate tried by default: a 100m replica holds about 40 req/s of the default mix here. */
export const DEFAULT_MIN_RPS = 10;

/** The errors that count against the SLO, as a percentage of requests. */
export function errorPercent(s: TrafficSummary): number {
  const e = s.errors.timeout + s.errors.refused + s.errors.http4xx + s.errors.http5xx;
  return s.requests > 0 ? (e * 100) / s.requests : 0;
}

/**
 * A step's verdict. The generator's own health comes first: a generator that dropped or fired
 * late did not offer the rate asked for, so the step says nothing about the stack and is never
 * taken as capacity. An empty step (no requests measured) fails.
 */
export function judgeStep(m: StepMeasurement, slo: CapacitySlo): Pick<CapacityStep, 'verdict' | 'reason'> {
  const s = m.summary;
  const dropShare = s.requests + s.droppedByClient > 0 ? s.droppedByClient / (s.requests + s.droppedByClient) : 0;
  if (s.health?.limitedBy) return { verdict: 'invalid', reason: `generator: ${s.health.limitReason}` };
  if (s.droppedByClient > 0) return { verdict: 'invalid', reason: `generator: dropped ${s.droppedByClient} (${round1(dropShare * 100)} %)` };
  if (s.requests === 0 || s.p99Ms === null) return { verdict: 'fail', reason: 'no answers measured' };
  const errors = errorPercent(s);
  const misses: string[] = [];
  if (s.p99Ms >= slo.p99Ms) misses.push(`p99 ${round1(s.p99Ms)} ms ≥ ${slo.p99Ms} ms`);
  if (errors >= slo.errorPercent && errors > 0) misses.push(`errors ${round1(errors * 10) / 10} % ≥ ${slo.errorPercent} %`);
  if (misses.length > 0) return { verdict: 'fail', reason: misses.join(', ') };
  return { verdict: 'pass', reason: `p99 ${round1(s.p99Ms)} ms, errors ${Math.round(errors * 100) / 100} %` };
}

/** Thrown by a step runner when the stop came mid-step: not a failure, the search ends. */
export class SearchStoppedError extends Error {
  constructor() {
    super('the capacity search was stopped');
    this.name = this.constructor.name;
  }
}

/**
 * Searches the capacity at one replica count. Never throws for a stop: it returns what was found
 * so far with outcome `stopped`. A step runner's other failures propagate.
 */
export async function searchCapacity(runStep: StepRunner, options: SearchOptions): Promise<CapacityResult> {
  const stepS = options.stepS ?? 10;
  const minRps = options.minRps ?? DEFAULT_MIN_RPS;
  const maxRps = Math.max(minRps, options.maxRps ?? 20_000);
  const growth = Math.max(1.1, options.growth ?? 2);
  const precision = options.precision ?? 0.03;
  const maxSteps = options.maxSteps ?? 24;
  const signal = options.signal ?? new AbortController().signal;
  const steps: CapacityStep[] = [];
  let lo: number | null = null;
  let hi: number | null = null;
  let hiInvalid = false;

  // An invalid step says nothing of the stack: it is run once more (a generator hiccup, another
  // process taking the cores for a moment), and only a second invalid step brackets the search.
  // So is a ramp step that misses: one stall (a GC, a cold function, a throttled period) in a
  // step far below the knee would otherwise halve the capacity found; near the knee, in the
  // bisection, a miss is what is expected and is taken as it is.
  const measure = async (rps: number, phase: CapacityStep['phase']): Promise<CapacityStep | null> => {
    let step = await measureOnce(rps, phase);
    const confirm = step?.verdict === 'invalid' || (step?.verdict === 'fail' && phase === 'ramp');
    if (confirm && steps.length < maxSteps) step = await measureOnce(rps, phase);
    if (!step) return null;
    if (step.verdict === 'pass') lo = rps;
    else {
      hi = rps;
      hiInvalid = step.verdict === 'invalid';
    }
    return step;
  };

  const measureOnce = async (rps: number, phase: CapacityStep['phase']): Promise<CapacityStep | null> => {
    if (signal.aborted) return null;
    let m: StepMeasurement;
    try {
      m = await runStep(rps, stepS, signal);
    } catch (err) {
      if (signal.aborted || err instanceof SearchStoppedError) return null;
      throw err;
    }
    // A step cut short by a stop measured less than it was asked to: it is not judged.
    if (signal.aborted) return null;
    const s = m.summary;
    const step: CapacityStep = {
      replicas: options.replicas,
      phase,
      targetRps: rps,
      offeredRps: s.offeredRps,
      achievedRps: s.achievedRps,
      requests: s.requests,
      p99Ms: s.p99Ms,
      errorPercent: errorPercent(s),
      dropped: s.droppedByClient,
      ...judgeStep(m, options.slo),
      durationS: s.durationS,
      telemetry: m.telemetry,
      t: Date.now(),
    };
    steps.push(step);
    options.onStep?.(step, steps);
    return step;
  };

  const result = (outcome: CapacityResult['outcome']): CapacityResult => ({ replicas: options.replicas, capacityRps: lo, outcome, upperRps: hi, steps, limit: null });

  // The coarse ramp: double until a step misses (or the generator cannot offer the rate).
  let rate = Math.min(maxRps, Math.max(minRps, options.startRps ?? minRps));
  for (;;) {
    const step = await measure(rate, 'ramp');
    if (!step) return result('stopped');
    if (step.verdict !== 'pass') break;
    if (rate >= maxRps) return result('ceiling');
    rate = Math.min(maxRps, Math.round(rate * growth));
    if (steps.length >= maxSteps) return result('stopped');
  }
  // A seeded start that misses: step down until a rate holds, or the lowest rate misses too.
  while (lo === null) {
    if (hiInvalid && rate <= minRps) return result('generator-limited');
    if (rate <= minRps) return result('slo-not-met');
    rate = Math.max(minRps, Math.round(rate / growth));
    const step = await measure(rate, 'ramp');
    if (!step) return result('stopped');
  }
  // Bisection between the last pass (lo) and the first miss (hi).
  while (hi !== null && lo !== null && hi - lo > Math.max(1, lo * precision)) {
    if (steps.length >= maxSteps) return result('stopped');
    const mid = Math.round((lo + hi) / 2);
    if (mid <= lo || mid >= hi) break;
    const step = await measure(mid, 'bisect');
    if (!step) return result('stopped');
  }
  return result(hiInvalid ? 'generator-limited' : 'found');
}
