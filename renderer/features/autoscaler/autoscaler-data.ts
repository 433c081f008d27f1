import type {
  AutoscalerGauge,
  AutoscalerStatus,
  Decision,
  MetricKind,
  MetricProposal,
  ScalableService,
  ServiceAutoscalerStatus,
} from '../../../electron/contract.js';
import { formatValue, targetText } from '../../ui/format.js';

/** How a metric is named next to its number. */
export const METRIC_LABEL: Record<MetricKind, string> = {
  cpu: 'cpu',
  rps: 'rps per replica',
  p95: 'p95 latency',
  queue: 'jobs per worker',
};
/** The unit after a metric's value or target. */
export const METRIC_UNIT: Record<MetricKind, string> = { cpu: '%', rps: 'rps', p95: 'ms', queue: 'jobs' };
/** The target box's label in the form. */
export const TARGET_LABEL: Record<MetricKind, string> = { cpu: 'cpu %', rps: 'rps', p95: 'p95 ms', queue: 'jobs per worker' };

/** What the mode badge says: outside Kubernetes ScaleLab runs the HPA algorithm itself. */
export function modeLabel(mode: AutoscalerStatus['mode'] | undefined): string {
  return mode === 'hpa' ? 'Kubernetes HPA' : 'emulated HPA';
}

export function formatMetric(kind: MetricKind, value: number | null | undefined): string {
  return value === null || value === undefined ? '–' : `${formatValue(value)} ${METRIC_UNIT[kind]}`;
}

/** The proposal that drove a decision: the one proposing the most replicas (the HPA takes the largest). */
export function drivingProposal(decision: Decision | undefined): MetricProposal | undefined {
  if (!decision) return undefined;
  let best: MetricProposal | undefined;
  for (const p of decision.proposals) if (p.replicas !== null && (best === undefined || p.replicas > best.replicas!)) best = p;
  return best ?? decision.proposals[0];
}

/**
 * The metric as the gauge draws it, in the target's unit: a per-pod metric's average over the
 * ready pods that reported it (the first figure of the explanation), the queue's jobs per worker
 * (its proposal's value is the total). Set-aside pods, and the ratio recomputed with them, are in
 * the decision's inputs.
 */
export function gaugeValue(p: MetricProposal): number | null {
  if (p.kind !== 'queue') return p.value;
  return p.rawRatio === null ? null : p.rawRatio * p.target;
}

/** One service's autoscaler as the panel shows it. */
export interface ServiceView extends Omit<AutoscalerGauge, 'service'> {
  service: ScalableService;
  on: boolean;
  /** Every target, e.g. "cpu 50 %, 20 rps per replica". */
  targets: string;
  preset: string;
  syncPeriodSeconds: number;
  scaleDownWindowSeconds: number;
  lastSyncAt: number | null;
}

/**
 * The view of a service from its status (settings, last decision) and the replica count of this
 * second (the latest sample's gauge, else the running stack's spec). Null when its autoscaler never ran.
 */
export function serviceView(
  service: ScalableService,
  one: ServiceAutoscalerStatus | null | undefined,
  liveCurrent: number | undefined,
  replicas: number | undefined,
): ServiceView | null {
  if (!one) return null;
  const { config } = one;
  const last = one.decisions.at(-1);
  const driver = drivingProposal(last);
  const first = config.metrics[0]!;
  return {
    service,
    on: config.enabled,
    current: liveCurrent ?? replicas ?? one.current,
    desired: one.desired,
    min: config.minReplicas,
    max: config.maxReplicas,
    metric: driver?.kind ?? first.kind,
    value: driver ? gaugeValue(driver) : null,
    target: driver?.target ?? first.target,
    tolerance: config.tolerance,
    targets: config.metrics.map((m) => targetText(m.kind, m.target)).join(', '),
    preset: config.preset,
    syncPeriodSeconds: config.syncPeriodSeconds,
    scaleDownWindowSeconds: config.behavior.scaleDown.stabilizationWindowSeconds,
    lastSyncAt: one.lastSyncAt,
  };
}

/** Where the value stands: inside the band nothing moves; above it the HPA adds replicas, below it removes them. */
export type GaugeZone = 'none' | 'below' | 'within' | 'above';

/** The gauge's geometry in metric units: an axis from 0 to `axisMax`, the band, the marker. */
export interface GaugeShape {
  axisMax: number;
  bandLow: number;
  bandHigh: number;
  target: number;
  /** Clamped to the axis; null without a reading. */
  marker: number | null;
  /** The value is beyond the axis (the marker sits at its end). */
  offScale: boolean;
  zone: GaugeZone;
}

/** A round axis end: 1, 2, 2.5 or 5 × 10^n. */
function niceCeil(value: number): number {
  if (!(value > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= value - 1e-9) return step * magnitude;
  return 10 * magnitude;
}

/**
 * The gauge for a value against its target with the HPA's tolerance: the target sits at or before
 * the middle of the axis, and the axis grows with the value up to 4× the target (beyond, the
 * marker pins to the end, so the band never shrinks to a sliver).
 */
export function gaugeShape(value: number | null, target: number, tolerance: number): GaugeShape {
  const bandLow = target * (1 - tolerance);
  const bandHigh = target * (1 + tolerance);
  const axisMax = niceCeil(Math.min(Math.max(target * 2, bandHigh * 1.1, value ?? 0), target * 4));
  let zone: GaugeZone = 'none';
  if (value !== null) zone = value > bandHigh ? 'above' : value < bandLow ? 'below' : 'within';
  return {
    axisMax,
    bandLow,
    bandHigh,
    target,
    marker: value === null ? null : Math.min(Math.max(value, 0), axisMax),
    offScale: value !== null && value > axisMax,
    zone,
  };
}

/** What a decision did, in a few words: "2 → 4", "holds 3", "stays at 3". */
export function decisionChange(d: Decision): string {
  if (d.desired !== d.currentReplicas) return `${d.currentReplicas} → ${d.desired}`;
  return d.metricReplicas !== d.currentReplicas ? `holds ${d.currentReplicas}` : `stays at ${d.currentReplicas}`;
}

/**
 * Up to `count` decisions, newest first: the latest (where the autoscaler stands now), then the
 * changes before it (2 → 4, 5 → 1). The holds and stays between them are its ticks, a sync every
 * few seconds; listing them would push the real scale-down off the list within seconds.
 */
export function recentDecisions(one: ServiceAutoscalerStatus | null | undefined, count: number): Decision[] {
  const all = one?.decisions ?? [];
  const latest = all.at(-1);
  if (!latest || count < 1) return [];
  const shown = [latest];
  for (let i = all.length - 2; i >= 0 && shown.length < count; i -= 1) if (all[i]!.desired !== all[i]!.currentReplicas) shown.push(all[i]!);
  return shown;
}

/** One row of a decision's inputs table: a metric's reading and what it proposed. */
export interface ProposalRow {
  metric: string;
  value: string;
  target: string;
  ratio: string;
  replicas: string;
  readyPods: string;
  setAside: string;
  notes: string;
}

export function proposalRows(d: Decision): ProposalRow[] {
  return d.proposals.map((p) => {
    const aside = [
      p.setAside.unready.length > 0 ? `unready: ${p.setAside.unready.join(', ')}` : '',
      p.setAside.missing.length > 0 ? `no metric: ${p.setAside.missing.join(', ')}` : '',
    ].filter(Boolean);
    const ratio =
      p.ratio === null
        ? '–'
        : p.rawRatio !== null && Math.abs(p.rawRatio - p.ratio) > 0.005
          ? `${p.rawRatio.toFixed(2)} → ${p.ratio.toFixed(2)}`
          : p.ratio.toFixed(2);
    return {
      metric: p.kind,
      // The queue's value is the total waiting; its target is per worker.
      value: p.kind === 'queue' ? (p.value === null ? '–' : `${formatValue(p.value)} waiting`) : formatMetric(p.kind, p.value),
      target: p.kind === 'queue' ? `${formatValue(p.target)} per worker` : formatMetric(p.kind, p.target),
      ratio,
      replicas: p.replicas === null ? 'no data' : String(p.replicas),
      readyPods: String(p.readyPods),
      setAside: aside.length > 0 ? aside.join('; ') : 'none',
      notes: p.notes.join('; '),
    };
  });
}

/** The steps after the metrics: the windows' recommendations and the policy or range cap. */
export interface DecisionSteps {
  metricReplicas: number;
  stabilized: number;
  upWindow: string;
  downWindow: string;
  limited: number;
  cap: string;
  desired: number;
}

const LIMIT_TEXT: Record<NonNullable<Decision['limited']['reason']>, string> = {
  ScaleUpLimit: 'scale-up policy',
  ScaleDownLimit: 'scale-down policy',
  TooManyReplicas: 'max replicas',
  TooFewReplicas: 'min replicas',
  ScalingDisabled: 'scaling disabled',
};

export function decisionSteps(d: Decision): DecisionSteps {
  const list = (window: number[]) => (window.length === 0 ? 'empty' : window.join(', '));
  return {
    metricReplicas: d.metricReplicas,
    stabilized: d.stabilized.replicas,
    upWindow: list(d.stabilized.upWindow),
    downWindow: list(d.stabilized.downWindow),
    limited: d.limited.replicas,
    cap:
      d.limited.reason === null
        ? 'none'
        : `${LIMIT_TEXT[d.limited.reason]}${d.limited.limit === null ? '' : ` (limit ${d.limited.limit})`}`,
    desired: d.desired,
  };
}
