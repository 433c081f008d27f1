/**
 * The autoscaler's part of the contract: what `autoscaler:configure` takes and what
 * `autoscaler:status` answers. The algorithm's vocabulary (a decision, a proposal, the behavior)
 * is in hpa-types.ts, which the HPA module imports.
 */
import Type, { type Static } from 'typebox';
import type { Behavior, Decision, MetricKind } from './hpa-types.js';
import { MAX_REPLICAS } from './stack-spec.js';

export type { Behavior, Decision, LimitReason, MetricKind, MetricProposal, ScalingPolicy, ScalingRules } from './hpa-types.js';

const ScalingRulesSchema = Type.Object(
  {
    stabilizationWindowSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600 })),
    selectPolicy: Type.Optional(Type.Union([Type.Literal('Max'), Type.Literal('Min'), Type.Literal('Disabled')])),
    policies: Type.Optional(
      Type.Array(
        Type.Object(
          {
            type: Type.Union([Type.Literal('Pods'), Type.Literal('Percent')]),
            value: Type.Integer({ minimum: 1, maximum: 1000 }),
            periodSeconds: Type.Integer({ minimum: 1, maximum: 1800 }),
          },
          { additionalProperties: false },
        ),
        { minItems: 1, maxItems: 10 },
      ),
    ),
  },
  { additionalProperties: false },
);

/** Presets: `default` is the Kubernetes defaults; `demo` syncs every 3 s and scales down after 30 s, so a room sees results. */
export const AUTOSCALER_PRESETS = ['default', 'demo'] as const;
export type AutoscalerPreset = (typeof AUTOSCALER_PRESETS)[number];

/**
 * `autoscaler:configure`: turns a service's autoscaler on (or off) and sets any field; unset
 * fields keep their current value, or the preset's. Changes apply at the next sync.
 */
export const AutoscalerConfigureSchema = Type.Object(
  {
    service: Type.Union([Type.Literal('api'), Type.Literal('worker')]),
    /** @defaultValue true */
    enabled: Type.Optional(Type.Boolean()),
    /** Resets sync period and behavior to the preset's before the other fields apply. */
    preset: Type.Optional(Type.Union([Type.Literal('default'), Type.Literal('demo')])),
    /** Workers may go to 0 (a queue burst brings them back); api needs 1. @defaultValue 1 */
    minReplicas: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_REPLICAS })),
    /** @defaultValue 10 */
    maxReplicas: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_REPLICAS })),
    /** Targets; only the ones given are used (at least one). @defaultValue api: cpu 50 %; worker: 20 jobs per worker */
    metrics: Type.Optional(
      Type.Object(
        {
          /** Average cpu utilization, % of each replica's cpu request. */
          cpu: Type.Optional(Type.Number({ minimum: 1, maximum: 1000 })),
          /** Requests/s per replica. */
          rps: Type.Optional(Type.Number({ minimum: 0.1, maximum: 1_000_000 })),
          /** p95 latency, ms (the replicas' p95s averaged). */
          p95Ms: Type.Optional(Type.Number({ minimum: 1, maximum: 600_000 })),
          /** Jobs waiting per worker (workers only). */
          queuePerWorker: Type.Optional(Type.Number({ minimum: 1, maximum: 1_000_000 })),
        },
        { additionalProperties: false },
      ),
    ),
    /** @defaultValue 15 (demo: 3) */
    syncPeriodSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 300 })),
    /** @defaultValue 0.1 */
    tolerance: Type.Optional(Type.Number({ minimum: 0, maximum: 0.9 })),
    /**
     * What the cpu utilization is relative to, in millicores, for replicas without a cpu limit; a
     * replica with one (spec `resources.<service>.cpu`) is measured against its own. @defaultValue 500
     */
    cpuRequestMillicores: Type.Optional(Type.Integer({ minimum: 10, maximum: 64_000 })),
    behavior: Type.Optional(
      Type.Object(
        { scaleUp: Type.Optional(ScalingRulesSchema), scaleDown: Type.Optional(ScalingRulesSchema) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type AutoscalerConfigureInput = Static<typeof AutoscalerConfigureSchema>;

/** A service's autoscaler with every field resolved. */
export interface AutoscalerConfig {
  service: 'api' | 'worker';
  enabled: boolean;
  preset: AutoscalerPreset;
  minReplicas: number;
  maxReplicas: number;
  metrics: { kind: MetricKind; target: number }[];
  syncPeriodSeconds: number;
  tolerance: number;
  cpuRequestMillicores: number;
  behavior: Behavior;
}

/** One service's autoscaler: its settings, where it stands and its last decisions (newest last). */
export interface ServiceAutoscalerStatus {
  config: AutoscalerConfig;
  current: number;
  desired: number;
  lastSyncAt: number | null;
  decisions: Decision[];
  /** What cpu utilization is relative to now: the replicas' cpu limit (`resources`), or the autoscaler's own setting. */
  cpuRequest?: { millicores: number; from: 'resources' | 'autoscaler' };
}

/** A condition of a Kubernetes HPA (AbleToScale, ScalingActive, ScalingLimited), as the cluster wrote it. */
export interface HpaCondition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

/** An event the cluster recorded about an HPA (e.g. SuccessfulRescale with its reason). */
export interface HpaEvent {
  at: number;
  type: string;
  reason: string;
  message: string;
  count: number;
}

/** A real `autoscaling/v2` HorizontalPodAutoscaler of a stack on Kubernetes, as its status says. */
export interface KubeHpaView {
  name: string;
  service: 'api' | 'worker';
  current: number;
  desired: number;
  min: number;
  max: number;
  /** Target average cpu utilization, % of the pods' cpu request. */
  targetCpu: number | null;
  /** Current average cpu utilization; null until metrics-server has figures. */
  cpu: number | null;
  lastScaleTime: number | null;
  conditions: HpaCondition[];
  /** Newest last. */
  events: HpaEvent[];
}

/**
 * `autoscaler:status`. `emulated`: ScaleLab runs the HPA algorithm itself (local and Docker
 * runtimes). `hpa`: Kubernetes runs real HPAs; `hpa` holds what their status and events say.
 */
export interface AutoscalerStatus {
  mode: 'emulated' | 'hpa';
  api: ServiceAutoscalerStatus | null;
  worker: ServiceAutoscalerStatus | null;
  hpa?: { api: KubeHpaView | null; worker: KubeHpaView | null };
}

/** The `decision` event: one sync's decision for one service. */
export interface AutoscalerDecision {
  service: 'api' | 'worker';
  decision: Decision;
}

/** One service's autoscaler in a Sample: enough for a gauge with its tolerance band. */
export interface AutoscalerGauge {
  service: 'api' | 'worker';
  current: number;
  desired: number;
  min: number;
  max: number;
  /** The metric that drove the last decision (the largest proposal). */
  metric: MetricKind;
  value: number | null;
  target: number;
  tolerance: number;
}
