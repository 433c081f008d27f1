/**
 * The capacity search: the highest constant arrival rate at which the SLO holds. A coarse ramp
 * (the rate doubles until a step misses the SLO), then bisection between the last pass and the
 * first miss. The step runner is injected, so the same search runs against the stack's balancer
 * and, in tests, against a synthetic server whose capacity is known.
 */
import type { CapacityProbe, CapacityResult, CapacitySlo, CapacityStep, StepTelemetry } from '../../capacity-spec.js';
import type { TrafficSummary } from '../../traffic-spec.js';
import { NamedError } from '../../../backend/named-error.js';

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

/** One second of a probe, as the generator saw it. */
export interface ProbeSecond {
  targetRps: number;
  requests: number;
  p99Ms: number | null;
  errorPercent: number;
  /** The generator, not the stack, was the limit this second. */
  generatorLimited: boolean;
}

/**
 * Runs one rate per second of `rates` (an open-model ramp), calling `onSecond` as each second
 * ends, until the rates run out or `signal` aborts (the search aborts it once it has seen enough).
 */
export type ProbeRunner = (rates: number[], signal: AbortSignal, onSecond: (second: ProbeSecond) => void) => Promise<void>;

/** What a probe found: the rate at which the SLO started to miss, and the last rate that held before it. */
export interface ProbeResult {
  missRps: number;
  lastPassRps: number | null;
  seconds: number;
}

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
  /**
   * A quick open-model ramp run before the constant steps (the rate grows by
   * {@link PROBE_GROWTH_PER_S} each second from the ramp's first rate), stopped at the first three
   * seconds in a row that miss the SLO. It is not judged: it only says where the constant steps
   * start, so the bracket is found in two or three steps instead of a doubling ramp's five to eight.
   */
  probe?: ProbeRunner;
  /**
   * Bisection stops when the bracket is at most this share of its upper end wide (plus 1 req/s, so a
   * bracket of a few dozen req/s is not split into single requests). At a tenth of a core the
   * same count's capacity varies by ±20 % from run to run (one replica here: 23–41 req/s over eight
   * runs; CFS throttling stalls set its p99), so a finer bracket costs steps and buys no truth.
   * @defaultValue 0.1
   */
  precision?: number;
  /** @defaultValue 24 */
  maxSteps?: number;
  /** Called once the probe has ended, with what it found (null: no miss, or the generator was the limit). */
  onProbe?: (probe: CapacityProbe | null) => void;
  /** Called after each step with it and every step so far. */
  onStep?: (step: CapacityStep, steps: readonly CapacityStep[]) => void;
  signal?: AbortSignal;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

/** The lowest rate tried by default: a 100m replica holds about 40 req/s of the default mix here. */
export const DEFAULT_MIN_RPS = 10;

/** A probe's rate grows by this share each second: from 10 req/s it passes 40 in 8 s. */
export const PROBE_GROWTH_PER_S = 1.2;
/**
 * The constant steps after a probe start at this share of its miss: a ramp reaches a rate before
 * its queue does, and here a constant 10 s step missed from 75–90 % of the probe's miss.
 */
const PROBE_START_SHARE = 0.8;
/** After a probe, a first step that misses steps down by this factor. */
const PROBE_STEP_DOWN = 1.15;
/**
 * Seconds in a row that must miss to end the probe. A second's p99 at a few dozen requests is its
 * worst answer, and at a tenth of a core one throttled period (up to 90 ms) sets it: two such
 * seconds in a row came at half the capacity in trials here, three did not.
 */
const PROBE_MISSED_SECONDS = 3;
/** The probe's first seconds, not judged. */
const PROBE_UNJUDGED_S = 2;

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
  if (s.droppedByClient > 0)
    return { verdict: 'invalid', reason: `generator: dropped ${s.droppedByClient} (${round1(dropShare * 100)} %)` };
  if (s.requests === 0 || s.p99Ms === null) return { verdict: 'fail', reason: 'no answers measured' };
  const errors = errorPercent(s);
  const misses: string[] = [];
  if (s.p99Ms >= slo.p99Ms) misses.push(`p99 ${round1(s.p99Ms)} ms ≥ ${slo.p99Ms} ms`);
  if (errors >= slo.errorPercent && errors > 0) misses.push(`errors ${round1(errors * 10) / 10} % ≥ ${slo.errorPercent} %`);
  if (misses.length > 0) return { verdict: 'fail', reason: misses.join(', ') };
  return { verdict: 'pass', reason: `p99 ${round1(s.p99Ms)} ms, errors ${Math.round(errors * 100) / 100} %` };
}

/**
 * Runs `probe` from `fromRps` up to `maxRps` and returns where it missed, or null when it never
 * missed, the generator was the limit for two seconds in a row, or it was stopped. Missed
 * seconds in a row end it ({@link PROBE_MISSED_SECONDS}): one second's stall (a GC, a throttled period) does not.
 */
export async function runProbe(
  probe: ProbeRunner,
  fromRps: number,
  maxRps: number,
  slo: CapacitySlo,
  signal: AbortSignal,
): Promise<ProbeResult | null> {
  const rates: number[] = [];
  for (let r = fromRps; rates.length < 600; r *= PROBE_GROWTH_PER_S) {
    rates.push(Math.round(Math.min(r, maxRps) * 10) / 10);
    if (r >= maxRps) break;
  }
  const own = new AbortController();
  const stop = () => own.abort();
  signal.addEventListener('abort', stop, { once: true });
  let found: ProbeResult | null = null;
  let limited = 0;
  let seconds = 0;
  let missedAt: number | null = null;
  let missedRun = 0;
  let lastPass: number | null = null;
  try {
    await probe(rates, own.signal, (second) => {
      if (own.signal.aborted) return;
      seconds += 1;
      // A second the generator could not offer says nothing of the stack; two in a row end the probe.
      if (second.generatorLimited) {
        limited += 1;
        if (limited >= 2) own.abort();
        return;
      }
      limited = 0;
      // Its first seconds are the replicas' and the generator's warm-up (new threads, cold
      // connections, replicas a scale just started): they are not judged.
      if (second.requests === 0 || seconds <= PROBE_UNJUDGED_S) return;
      const missed =
        (second.p99Ms !== null && second.p99Ms >= slo.p99Ms) || (second.errorPercent > 0 && second.errorPercent >= slo.errorPercent);
      if (!missed) {
        lastPass = missedAt === null ? second.targetRps : lastPass;
        missedAt = null;
        missedRun = 0;
        return;
      }
      missedAt ??= second.targetRps;
      missedRun += 1;
      if (missedRun < PROBE_MISSED_SECONDS) return;
      found = { missRps: missedAt, lastPassRps: lastPass, seconds };
      own.abort();
    });
  } catch (err) {
    if (!own.signal.aborted && !(err instanceof SearchStoppedError)) throw err;
  } finally {
    signal.removeEventListener('abort', stop);
  }
  return signal.aborted || limited >= 2 ? null : found;
}

/** Thrown by a step runner when the stop came mid-step: not a failure, the search ends. */
export class SearchStoppedError extends NamedError {
  constructor() {
    super('the capacity search was stopped');
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
  const precision = options.precision ?? 0.1;
  const maxSteps = options.maxSteps ?? 24;
  const signal = options.signal ?? new AbortController().signal;
  const steps: CapacityStep[] = [];
  let lo: number | null = null;
  let hi: number | null = null;
  let hiInvalid = false;
  let start = Math.min(maxRps, Math.max(minRps, options.startRps ?? minRps));
  let rampGrowth = growth;
  // Without a probe a ramp miss is run once more (see measure); after one, the probe has already
  // looked at the region and a miss is taken as it is.
  let confirmRampMisses = true;
  let hiFromProbe = false;
  let probed: ProbeResult | null = null;
  if (options.probe) {
    probed = await runProbe(options.probe, start, maxRps, options.slo, signal);
    if (signal.aborted)
      return { replicas: options.replicas, capacityRps: null, outcome: 'stopped', upperRps: null, steps, limit: null, probe: null };
    options.onProbe?.(
      probed ? { fromRps: start, missRps: probed.missRps, lastPassRps: probed.lastPassRps, seconds: probed.seconds } : null,
    );
    if (probed) {
      // Start below the miss, which stands as the upper end of the bracket until a constant step
      // misses: a pass at the start then goes straight to bisection.
      start = Math.max(minRps, Math.round(probed.missRps * PROBE_START_SHARE));
      hi = Math.max(start + 1, Math.round(probed.missRps));
      hiFromProbe = true;
      rampGrowth = PROBE_STEP_DOWN;
      confirmRampMisses = false;
    }
  }

  // An invalid step says nothing of the stack: it is run once more (a generator hiccup, another
  // process taking the cores for a moment), and only a second invalid step brackets the search.
  // So is a ramp step that misses: one stall (a GC, a cold function, a throttled period) in a
  // step far below the knee would otherwise halve the capacity found; near the knee, in the
  // bisection, a miss is what is expected and is taken as it is.
  const measure = async (rps: number, phase: CapacityStep['phase']): Promise<CapacityStep | null> => {
    let step = await measureOnce(rps, phase);
    const confirm = step?.verdict === 'invalid' || (step?.verdict === 'fail' && phase === 'ramp' && confirmRampMisses);
    if (confirm && steps.length < maxSteps) step = await measureOnce(rps, phase);
    if (!step) return null;
    if (step.verdict === 'pass') lo = rps;
    else {
      hi = rps;
      hiFromProbe = false;
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

  const probe = probed
    ? {
        fromRps: Math.min(maxRps, Math.max(minRps, options.startRps ?? minRps)),
        missRps: probed.missRps,
        lastPassRps: probed.lastPassRps,
        seconds: probed.seconds,
      }
    : null;
  const result = (outcome: CapacityResult['outcome']): CapacityResult => ({
    replicas: options.replicas,
    capacityRps: lo,
    outcome,
    upperRps: hi,
    steps,
    limit: null,
    probe,
  });

  // The coarse ramp: double until a step misses (or the generator cannot offer the rate).
  let rate = start;
  for (;;) {
    for (;;) {
      const step = await measure(rate, 'ramp');
      if (!step) return result('stopped');
      if (step.verdict !== 'pass') break;
      if (rate >= maxRps) return result('ceiling');
      // Below the probe's miss: bisect up to it.
      if (hi !== null && rate < hi) break;
      rate = Math.min(maxRps, Math.round(rate * rampGrowth));
      if (steps.length >= maxSteps) return result('stopped');
    }
    // A seeded start that misses: step down until a rate holds, or the lowest rate misses too.
    while (lo === null) {
      if (hiInvalid && rate <= minRps) return result('generator-limited');
      if (rate <= minRps) return result('slo-not-met');
      rate = Math.max(minRps, Math.round(rate / rampGrowth));
      const step = await measure(rate, 'ramp');
      if (!step) return result('stopped');
    }
    // Bisection between the last pass (lo) and the first miss (hi).
    while (hi !== null && lo !== null && hi - lo > hi * precision + 1) {
      if (steps.length >= maxSteps) return result('stopped');
      const mid = Math.round((lo + hi) / 2);
      if (mid <= lo || mid >= hi) break;
      const step = await measure(mid, 'bisect');
      if (!step) return result('stopped');
    }
    // Every constant step up to the probe's miss held: the probe missed early (a stall), so its
    // miss is tried as a constant step, and the ramp goes on from there if it holds too.
    if (!hiFromProbe || hi === null) break;
    rate = hi;
    hi = null;
    hiFromProbe = false;
    rampGrowth = Math.min(growth, 1.3);
  }
  return result(hiInvalid ? 'generator-limited' : 'found');
}
