/**
 * The scaling curve: the capacity search at each replica count of a list, then Gunther's USL
 * fitted to the capacities found. The scale path and the step runner are injected, so the curve
 * is the same whether it drives a stack or a synthetic server.
 */
import type { CapacityFit, CapacityProbe, CapacityResult, CapacitySlo, CapacityStatus, CurvePoint } from '../../capacity-spec.js';
import { kneeLimit } from './knee.js';
import { searchCapacity, type ProbeRunner, type SearchOptions, type StepRunner } from './search.js';
import { efficiency, fitUsl, UslFitError } from './usl.js';

/** Options of {@link runCurve}. */
export interface CurveOptions {
  replicas: number[];
  slo: CapacitySlo;
  stepS: number;
  /** Sets the api replica count and resolves once that many are ready. */
  scale: (replicas: number) => Promise<void>;
  runStep: StepRunner;
  /**
   * A quick ramp before each count's constant steps (see {@link SearchOptions.probe}); without it
   * the ramp doubles. Its first seconds, not judged, warm up the replicas a scale just started.
   */
  probe?: ProbeRunner;
  search?: Pick<SearchOptions, 'minRps' | 'maxRps' | 'growth' | 'precision' | 'maxSteps'>;
  /** Called with the whole status after every step and every replica count. */
  onStatus?: (status: CapacityStatus) => void;
  signal?: AbortSignal;
}

/** A probe in words: "ramp from 10 req/s missed the SLO from 38 req/s (9 s)". */
export function probeText(probe: CapacityProbe | null): string {
  if (!probe)
    return 'the quick ramp found no miss it could trust (none up to the highest rate, or the generator was the limit); constant steps from its first rate';
  return `quick ramp from ${Math.round(probe.fromRps)} req/s missed the SLO from ${Math.round(probe.missRps)} req/s (${probe.seconds} s, not judged)`;
}

/** A status with nothing run yet. */
export function idleStatus(slo: CapacitySlo, stepS: number, replicas: number[] = []): CapacityStatus {
  return {
    state: 'idle',
    slo,
    stepS,
    replicas,
    results: [],
    current: null,
    curve: [],
    fit: null,
    fitError: null,
    message: 'no capacity search has run',
    error: null,
    startedAt: null,
    endedAt: null,
  };
}

/** Curve points and the USL fit from results: one source for the CLI table, the panel and the report. */
export function curveOf(results: readonly CapacityResult[]): { curve: CurvePoint[]; fit: CapacityFit | null; fitError: string | null } {
  const one = results.find((r) => r.replicas === 1)?.capacityRps ?? null;
  const curve = results.map((r) => ({
    replicas: r.replicas,
    capacityRps: r.capacityRps,
    efficiency:
      one !== null && r.capacityRps !== null ? Math.round(efficiency({ n: r.replicas, capacity: r.capacityRps }, one) * 1000) / 1000 : null,
    validSteps: r.steps.filter((s) => s.verdict !== 'invalid').length,
    limit: r.limit,
  }));
  const points = results.filter((r) => r.capacityRps !== null).map((r) => ({ n: r.replicas, capacity: r.capacityRps! }));
  try {
    return { curve, fit: fitUsl(points), fitError: null };
  } catch (err) {
    if (err instanceof UslFitError) return { curve, fit: null, fitError: err.message };
    throw err;
  }
}

/**
 * Runs the search at each replica count in turn (ascending), seeding each ramp from the last
 * capacity scaled by the replica ratio (three quarters of it, so the ramp starts below the knee),
 * and fits the law. A stop ends it with what was found so far.
 */
export async function runCurve(options: CurveOptions): Promise<CapacityStatus> {
  const replicas = [...new Set(options.replicas)].sort((a, b) => a - b);
  const signal = options.signal ?? new AbortController().signal;
  const status: CapacityStatus = {
    ...idleStatus(options.slo, options.stepS, replicas),
    state: 'running',
    message: 'starting',
    startedAt: Date.now(),
  };
  const publish = (patch: Partial<CapacityStatus>) => {
    Object.assign(status, patch, curveOf(status.results));
    options.onStatus?.(structuredClone(status));
  };
  let last: CapacityResult | undefined;
  try {
    for (const [index, n] of replicas.entries()) {
      if (signal.aborted) break;
      const where = `api ${n} (${index + 1} of ${replicas.length})`;
      publish({ message: `${where}: scaling the api to ${n} and waiting until ready`, current: { replicas: n, steps: [] } });
      await options.scale(n);
      if (signal.aborted) break;
      // Three quarters of linear scaling: below the knee unless the stack scales worse than that,
      // with a gentler ramp from there (the bracket is near), so each later count costs few steps.
      const seed = last?.capacityRps ? Math.round(((last.capacityRps * n) / last.replicas) * 0.75) : undefined;
      const result = await searchCapacity(options.runStep, {
        ...options.search,
        growth: options.search?.growth ?? (seed !== undefined ? 1.3 : undefined),
        replicas: n,
        slo: options.slo,
        stepS: options.stepS,
        startRps: seed,
        probe: options.probe,
        signal,
        onProbe: (probe) => publish({ message: `${where}: ${probeText(probe)}`, current: { replicas: n, steps: [], probe } }),
        onStep: (step, steps) =>
          publish({
            message: `${where}: step ${steps.length} at ${step.targetRps} req/s ${step.verdict} (${step.reason})`,
            current: { replicas: n, steps: [...steps], probe: status.current?.probe ?? null },
          }),
      });
      result.limit = kneeLimit(result);
      last = result.capacityRps !== null ? result : last;
      publish({
        results: [...status.results, result],
        current: null,
        message: `${where}: capacity ${result.capacityRps ?? '–'} req/s (${result.outcome})`,
      });
      if (result.outcome === 'stopped') break;
    }
    publish({
      state: signal.aborted ? 'stopped' : 'done',
      current: null,
      endedAt: Date.now(),
      message: signal.aborted ? 'stopped; these are the capacities found so far' : 'done',
    });
  } catch (err) {
    publish({
      state: 'failed',
      current: null,
      endedAt: Date.now(),
      error: (err as Error).message,
      message: `failed: ${(err as Error).message}`,
    });
  }
  return structuredClone(status);
}
