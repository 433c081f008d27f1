/**
 * The contract's vocabulary of a running stack: its instances and their phases, the runtimes'
 * probes, `stack:status`, the Sample telemetry sends each second, and the timeline's events.
 * Re-exported by contract.ts; like every *-spec.ts it imports nothing of the control plane.
 */
import type { AutoscalerGauge } from './autoscaler-spec.js';
import type { ChaosStatus } from './chaos-spec.js';
import type { DataSample } from './data-spec.js';
import type { CpuLimitStatus, RuntimeName, ServiceName, StackSpec } from './stack-spec.js';
import type { TrafficSecond } from './traffic-spec.js';
// ---------------------------------------------------------------------------------------------
// Instances, probes, status

export const PHASES = ['starting', 'ready', 'terminating', 'crashed', 'paused', 'stopped'] as const;
export type Phase = (typeof PHASES)[number];

/** One running (or restarting) process, container or pod of the stack. */
export interface Instance {
  /** e.g. `api-3`, `worker-1`, `redis`, `postgres`. */
  id: string;
  service: ServiceName;
  phase: Phase;
  /** Times the runtime restarted it after it exited on its own. */
  restarts: number;
  pid?: number;
  /** Port on 127.0.0.1 it listens on, if any. */
  port?: number;
  /** When the current incarnation started (ms since epoch). */
  startedAt: number;
}

/** Whether a runtime is usable here, and if not why and how to fix it. */
export interface Probe {
  runtime: RuntimeName;
  available: boolean;
  version?: string;
  reason?: string;
  fix?: string;
  /** What the Kubernetes probe found. */
  kubernetes?: KubeProbe;
}

/** The kubeconfig and cluster as the Kubernetes probe saw them. */
export interface KubeProbe {
  contexts: string[];
  /** The context used (the kubeconfig's current one unless the spec names another). */
  context: string;
  server: string;
  reachable: boolean;
  minikube: boolean;
  /** metrics.k8s.io is served: the HPA and the pods' cpu need it. */
  metricsServer: boolean;
}

/** Where the stack and the control plane answer. */
export interface Endpoints {
  balancer: string;
  dashboard: string;
  /** The control plane's OTLP/HTTP receiver (replicas' OTEL_EXPORTER_OTLP_ENDPOINT), when it runs. */
  traces?: string;
}

export type StackState = 'stopped' | 'starting' | 'running' | 'stopping';

export interface StackStatus {
  state: StackState;
  spec: StackSpec | null;
  runtime: RuntimeName | null;
  instances: Instance[];
  endpoints: Endpoints | null;
  sample: Sample | null;
  /** The cpu limits per replica and whether this runtime enforces them; null when nothing runs. */
  cpuLimits?: CpuLimitStatus | null;
}

// ---------------------------------------------------------------------------------------------
// Telemetry

/** Latency percentiles in milliseconds (null when nothing was measured). */
export interface Percentiles {
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

/** Per-instance figures of one second. */
export interface InstanceSample extends Percentiles {
  id: string;
  service: ServiceName;
  phase: Phase;
  ready: boolean;
  restarts: number;
  /** cpu % of one core (100 = one core busy). */
  cpu: number | null;
  rssBytes: number | null;
  /** Requests/s the balancer sent to it (api only). */
  rps: number | null;
  errorsPerSec: number | null;
  inFlight: number | null;
  eventLoopLagMs: number | null;
  /** Its cpu request and limit in millicores (spec `resources.<service>.cpu`); null: none. */
  cpuLimitMillicores?: number | null;
  /** How much its cpu limit held it back; null without a limit or where it is not measured. */
  throttling?: CpuThrottling | null;
}

/** A cpu-limited replica's throttling, from its cgroup's (or container's) CFS counters. */
export interface CpuThrottling {
  /** Share of the interval's scheduler periods (100 ms each) in which it used its whole quota and had to wait, 0..1; null on the first reading. */
  throttledShare: number | null;
  /** Seconds its threads spent waiting for the next period, per second of the interval (cAdvisor's rate of cfs_throttled_seconds); null on the first reading. */
  throttledSecondsPerSec: number | null;
  /** Totals since its cgroup (or container) was made: counters, as Prometheus wants them. */
  periodsTotal: number;
  throttledPeriodsTotal: number;
  throttledSecondsTotal: number;
}

/**
 * One second of the stack, as the dashboard draws it. Rates are per second over the last interval;
 * counters are totals since the stack started.
 */
export interface Sample {
  /** ms since epoch. */
  t: number;
  stack: string;
  traffic: Percentiles & {
    rps: number;
    errorsPerSec: number;
    /** Requests/s by status class. */
    status: { '2xx': number; '3xx': number; '4xx': number; '5xx': number };
    /** Balancer-side failures (no upstream ready, upstream unreachable) per second. */
    proxyErrorsPerSec: number;
    inFlight: number;
  };
  instances: InstanceSample[];
  replicas: { api: number; apiReady: number; worker: number };
  cache: {
    up: boolean;
    hitsPerSec: number;
    missesPerSec: number;
    /** hits / (hits + misses) over the interval, null with no lookups. */
    hitRate: number | null;
    memoryBytes: number | null;
    keys: number | null;
    opsPerSec: number | null;
  };
  queue: {
    up: boolean;
    waiting: number;
    active: number;
    delayed: number;
    failed: number;
    completedPerSec: number;
    failedPerSec: number;
  };
  db: {
    up: boolean;
    connections: number | null;
    commitsPerSec: number | null;
    rollbacksPerSec: number | null;
  };
  /** The autoscalers that are on, each with its metric against its target; null when none is. */
  autoscaler: { mode: 'emulated' | 'hpa'; services: AutoscalerGauge[] } | null;
  /** The load generator's last second; null when no traffic run has happened. */
  generator: TrafficSecond | null;
  /** Writes acknowledged so far, and the last check's verified / lost (null before the first `writes:verify`). */
  writes: { acknowledged: number; verified: number | null; lost: number | null; lostIds: number[]; checkedAt: number | null };
  /** Faults in force and the monkey, for the dashboard. */
  chaos: ChaosStatus | null;
  /** The cpu limits per replica and whether they are enforced here; absent in older samples. */
  cpuLimits?: CpuLimitStatus | null;
  /** The data-layer patterns (read replica, event stream, partitions); absent in older samples. */
  data?: DataSample;
  /** Per endpoint (method and route), server-side, busiest first; absent in older samples. */
  routes?: RouteSample[];
}

/** One endpoint over the sample's interval, from the api replicas' own metrics; totals since telemetry first saw it. */
export interface RouteSample {
  method: string;
  /** The route's pattern, e.g. `/users/:id`. */
  route: string;
  rps: number;
  /** 5xx answers per second. */
  failuresPerSec: number;
  /** ms, interpolated in the replicas' histogram buckets; null with no request this interval. */
  p50: number | null;
  p95: number | null;
  requests: number;
  failures: number;
}

export const EVENT_KINDS = ['lifecycle', 'scaling', 'chaos', 'traffic', 'autoscaler', 'scenario'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** One entry of the stack's timeline. */
export interface TimelineEvent {
  t: number;
  kind: EventKind;
  level: 'info' | 'warn' | 'error';
  message: string;
  instance?: string;
}
