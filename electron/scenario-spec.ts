/**
 * Scenarios' part of the contract: the scenario file (YAML or JSON; its JSON Schema is published
 * as docs/scenario.schema.json), assertions and their text form, and what the player reports.
 * Pure: the renderer may import it.
 */
import Type, { type Static, type TLiteral, type TUnion } from 'typebox';
import { AutoscalerConfigureSchema } from './autoscaler-spec.js';
import { CapacityRunSchema } from './capacity-spec.js';
import { ChaosActionSchema } from './chaos-spec.js';
import { StackSpecSchema, type StackSpec } from './stack-spec.js';
import { TrafficSpecSchema, TrafficUpdateSchema } from './traffic-spec.js';
import { NamedError } from '../backend/named-error.js';

/** Longest scenario, seconds. */
export const MAX_SCENARIO_SECONDS = 3600;

const At = Type.Number({ minimum: 0, maximum: MAX_SCENARIO_SECONDS, description: 'seconds from the start of the scenario' });
const Label = Type.String({ minLength: 1, maxLength: 200, description: 'what the player shows for this step' });
const options = (description: string) => ({ additionalProperties: false, description });
const ScaleSchema = Type.Object(
  { service: Type.Union([Type.Literal('api'), Type.Literal('worker')]), replicas: Type.Integer({ minimum: 0, maximum: 20 }) },
  { additionalProperties: false },
);

/** Each kind of step, by the key that names it. */
export const STEP_SCHEMAS = {
  traffic: Type.Object(
    { at: At, label: Type.Optional(Label), traffic: TrafficSpecSchema },
    options('start traffic (replaces a run in progress)'),
  ),
  trafficUpdate: Type.Object(
    { at: At, label: Type.Optional(Label), trafficUpdate: TrafficUpdateSchema },
    options("change the running traffic's rate, mix or keys"),
  ),
  trafficStop: Type.Object({ at: At, label: Type.Optional(Label), trafficStop: Type.Literal(true) }, options('stop the traffic')),
  chaos: Type.Object(
    { at: At, label: Type.Optional(Label), chaos: ChaosActionSchema },
    options('inject a failure, or turn the Chaos Monkey on or off'),
  ),
  chaosClear: Type.Object(
    { at: At, label: Type.Optional(Label), chaosClear: Type.Literal(true) },
    options('undo every reversible fault and stop the monkey'),
  ),
  scale: Type.Object({ at: At, label: Type.Optional(Label), scale: ScaleSchema }, options("set a service's replicas")),
  autoscaler: Type.Object(
    { at: At, label: Type.Optional(Label), autoscaler: AutoscalerConfigureSchema },
    options('turn an autoscaler on or off, or change it'),
  ),
  capacity: Type.Object(
    { at: At, label: Type.Optional(Label), capacity: CapacityRunSchema },
    options(
      'start a capacity search; the scenario goes on, and its end stops a search still running (traffic steps are refused while it runs)',
    ),
  ),
  note: Type.Object(
    { at: At, label: Type.Optional(Label), note: Type.String({ minLength: 1, maxLength: 500 }) },
    options('a note on the timeline, for the room'),
  ),
} as const;
export type StepKind = keyof typeof STEP_SCHEMAS;
export const STEP_KINDS = Object.keys(STEP_SCHEMAS) as StepKind[];
export type ScenarioStep = { [K in StepKind]: Static<(typeof STEP_SCHEMAS)[K]> }[StepKind];

/** A union of string literals that keeps its static type. */
function literals<const T extends readonly string[]>(values: T) {
  return Type.Union(values.map((v) => Type.Literal(v))) as unknown as TUnion<{ -readonly [K in keyof T]: TLiteral<T[K]> }>;
}

/** Figures an assertion can hold against. Rates are fractions: 0.01 is 1 %. */
export const ASSERT_METRICS = [
  'p50_ms',
  'p95_ms',
  'p99_ms',
  'error_rate',
  'rps',
  'cache_hit_rate',
  'api_replicas',
  'worker_replicas',
  'queue_waiting',
  'lost_writes',
  'replica_read_share',
  'replica_lag_s',
  'stream_lag',
  'read_model_freshness_s',
] as const;
export type AssertMetric = (typeof ASSERT_METRICS)[number];
export const ASSERT_OPS = ['<', '<=', '>', '>=', '=='] as const;
export type AssertOp = (typeof ASSERT_OPS)[number];
/**
 * How a window's seconds become one figure. `mean` weighs latency and rates by requests;
 * `eventually`: true at some second of the window ("reaches 4 replicas within 60 s");
 * `always`: true at every second of it.
 */
export const ASSERT_OVER = ['mean', 'max', 'min', 'last', 'eventually', 'always'] as const;
export type AssertOver = (typeof ASSERT_OVER)[number];

/** The default reduction of each metric. */
export const DEFAULT_OVER: Record<AssertMetric, AssertOver> = {
  p50_ms: 'mean',
  p95_ms: 'mean',
  p99_ms: 'mean',
  error_rate: 'mean',
  rps: 'mean',
  cache_hit_rate: 'mean',
  api_replicas: 'last',
  worker_replicas: 'last',
  queue_waiting: 'max',
  lost_writes: 'last',
  replica_read_share: 'mean',
  replica_lag_s: 'max',
  stream_lag: 'last',
  read_model_freshness_s: 'last',
};

export const AssertionObjectSchema = Type.Object(
  {
    metric: literals(ASSERT_METRICS),
    op: literals(ASSERT_OPS),
    value: Type.Number(),
    /** @defaultValue {@link DEFAULT_OVER} of the metric */
    over: Type.Optional(literals(ASSERT_OVER)),
    /** Window start, seconds from the start. @defaultValue 0 */
    from: Type.Optional(At),
    /** Window end, seconds from the start. @defaultValue the scenario's end */
    to: Type.Optional(At),
    label: Type.Optional(Label),
  },
  { additionalProperties: false },
);
export type AssertionObject = Static<typeof AssertionObjectSchema>;

/** An assertion as an object, or as text: `p99_ms<250`, `error_rate<0.01 from 10 to 60`, `api_replicas>=4 eventually to 60`. */
export const AssertionSchema = Type.Union([
  AssertionObjectSchema,
  Type.String({ minLength: 3, maxLength: 200, description: 'metric op value [over] [from S] [to S], e.g. p99_ms<250' }),
]);

/** A scenario file. */
export const ScenarioSchema = Type.Object(
  {
    /** Shown in the player and the report. */
    name: Type.String({ minLength: 1, maxLength: 100 }),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    /** The stack to run it on; started (or adopted) before the first step. @defaultValue the running stack, else a default one */
    stack: Type.Optional(StackSpecSchema),
    /** Length, seconds; the assertions are judged at the end. */
    durationS: Type.Number({ minimum: 1, maximum: MAX_SCENARIO_SECONDS }),
    steps: Type.Array(
      Type.Union([
        STEP_SCHEMAS.traffic,
        STEP_SCHEMAS.trafficUpdate,
        STEP_SCHEMAS.trafficStop,
        STEP_SCHEMAS.chaos,
        STEP_SCHEMAS.chaosClear,
        STEP_SCHEMAS.scale,
        STEP_SCHEMAS.autoscaler,
        STEP_SCHEMAS.capacity,
        STEP_SCHEMAS.note,
      ]),
      { maxItems: 500 },
    ),
    assertions: Type.Optional(Type.Array(AssertionSchema, { maxItems: 100 })),
    /** Read every acknowledged write back at the end, as `lost_writes`, and require none lost. @defaultValue true */
    checkWrites: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, $id: 'https://scalelab.dev/schemas/scenario.schema.json', title: 'ScaleLab scenario' },
);
export type Scenario = Static<typeof ScenarioSchema>;

/** An assertion with every default filled in. */
export interface Assertion {
  metric: AssertMetric;
  op: AssertOp;
  value: number;
  over: AssertOver;
  from: number;
  to: number | null;
  label?: string;
}

/** A problem with a text assertion. */
export class AssertionSyntaxError extends NamedError {}

const TEXT = /^\s*([a-z0-9_]+)\s*(<=|>=|==|<|>)\s*(-?\d+(?:\.\d+)?)\s*(.*)$/;

/** Parses `metric op value [over] [from S] [to S]` (e.g. `p99_ms<250`, `api_replicas>=4 eventually to 60`). */
export function parseAssertion(text: string): AssertionObject {
  const m = TEXT.exec(text);
  if (!m)
    throw new AssertionSyntaxError(
      `"${text}" is not an assertion; write metric, operator and number, e.g. p99_ms<250 (operators: ${ASSERT_OPS.join(' ')})`,
    );
  const [, metric, op, value, rest] = m;
  if (!(ASSERT_METRICS as readonly string[]).includes(metric!))
    throw new AssertionSyntaxError(`"${metric}" is not a metric; use one of ${ASSERT_METRICS.join(', ')}`);
  const out: AssertionObject = { metric: metric as AssertMetric, op: op as AssertOp, value: Number(value) };
  const words = rest!.trim().split(/\s+/).filter(Boolean);
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if ((ASSERT_OVER as readonly string[]).includes(word)) out.over = word as AssertOver;
    else if ((word === 'from' || word === 'to') && words[i + 1] !== undefined && /^\d+(\.\d+)?s?$/.test(words[i + 1]!))
      out[word] = Number(words[++i]!.replace(/s$/, ''));
    else
      throw new AssertionSyntaxError(
        `"${word}" in "${text}" is not understood; after the number come [${ASSERT_OVER.join('|')}] [from S] [to S]`,
      );
  }
  return out;
}

/** An assertion of a scenario with its defaults. */
export function resolveAssertion(input: AssertionObject | string): Assertion {
  const a = typeof input === 'string' ? parseAssertion(input) : input;
  return {
    metric: a.metric,
    op: a.op,
    value: a.value,
    over: a.over ?? DEFAULT_OVER[a.metric],
    from: a.from ?? 0,
    to: a.to ?? null,
    ...(a.label ? { label: a.label } : {}),
  };
}

/** `p99_ms < 250 (mean, 10–60 s)`. */
export function assertionText(a: Assertion, durationS?: number): string {
  const to = a.to ?? durationS;
  return `${a.metric} ${a.op} ${a.value} (${a.over}, ${a.from}–${to === undefined ? 'end' : to} s)`;
}

/** The kind of a step: the key that names it. */
export function stepKind(step: ScenarioStep): StepKind {
  return STEP_KINDS.find((k) => k in step)!;
}

// ---------------------------------------------------------------------------------------------
// The player

export type ScenarioState = 'idle' | 'starting' | 'running' | 'paused' | 'verifying' | 'passed' | 'failed' | 'aborted';

/** A scenario in one of these states is under way: it drives traffic, chaos and scaling until reset or ended. */
export function scenarioActive(state: ScenarioState): boolean {
  return state === 'starting' || state === 'running' || state === 'paused' || state === 'verifying';
}
export type StepState = 'pending' | 'done' | 'failed';
export type AssertionState = 'pending' | 'passing' | 'failing' | 'held' | 'failed';

/** One step as the player shows it. */
export interface StepStatus {
  index: number;
  at: number;
  kind: StepKind;
  /** The step's label, or a description of what it does. */
  text: string;
  state: StepState;
  error?: string;
}

/** One assertion: live while the scenario runs (passing/failing so far), final at the end (held/failed). */
export interface AssertionResult {
  text: string;
  assertion: Assertion;
  state: AssertionState;
  /** The window's figure so far; null without data. */
  value: number | null;
  detail?: string;
}

/** `scenario:status` and the `scenario` event. */
export interface ScenarioStatus {
  state: ScenarioState;
  /** Built-in id or file name; null when none is loaded. */
  id: string | null;
  name: string | null;
  description: string | null;
  durationS: number;
  /** Scenario seconds elapsed (the clock stops while paused). */
  elapsedS: number;
  steps: StepStatus[];
  assertions: AssertionResult[];
  /** Wall-clock ms of the start and the end, for the report's window. */
  startedAt: number | null;
  endedAt: number | null;
  spec: StackSpec | null;
  /** Why it aborted, or what failed. */
  error: string | null;
}

/** A built-in scenario in `scenario:list`. */
export interface ScenarioSummary {
  id: string;
  name: string;
  description: string;
  durationS: number;
}

/** `scenario:load`: a built-in by id, or a scenario's text (YAML or JSON) with its file name. */
/**
 * The longest scenario source accepted, characters. 500 steps and 100 assertions fit in well under
 * half of it; parsing YAML costs about 15 ms per KiB on a busy machine, so a bigger file (20,000
 * steps) is refused before parsing instead of holding the control plane for seconds.
 */
export const SCENARIO_SOURCE_MAX_CHARS = 128 * 1024;

export const ScenarioLoadSchema = Type.Object(
  {
    builtin: Type.Optional(Type.String({ pattern: '^[a-z0-9-]{1,40}$' })),
    source: Type.Optional(Type.String({ maxLength: SCENARIO_SOURCE_MAX_CHARS })),
    fileName: Type.Optional(Type.String({ maxLength: 255 })),
    /** Extra assertions in text form (`--assert`). */
    assert: Type.Optional(Type.Array(Type.String({ maxLength: 200 }), { maxItems: 50 })),
  },
  { additionalProperties: false },
);

/** `report:export`: a window of the telemetry (ms since epoch); the last 5 minutes when absent. */
export const ReportExportSchema = Type.Object(
  {
    from: Type.Optional(Type.Integer({ minimum: 0 })),
    to: Type.Optional(Type.Integer({ minimum: 0 })),
    title: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

/** A report: self-contained HTML, and the raw samples as JSON, with suggested file names. */
export interface ExportedReport {
  html: string;
  json: string;
  fileName: string;
}
