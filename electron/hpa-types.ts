/**
 * The HPA's vocabulary, part of the contract (autoscaler-spec.ts re-exports it): a metric kind,
 * the autoscaling/v2 behavior, one metric's proposal and one sync's decision. The algorithm
 * (control/autoscaler/hpa.ts) imports these; the contract imports nothing of the control plane.
 */

export type MetricKind = 'cpu' | 'rps' | 'p95' | 'queue';
/** The metrics read per replica. */
export type PodMetricKind = Exclude<MetricKind, 'queue'>;

/** cpu: average utilization in % of each replica's cpu request; rps: requests/s per replica; p95: ms (per-replica p95 averaged); queue: jobs waiting per worker (external metric, AverageValue, KEDA-style). */
export interface MetricTarget {
  kind: MetricKind;
  target: number;
}

/** One replica's readings; a value that is null/undefined is a missing metric. */
export interface PodReading {
  id: string;
  ready: boolean;
  values: Partial<Record<PodMetricKind, number | null>>;
}

/** One rate limit: at most `value` pods or percent per `periodSeconds`. */
export interface ScalingPolicy {
  type: 'Pods' | 'Percent';
  value: number;
  periodSeconds: number;
}

/** One direction's behavior; `selectPolicy` Max lets the policy allowing the biggest change win. */
export interface ScalingRules {
  stabilizationWindowSeconds: number;
  selectPolicy: 'Max' | 'Min' | 'Disabled';
  policies: ScalingPolicy[];
}

/** The autoscaling/v2 `behavior` field. */
export interface Behavior {
  scaleUp: ScalingRules;
  scaleDown: ScalingRules;
}

/** What one metric proposes, with the numbers behind it. */
export interface MetricProposal {
  kind: MetricKind;
  target: number;
  /** the average the ratio was computed from (for queue: the total) — first pass, ready pods with metrics only */
  value: number | null;
  /** usage ratio = value / target (queue: total / (target × current)); after rebalancing set-aside pods when that happened */
  ratio: number | null;
  /** The first-pass ratio, before set-aside pods were assumed at anything. */
  rawRatio: number | null;
  /** this metric's replica proposal; null when it had no data at all (then it does not take part) */
  replicas: number | null;
  readyPods: number;
  setAside: { unready: string[]; missing: string[] };
  /** e.g. "within tolerance (±10 %)", "set-aside pods assumed at 0 % (scale-up)", "assumed at 100 % of target (scale-down)", "recomputed ratio reverses direction → no change" */
  notes: string[];
  /** One line, e.g. "cpu 82 % vs target 50 % → ratio 1.64 → 5 replicas". */
  summary: string;
}

export type LimitReason = 'ScaleUpLimit' | 'ScaleDownLimit' | 'TooManyReplicas' | 'TooFewReplicas' | 'ScalingDisabled';

/** One sync's decision, step by step. */
export interface Decision {
  t: number;
  currentReplicas: number;
  proposals: MetricProposal[];
  /** max over proposals (current when none had data) */
  metricReplicas: number;
  /** after stabilization; with the window's recommendations it looked at */
  stabilized: { replicas: number; upWindow: number[]; downWindow: number[] };
  /** after the behavior policies and min/max */
  limited: { replicas: number; reason: LimitReason | null; limit: number | null };
  desired: number;
  /** one line a person reads, e.g. "cpu 82 % vs target 50 % → ratio 1.64 → 5 replicas; capped by scale-up policy (4 pods / 15 s) → 4" */
  explanation: string;
}
