/**
 * The Kubernetes autoscaling/v2 HorizontalPodAutoscaler algorithm as a pure function: readings in,
 * a decision and the state to keep out. It follows pkg/controller/podautoscaler
 * (replica_calculator.go for the per-metric proposals, horizontal.go for the range checks,
 * stabilization and policies) so that what ScaleLab shows is what a cluster would do.
 */
import { describeLimit, limitRate, pruneState, stabilize, type Limited } from './hpa-behavior.js';
import type {
  Behavior,
  Decision,
  LimitReason,
  MetricKind,
  MetricProposal,
  MetricTarget,
  PodMetricKind,
  PodReading,
  ScalingPolicy,
  ScalingRules,
} from '../../hpa-types.js';
import { NamedError } from '../../../backend/named-error.js';

export type {
  Behavior,
  Decision,
  LimitReason,
  MetricKind,
  MetricProposal,
  MetricTarget,
  PodReading,
  ScalingPolicy,
  ScalingRules,
} from '../../hpa-types.js';

/** The tolerance Kubernetes uses when none is configured. */
export const DEFAULT_TOLERANCE = 0.1;

/** What the HPA is told to do. */
export interface HpaSpec {
  /** 0 is allowed (workers scaled to zero come back through the queue metric). */
  minReplicas: number;
  maxReplicas: number;
  metrics: MetricTarget[];
  behavior: Behavior;
  /** Usage ratios within 1 ± tolerance change nothing. @defaultValue 0.1 */
  tolerance: number;
}

/** What the HPA remembers between syncs: its recent recommendations and the scale events it made. */
export interface HpaState {
  recommendations: { t: number; replicas: number }[];
  scaleEvents: { t: number; change: number }[];
}

/** One sync's input. */
export interface HpaInput {
  /** ms since epoch */
  now: number;
  currentReplicas: number;
  pods: PodReading[];
  /** total jobs waiting, for the queue metric; null = unknown */
  queueDepth?: number | null;
  spec: HpaSpec;
  state: HpaState;
}

/** Kubernetes' default behavior: scale up fast (double or +4 every 15 s), scale down after 5 minutes of lower recommendations. */
export const DEFAULT_BEHAVIOR: Behavior = {
  scaleUp: {
    stabilizationWindowSeconds: 0,
    selectPolicy: 'Max',
    policies: [
      { type: 'Percent', value: 100, periodSeconds: 15 },
      { type: 'Pods', value: 4, periodSeconds: 15 },
    ],
  },
  scaleDown: { stabilizationWindowSeconds: 300, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
};

/** Thrown by {@link decide} for a spec Kubernetes' validation would refuse. */
export class HpaSpecError extends NamedError {}

/** How values read after the metric's name ("rps 120/replica vs target 30/replica"), and a value of nothing. */
const UNITS: Record<MetricKind, { value: string; target: string; zero: string }> = {
  cpu: { value: ' %', target: ' %', zero: '0 %' },
  rps: { value: '/replica', target: '/replica', zero: '0 rps' },
  p95: { value: ' ms', target: ' ms', zero: '0 ms' },
  queue: { value: ' jobs', target: ' jobs/worker', zero: '0 jobs' },
};

const num = (n: number) => String(Math.round(n * 10) / 10);
const ratio2 = (r: number) => r.toFixed(2);
const pods = (n: number) => `${n} ${n === 1 ? 'pod' : 'pods'}`;
const reps = (n: number) => `${n} ${n === 1 ? 'replica' : 'replicas'}`;

function validate(spec: HpaSpec): void {
  const bad = (what: string) => new HpaSpecError(`invalid HPA spec: ${what}`);
  if (!Number.isInteger(spec.minReplicas) || spec.minReplicas < 0) throw bad(`minReplicas ${spec.minReplicas} must be a whole number ≥ 0`);
  if (!Number.isInteger(spec.maxReplicas) || spec.maxReplicas < Math.max(1, spec.minReplicas))
    throw bad(`maxReplicas ${spec.maxReplicas} must be ≥ 1 and ≥ minReplicas`);
  if (!(spec.tolerance >= 0)) throw bad(`tolerance ${spec.tolerance} must be ≥ 0`);
  for (const m of spec.metrics) if (!(m.target > 0)) throw bad(`${m.kind} target ${m.target} must be > 0`);
  for (const rules of [spec.behavior.scaleUp, spec.behavior.scaleDown]) {
    if (!(rules.stabilizationWindowSeconds >= 0)) throw bad('stabilizationWindowSeconds must be ≥ 0');
    for (const p of rules.policies)
      if (!(p.value > 0) || !(p.periodSeconds > 0)) throw bad(`policy ${p.type} ${p.value} / ${p.periodSeconds} s must be > 0`);
  }
}

/** Kubernetes' tolerance test (`Tolerances.isWithin`), written as bounds so that 55/50 counts as 1.1. */
const within = (ratio: number, tolerance: number) => 1 - tolerance <= ratio && ratio <= 1 + tolerance;

function mean(kind: PodMetricKind, values: number[]): number {
  const avg = values.reduce((a, b) => a + b, 0) / values.length;
  // Kubernetes computes cpu utilization in whole percent (integer division); the epsilon keeps 29.999… at 30.
  return kind === 'cpu' ? Math.trunc(avg + 1e-9) : avg;
}

/** replica_calculator.go GetResourceReplicas / calcPlainMetricReplicas for one per-pod metric. */
function podMetricProposal(
  kind: PodMetricKind,
  target: number,
  readings: PodReading[],
  current: number,
  tolerance: number,
): MetricProposal {
  const unit = UNITS[kind];
  const unready: string[] = [];
  const missing: string[] = [];
  const values: number[] = [];
  for (const pod of readings) {
    const v = pod.values[kind];
    if (!pod.ready) unready.push(pod.id);
    else if (v === null || v === undefined || !Number.isFinite(v)) missing.push(pod.id);
    else values.push(v);
  }
  const base = { kind, target, readyPods: values.length, setAside: { unready, missing } };
  if (values.length === 0) {
    const why = readings.length === 0 ? 'no replicas' : `no ready replica reported ${kind}`;
    return { ...base, value: null, ratio: null, rawRatio: null, replicas: null, notes: [why], summary: `${kind}: ${why}` };
  }
  const value = mean(kind, values);
  const rawRatio = value / target;
  const notes: string[] = [];
  const setAsideCount = unready.length + missing.length;
  let summary = `${kind} ${num(value)}${unit.value} vs target ${num(target)}${unit.target}${setAsideCount > 0 ? ` on ${values.length} of ${readings.length} pods` : ''} → ratio ${ratio2(rawRatio)}`;
  const hold = (note: string) => {
    notes.push(note);
    summary += `, ${note} → stays at ${current}`;
    return current;
  };
  const rebalanceUnready = unready.length > 0 && rawRatio > 1;
  if (!rebalanceUnready && missing.length === 0) {
    if (unready.length > 0) notes.push(`${pods(unready.length)} unready, left out`);
    const inBand = within(rawRatio, tolerance);
    const replicas = inBand ? hold(`within tolerance (±${num(tolerance * 100)} %)`) : Math.ceil(rawRatio * values.length);
    if (!inBand) summary += ` → ${reps(replicas)}`;
    return { ...base, value, ratio: rawRatio, rawRatio, replicas, notes, summary };
  }

  const filled = [...values];
  const assumed: string[] = [];
  if (missing.length > 0 && rawRatio !== 1) {
    // Scale-down: a silent pod might be busy, assume it at the target (cpu: its whole request).
    // Scale-up: assume it idle. Both make the move smaller, never larger.
    const fallback = rawRatio < 1 ? (kind === 'cpu' ? Math.max(100, target) : target) : 0;
    filled.push(...missing.map(() => fallback));
    const at = rawRatio > 1 ? unit.zero : kind === 'cpu' ? `${num(fallback)} %` : '100 % of target';
    assumed.push(`${pods(missing.length)} without ${kind} assumed at ${at} (scale-${rawRatio > 1 ? 'up' : 'down'})`);
  }
  if (rebalanceUnready) {
    // An unready pod is starting up: count it, at zero, so the scale-up is not overstated.
    filled.push(...unready.map(() => 0));
    assumed.push(`${unready.length} unready ${unready.length === 1 ? 'pod' : 'pods'} assumed at ${unit.zero} (scale-up)`);
  } else if (unready.length > 0) {
    notes.push(`${pods(unready.length)} unready, left out`);
  }
  notes.push(...assumed);
  const ratio = mean(kind, filled) / target;
  if (assumed.length > 0) summary += `; ${assumed.join(', ')} → ratio ${ratio2(ratio)}`;
  const out = { ...base, value, ratio, rawRatio, notes };
  if (within(ratio, tolerance)) return { ...out, replicas: hold(`within tolerance (±${num(tolerance * 100)} %)`), summary };
  if ((rawRatio < 1 && ratio > 1) || (rawRatio > 1 && ratio < 1))
    return { ...out, replicas: hold('recomputed ratio reverses direction'), summary };
  const replicas = Math.ceil(ratio * filled.length);
  if ((ratio < 1 && replicas > current) || (ratio > 1 && replicas < current)) {
    return { ...out, replicas: hold(`${reps(replicas)} would move against the ratio`), summary };
  }
  return { ...out, replicas, summary: `${summary} → ${reps(replicas)}` };
}

/** replica_calculator.go GetExternalPerPodMetricReplicas: an external total averaged over the replicas. */
function queueProposal(
  target: number,
  total: number | null | undefined,
  current: number,
  readyPods: number,
  tolerance: number,
): MetricProposal {
  const base = { kind: 'queue' as const, target, readyPods, setAside: { unready: [], missing: [] } };
  if (total === null || total === undefined || !Number.isFinite(total)) {
    return {
      ...base,
      value: null,
      ratio: null,
      rawRatio: null,
      replicas: null,
      notes: ['queue depth unknown'],
      summary: 'queue: depth unknown',
    };
  }
  const head = `queue ${num(total)} jobs vs target ${num(target)} jobs/worker`;
  const needed = Math.ceil(total / target);
  if (current === 0) {
    // Kubernetes divides by zero here (ratio +Inf, or NaN for an empty queue) and lands on ceil(total / target).
    const note = needed > 0 ? 'activation from zero' : 'queue empty, stays at zero';
    return {
      ...base,
      value: total,
      ratio: null,
      rawRatio: null,
      replicas: needed,
      notes: [note],
      summary: `${head}, no workers → ${note === 'activation from zero' ? `${reps(needed)} (${note})` : 'stays at 0'}`,
    };
  }
  const ratio = total / (target * current);
  const summary = `${head} × ${current} → ratio ${ratio2(ratio)}`;
  if (within(ratio, tolerance)) {
    const note = `within tolerance (±${num(tolerance * 100)} %)`;
    return {
      ...base,
      value: total,
      ratio,
      rawRatio: ratio,
      replicas: current,
      notes: [note],
      summary: `${summary}, ${note} → stays at ${current}`,
    };
  }
  return { ...base, value: total, ratio, rawRatio: ratio, replicas: needed, notes: [], summary: `${summary} → ${reps(needed)}` };
}

function proposalsFor(input: HpaInput): MetricProposal[] {
  const { spec, currentReplicas: current, pods: readings } = input;
  const ready = readings.filter((p) => p.ready).length;
  return spec.metrics.map((m) =>
    m.kind === 'queue'
      ? queueProposal(m.target, input.queueDepth, current, ready, spec.tolerance)
      : podMetricProposal(m.kind, m.target, readings, current, spec.tolerance),
  );
}

/** The metrics part of the explanation: the deciding metric, then the others in brackets. */
function describeMetrics(proposals: MetricProposal[], metricReplicas: number): string {
  const decider = proposals.find((p) => p.replicas === metricReplicas) ?? proposals[0];
  if (!decider) return 'no metrics configured';
  const others = proposals
    .filter((p) => p !== decider)
    .map((p) => (p.replicas === null ? `${p.kind} no data` : `${p.kind} → ${p.replicas}`));
  return others.length > 0 ? `${decider.summary} (${others.join(', ')})` : decider.summary;
}

/**
 * One HPA sync. Pure: the returned state has this sync's recommendation added and whatever no later
 * sync can use pruned; the input is not touched.
 *
 * @throws {@link HpaSpecError} when the spec is invalid.
 */
export function decide(input: HpaInput): { decision: Decision; state: HpaState } {
  const { now: t, currentReplicas: current, spec } = input;
  validate(spec);
  const proposals = proposalsFor(input);
  const withData = proposals.filter((p) => p.replicas !== null).map((p) => p.replicas as number);
  const metricReplicas = withData.length > 0 ? Math.max(...withData) : current;
  const pruned = pruneState(t, spec.behavior, input.state);
  const unstabilized = { replicas: current, upWindow: [], downWindow: [] };

  // horizontal.go reconcileAutoscaler: outside [min, max] the count is corrected before metrics count.
  const outOfRange: [number, LimitReason, string] | null =
    current > spec.maxReplicas
      ? [spec.maxReplicas, 'TooManyReplicas', `${reps(current)} above max ${spec.maxReplicas}`]
      : current < spec.minReplicas
        ? [spec.minReplicas, 'TooFewReplicas', `${reps(current)} below min ${spec.minReplicas}`]
        : null;
  if (outOfRange) {
    const [desired, reason, why] = outOfRange;
    const decision: Decision = {
      t,
      currentReplicas: current,
      proposals,
      metricReplicas,
      stabilized: unstabilized,
      limited: { replicas: desired, reason, limit: desired },
      desired,
      explanation: `${why} → ${desired} (metrics not consulted until the count is in range)`,
    };
    return { decision, state: pruned };
  }

  if (withData.length === 0) {
    // Kubernetes fails the sync here: nothing is recorded and nothing moves.
    const missing = proposals.map((p) => p.summary).join('; ') || 'no metrics configured';
    const decision: Decision = {
      t,
      currentReplicas: current,
      proposals,
      metricReplicas,
      stabilized: unstabilized,
      limited: { replicas: current, reason: null, limit: null },
      desired: current,
      explanation: `no metric has data (${missing}) → stays at ${current}`,
    };
    return { decision, state: pruned };
  }

  const stab = stabilize(t, current, metricReplicas, spec.behavior, pruned.recommendations);
  const limited: Limited = limitRate(t, current, stab.replicas, spec, pruned.scaleEvents);
  const clauses = [describeMetrics(proposals, metricReplicas)];
  if (stab.replicas !== metricReplicas) {
    const up = metricReplicas > current;
    const rules = up ? spec.behavior.scaleUp : spec.behavior.scaleDown;
    const held = up ? `lowest recommendation ${stab.upRecommendation}` : `highest recommendation ${stab.downRecommendation}`;
    clauses.push(`held at ${stab.replicas} by the ${rules.stabilizationWindowSeconds} s scale-${up ? 'up' : 'down'} window (${held})`);
  }
  const limitClause = describeLimit(limited, stab.replicas, current, spec);
  if (limitClause) clauses.push(limitClause);
  else if (stab.replicas === current && metricReplicas === current && !clauses[0]?.includes('stays at')) clauses.push('no change');

  const decision: Decision = {
    t,
    currentReplicas: current,
    proposals,
    metricReplicas,
    stabilized: { replicas: stab.replicas, upWindow: stab.upWindow, downWindow: stab.downWindow },
    limited: { replicas: limited.replicas, reason: limited.reason, limit: limited.limit },
    desired: limited.replicas,
    explanation: clauses.join('; '),
  };
  return { decision, state: { ...pruned, recommendations: [...pruned.recommendations, { t, replicas: metricReplicas }] } };
}

/** Records a scale the runtime really made, so the next syncs' policies count it. */
export function recordScaleEvent(state: HpaState, t: number, from: number, to: number): HpaState {
  if (from === to) return state;
  return { ...state, scaleEvents: [...state.scaleEvents, { t, change: to - from }] };
}
