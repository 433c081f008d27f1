/**
 * The capacity search and the scaling curve: what a run asks for, each step it measured, and the
 * Universal Scalability Law fitted to the capacities. Part of the contract (electron/contract.ts
 * spreads {@link CAPACITY_COMMANDS} into its command list); kept apart so each file reads in one go.
 */
import Type, { type Static } from 'typebox';
import { MAX_REPLICAS } from './stack-spec.js';
import { KeysSchema, MAX_RPS, MixSchema } from './traffic-spec.js';

/** A baseline's name: a file name on every OS, so letters, digits, `.`, `_` and `-`, up to 64. */
export const BASELINE_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';

/** The SLO a step must hold. @defaultValue p99 < 50 ms and errors < 0.1 % */
export const CapacitySloSchema = Type.Object(
  {
    /** A step passes when its p99 latency (client-observed, over the whole step) is below this. */
    p99Ms: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 60_000 })),
    /** ... and its errors (timeouts, refused, 4xx but planned misses, 5xx) are below this share of requests, in percent. */
    errorPercent: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
  },
  { additionalProperties: false },
);
export type CapacitySloInput = Static<typeof CapacitySloSchema>;
export type CapacitySlo = Required<CapacitySloInput>;
export const DEFAULT_SLO: CapacitySlo = { p99Ms: 50, errorPercent: 0.1 };

/** `capacity:run`: a search at each replica count of the list (the running count when absent). */
export const CapacityRunSchema = Type.Object(
  {
    replicas: Type.Optional(Type.Array(Type.Integer({ minimum: 1, maximum: MAX_REPLICAS }), { minItems: 1, maxItems: 12 })),
    slo: Type.Optional(CapacitySloSchema),
    /** Seconds each step holds its constant rate. @defaultValue 10 */
    stepS: Type.Optional(Type.Number({ minimum: 1, maximum: 300 })),
    /** The lowest rate tried; when it misses the SLO the result says so. @defaultValue 10 */
    minRps: Type.Optional(Type.Number({ minimum: 1, maximum: MAX_RPS })),
    /** The highest rate tried. @defaultValue 20000 */
    maxRps: Type.Optional(Type.Number({ minimum: 1, maximum: MAX_RPS })),
    mix: Type.Optional(MixSchema),
    keys: Type.Optional(KeysSchema),
    /** A saved baseline's name: the status carries it, and each count's delta against it is shown. */
    compare: Type.Optional(Type.String({ pattern: BASELINE_NAME_PATTERN })),
  },
  { additionalProperties: false },
);
export type CapacityRun = Static<typeof CapacityRunSchema>;

/** `capacity:save`: the last finished search, saved as a named baseline (an existing one of that name is replaced). */
export const CapacitySaveSchema = Type.Object({ name: Type.String({ pattern: BASELINE_NAME_PATTERN }) }, { additionalProperties: false });
export type CapacitySave = Static<typeof CapacitySaveSchema>;

const Empty = Type.Object({}, { additionalProperties: false });

/** The capacity commands, spread into the contract's COMMANDS. */
export const CAPACITY_COMMANDS = {
  /** Starts a capacity search (one per replica count of the list) and returns at once; `capacity` events follow each step. */
  'capacity:run': CapacityRunSchema,
  /** Stops the search after cleaning up the step under way; resolves with what was found so far. */
  'capacity:stop': Empty,
  /** The running or last search. */
  'capacity:status': Empty,
  /** Saves the last finished (done or stopped) search as a named baseline. */
  'capacity:save': CapacitySaveSchema,
  /** The saved baselines, newest first. */
  'capacity:baselines': Empty,
} as const;

/** What the search saw of the stack during a step (means over the step's Samples); null where not measured. */
export interface StepTelemetry {
  /** The api replicas' mean cpu, % of one core each. */
  apiCpuPercent: number | null;
  /** The most throttled api replica's share of throttled cpu periods, 0..1 (cpu limits only). */
  apiThrottledShare: number | null;
  /** The machine's cpu busy, % of all its cores. */
  hostCpuPercent: number | null;
  redisCpuPercent: number | null;
  postgresCpuPercent: number | null;
  /** Clients waiting for a PostgreSQL connection, summed over the api pools. */
  dbPoolWaiting: number | null;
  /** Balancer-side failures (no upstream, unreachable) per second. */
  proxyErrorsPerSec: number | null;
  /** The load generator's cpu (cores) and its busiest thread, 0..1. */
  generatorBusyCores: number | null;
  generatorBusiestThread: number | null;
}

/** One step: a constant arrival rate held for the step's duration, and its verdict. */
export interface CapacityStep {
  replicas: number;
  phase: 'ramp' | 'bisect';
  targetRps: number;
  offeredRps: number;
  achievedRps: number;
  requests: number;
  p99Ms: number | null;
  errorPercent: number;
  dropped: number;
  /** `pass`: SLO held; `fail`: missed; `invalid`: the generator dropped or lagged, so the step says nothing of the stack. */
  verdict: 'pass' | 'fail' | 'invalid';
  /** Why, in words ("p99 73.2 ms ≥ 50 ms", "generator: lag p99 40 ms"). */
  reason: string;
  durationS: number;
  telemetry: StepTelemetry | null;
  t: number;
}

/** The search's answer at one replica count. */
export interface CapacityResult {
  replicas: number;
  /** The highest valid rate that held the SLO (req/s); null when none did. */
  capacityRps: number | null;
  /**
   * `found`: bracketed between a pass and a fail; `slo-not-met`: the lowest rate already missed it;
   * `ceiling`: the highest rate allowed still held; `generator-limited`: the generator, not the
   * stack, stopped the search; `stopped`: stopped early (capacity is the best so far).
   */
  outcome: 'found' | 'slo-not-met' | 'ceiling' | 'generator-limited' | 'stopped';
  /** The lowest rate that failed or was invalid, the search's upper bracket. */
  upperRps: number | null;
  steps: CapacityStep[];
  /** What ran out at the knee: a heuristic from the telemetry of the first step above capacity. */
  limit: KneeLimit | null;
  /** The quick ramp run before the constant steps, which set where they start; null when none ran or it found no miss. */
  probe?: CapacityProbe | null;
}

/** A probe: an open-model ramp from `fromRps`, stopped at three seconds in a row that missed the SLO. Not judged. */
export interface CapacityProbe {
  fromRps: number;
  /** The target rate of the first of the missed seconds. */
  missRps: number;
  /** The last second's rate that held before them. */
  lastPassRps: number | null;
  seconds: number;
}

/** A labelled guess at what ran out, with the evidence it rests on. */
export interface KneeLimit {
  resource: 'api-cpu' | 'host-cpu' | 'postgres' | 'redis' | 'balancer' | 'generator' | 'unknown';
  evidence: string;
}

/** The fitted law (see electron/control/capacity/usl.ts). */
export interface CapacityFit {
  lambda: number;
  sigma: number;
  kappa: number;
  r2: number;
  peakN: number | null;
}

/** One point of the curve: capacity at N and its efficiency C(N)/(N·C(1)). */
export interface CurvePoint {
  replicas: number;
  capacityRps: number | null;
  efficiency: number | null;
  validSteps: number;
  limit: KneeLimit | null;
}

/** The running or last search, streamed as `capacity` events after every step. */
export interface CapacityStatus {
  state: 'idle' | 'running' | 'done' | 'stopped' | 'failed';
  slo: CapacitySlo;
  stepS: number;
  replicas: number[];
  /** One per replica count finished (or stopped) so far. */
  results: CapacityResult[];
  /** The replica count being searched and its steps so far. */
  current: { replicas: number; steps: CapacityStep[]; probe?: CapacityProbe | null } | null;
  curve: CurvePoint[];
  /** null with fewer than two replica counts measured; `fitError` says why. */
  fit: CapacityFit | null;
  fitError: string | null;
  /** Progress in words ("api 2 of [1, 2, 4]: step 3 at 800 req/s"). */
  message: string;
  error: string | null;
  startedAt: number | null;
  endedAt: number | null;
  /** The baseline the run compares with (`compare`); absent or null when none. */
  baseline?: CapacityBaseline | null;
}

/** A saved search: its curve, law and every step, to compare later runs with. */
export interface CapacityBaseline {
  name: string;
  savedAt: number;
  /** The stack spec's name and the api's cpu limit when it ran (a baseline at another limit is another experiment). */
  stack: string | null;
  apiCpu: string | null;
  slo: CapacitySlo;
  stepS: number;
  curve: CurvePoint[];
  fit: CapacityFit | null;
  results: CapacityResult[];
  startedAt: number | null;
  endedAt: number | null;
}

/** A baseline in a list: what it measured, without its steps. */
export interface CapacityBaselineInfo {
  name: string;
  savedAt: number;
  stack: string | null;
  apiCpu: string | null;
  points: { replicas: number; capacityRps: number | null }[];
}

/** The results of the capacity commands, merged into the contract's CommandResults. */
export interface CapacityResults {
  'capacity:run': CapacityStatus;
  'capacity:stop': CapacityStatus;
  'capacity:status': CapacityStatus;
  'capacity:save': CapacityBaselineInfo;
  'capacity:baselines': CapacityBaselineInfo[];
}
