import type {
  AutoscalerConfig,
  AutoscalerDecision,
  AutoscalerConfigureInput,
  AutoscalerGauge,
  AutoscalerPreset,
  AutoscalerStatus,
  Sample,
  ScalableService,
  ServiceAutoscalerStatus,
  TimelineEvent,
} from '../../contract.js';
import {
  DEFAULT_BEHAVIOR,
  decide,
  recordScaleEvent,
  type Behavior,
  type Decision,
  type HpaState,
  type MetricKind,
  type PodReading,
} from './hpa.js';
import { NamedError } from '../../../backend/named-error.js';

/** A configuration the autoscaler cannot run (min above max, no metric, a metric the service has not). */
export class AutoscalerConfigError extends NamedError {}

/** Options of {@link Autoscaler}. */
export interface AutoscalerOptions {
  /** The latest telemetry sample (per-replica cpu, rps, p95; the queue). */
  latest: () => Sample | null;
  /** Whether a stack runs (syncs are skipped otherwise). */
  running: () => boolean;
  /** The service's replica count as the runtime was last asked to run it. */
  current: (service: ScalableService) => number;
  /** Scales through the control plane (queued behind other mutations); resolves once ready. */
  scale: (service: ScalableService, replicas: number) => Promise<void>;
  /** Puts a line on the timeline. */
  record: (event: Omit<TimelineEvent, 't'>) => void;
  /** Streams every decision. */
  onDecision?: (event: AutoscalerDecision) => void;
  /** @defaultValue Date.now */
  now?: () => number;
}

/** Decisions kept per service for `autoscaler:status`. */
const HISTORY = 100;
/** A sample older than this is not used for a decision (telemetry stalled or the stack restarted). */
const STALE_MS = 5_000;

const PRESETS: Record<AutoscalerPreset, { syncPeriodSeconds: number; behavior: Behavior }> = {
  default: { syncPeriodSeconds: 15, behavior: DEFAULT_BEHAVIOR },
  demo: {
    syncPeriodSeconds: 3,
    behavior: { ...DEFAULT_BEHAVIOR, scaleDown: { ...DEFAULT_BEHAVIOR.scaleDown, stabilizationWindowSeconds: 30 } },
  },
};

function defaults(service: ScalableService): AutoscalerConfig {
  return {
    service,
    enabled: false,
    preset: 'default',
    minReplicas: 1,
    maxReplicas: 10,
    metrics: service === 'api' ? [{ kind: 'cpu', target: 50 }] : [{ kind: 'queue', target: 20 }],
    syncPeriodSeconds: PRESETS.default.syncPeriodSeconds,
    tolerance: 0.1,
    cpuRequestMillicores: 500,
    behavior: PRESETS.default.behavior,
  };
}

/** Applies `input` over `config`: the preset first, then each field given. */
export function applyConfig(config: AutoscalerConfig, input: AutoscalerConfigureInput): AutoscalerConfig {
  const preset = input.preset ? PRESETS[input.preset] : undefined;
  const next: AutoscalerConfig = { ...config, ...(preset ? { preset: input.preset!, ...preset } : {}), enabled: input.enabled ?? true };
  if (input.minReplicas !== undefined) next.minReplicas = input.minReplicas;
  if (input.maxReplicas !== undefined) next.maxReplicas = input.maxReplicas;
  if (input.syncPeriodSeconds !== undefined) next.syncPeriodSeconds = input.syncPeriodSeconds;
  if (input.tolerance !== undefined) next.tolerance = input.tolerance;
  if (input.cpuRequestMillicores !== undefined) next.cpuRequestMillicores = input.cpuRequestMillicores;
  if (input.metrics) {
    const m = input.metrics;
    const given: { kind: MetricKind; target: number | undefined }[] = [
      { kind: 'cpu', target: m.cpu },
      { kind: 'rps', target: m.rps },
      { kind: 'p95', target: m.p95Ms },
      { kind: 'queue', target: m.queuePerWorker },
    ];
    next.metrics = given.filter((g): g is { kind: MetricKind; target: number } => g.target !== undefined);
  }
  if (input.behavior) {
    next.behavior = {
      scaleUp: { ...next.behavior.scaleUp, ...input.behavior.scaleUp },
      scaleDown: { ...next.behavior.scaleDown, ...input.behavior.scaleDown },
    };
  }
  if (next.metrics.length === 0) throw new AutoscalerConfigError('give at least one metric target (cpu, rps, p95Ms or queuePerWorker)');
  if (next.service === 'api' && next.metrics.some((m) => m.kind === 'queue'))
    throw new AutoscalerConfigError('queuePerWorker scales the workers; for api use cpu, rps or p95Ms');
  if (next.service === 'api' && next.minReplicas < 1)
    throw new AutoscalerConfigError('api needs at least 1 replica: minReplicas must be 1 or more');
  if (next.minReplicas > next.maxReplicas)
    throw new AutoscalerConfigError(`minReplicas (${next.minReplicas}) is above maxReplicas (${next.maxReplicas})`);
  return next;
}

interface ServiceLoop {
  config: AutoscalerConfig;
  state: HpaState;
  decisions: Decision[];
  lastSyncAt: number | null;
  timer: NodeJS.Timeout | undefined;
  busy: boolean;
  /**
   * The count of the last scale this loop asked for, until that scale has finished: the loop's
   * current count meanwhile, as Kubernetes' HPA reads the scale's spec.replicas, not its ready pods.
   */
  pending: number | undefined;
  /** The last scale asked for (resolved once it finished, never rejects). */
  scaling: Promise<void>;
  /** Explanation of the last decision put on the timeline, so a held decision is told once. */
  lastTold: string | undefined;
  /**
   * False until the first sync has put the current count into the window as a recommendation,
   * as Kubernetes does for a new HPA: turning the autoscaler on does not scale down at once.
   */
  seeded: boolean;
}

/**
 * The emulated HPA: every sync period it reads the latest sample, runs the Kubernetes
 * algorithm ({@link decide}) and scales the service through the control plane. Every decision
 * is kept with its inputs; the ones that change something (or start being held) go on the timeline.
 */
export class Autoscaler {
  private readonly loops: Record<ScalableService, ServiceLoop>;
  private readonly now: () => number;
  private closed = false;

  constructor(private readonly options: AutoscalerOptions) {
    this.now = options.now ?? Date.now;
    const loop = (service: ScalableService): ServiceLoop => ({
      config: defaults(service),
      state: { recommendations: [], scaleEvents: [] },
      decisions: [],
      lastSyncAt: null,
      timer: undefined,
      busy: false,
      pending: undefined,
      scaling: Promise.resolve(),
      lastTold: undefined,
      seeded: false,
    });
    this.loops = { api: loop('api'), worker: loop('worker') };
  }

  /** Turns a service's autoscaler on or off or changes its settings; applies from the next sync. */
  configure(input: AutoscalerConfigureInput): AutoscalerStatus {
    const loop = this.loops[input.service];
    const config = applyConfig(loop.config, input);
    if (config.enabled && !loop.config.enabled) loop.seeded = false;
    loop.config = config;
    clearInterval(loop.timer);
    loop.timer = undefined;
    if (config.enabled && !this.closed) {
      loop.timer = setInterval(() => void this.sync(input.service), config.syncPeriodSeconds * 1000);
      loop.timer.unref();
    }
    const targets = config.metrics.map((m) => `${m.kind} ${m.target}${TARGET_UNITS[m.kind]}`).join(', ');
    this.options.record({
      kind: 'autoscaler',
      level: 'info',
      message: config.enabled
        ? `autoscaler ${input.service}: ${targets}, ${config.minReplicas}–${config.maxReplicas} replicas, sync ${config.syncPeriodSeconds} s, scale-down window ${config.behavior.scaleDown.stabilizationWindowSeconds} s (${config.preset} preset)`
        : `autoscaler ${input.service}: off`,
    });
    return this.status();
  }

  status(): AutoscalerStatus {
    const one = (service: ScalableService): ServiceAutoscalerStatus | null => {
      const loop = this.loops[service];
      if (!loop.config.enabled && loop.decisions.length === 0) return null;
      const last = loop.decisions.at(-1);
      const current = this.options.running() ? this.options.current(service) : 0;
      const request = effectiveCpuRequest(this.options.latest(), service, loop.config.cpuRequestMillicores);
      return {
        config: loop.config,
        current,
        desired: last?.desired ?? current,
        lastSyncAt: loop.lastSyncAt,
        decisions: loop.decisions,
        cpuRequest: request,
      };
    };
    return { mode: 'emulated', api: one('api'), worker: one('worker') };
  }

  /** The enabled autoscalers for the Sample; null when none is on. */
  gauges(): Sample['autoscaler'] {
    const services: AutoscalerGauge[] = [];
    for (const service of ['api', 'worker'] as const) {
      const loop = this.loops[service];
      if (!loop.config.enabled) continue;
      const last = loop.decisions.at(-1);
      const driver = last ? [...last.proposals].filter((p) => p.replicas !== null).sort((a, b) => b.replicas! - a.replicas!)[0] : undefined;
      const metric = driver ?? loop.config.metrics[0]!;
      const current = this.options.running() ? this.options.current(service) : 0;
      services.push({
        service,
        current,
        desired: last?.desired ?? current,
        min: loop.config.minReplicas,
        max: loop.config.maxReplicas,
        metric: metric.kind,
        // The queue's proposal carries the total; the gauge compares per worker, like its target.
        value: driver?.value == null ? null : metric.kind === 'queue' ? driver.value / Math.max(current, 1) : driver.value,
        target: metric.target,
        tolerance: loop.config.tolerance,
      });
    }
    return services.length > 0 ? { mode: 'emulated', services } : null;
  }

  /**
   * One sync of one service: read, decide, and ask for the scale without waiting for its replicas:
   * the next syncs go on deciding while they start, as Kubernetes' HPA does (new replicas not yet
   * ready count as unready pods). Skipped when no stack runs or the latest sample is stale.
   * Returns the decision, if one was made; {@link settled} resolves once its scale has finished.
   */
  async sync(service: ScalableService): Promise<Decision | undefined> {
    const loop = this.loops[service];
    const sample = this.options.latest();
    const now = this.now();
    if (loop.busy || !loop.config.enabled || this.closed || !this.options.running() || !sample || now - sample.t > STALE_MS)
      return undefined;
    loop.busy = true;
    try {
      const current = loop.pending ?? this.options.current(service);
      const { config } = loop;
      if (!loop.seeded) {
        loop.state = { ...loop.state, recommendations: [...loop.state.recommendations, { t: now, replicas: current }] };
        loop.seeded = true;
      }
      const { decision, state } = decide({
        now,
        currentReplicas: current,
        pods: readings(sample, service, config.cpuRequestMillicores),
        queueDepth: sample.queue.up ? sample.queue.waiting : null,
        spec: {
          minReplicas: config.minReplicas,
          maxReplicas: config.maxReplicas,
          metrics: config.metrics,
          behavior: config.behavior,
          tolerance: config.tolerance,
        },
        state: loop.state,
      });
      loop.state = state;
      loop.lastSyncAt = now;
      loop.decisions.push(decision);
      if (loop.decisions.length > HISTORY) loop.decisions.splice(0, loop.decisions.length - HISTORY);
      this.options.onDecision?.({ service, decision });
      if (decision.desired !== current) {
        this.options.record({
          kind: 'autoscaler',
          level: 'info',
          message: `${service} ${current} → ${decision.desired}: ${decision.explanation}`,
        });
        loop.lastTold = undefined;
        loop.state = recordScaleEvent(loop.state, now, current, decision.desired);
        this.requestScale(service, loop, decision.desired, { t: now, change: decision.desired - current });
      } else if (decision.metricReplicas !== current && decision.explanation !== loop.lastTold) {
        // Held (stabilization, a policy, min/max): said once, not every sync.
        this.options.record({ kind: 'autoscaler', level: 'info', message: `${service} held at ${current}: ${decision.explanation}` });
        loop.lastTold = decision.explanation;
      }
      return decision;
    } catch (err) {
      this.options.record({ kind: 'autoscaler', level: 'error', message: `autoscaler ${service}: ${(err as Error).message}` });
      return undefined;
    } finally {
      loop.busy = false;
    }
  }

  /** Resolves once the scales asked for so far have finished (or failed: the timeline says so). */
  async settled(): Promise<void> {
    await Promise.all(Object.values(this.loops).map((loop) => loop.scaling));
  }

  /**
   * Asks for `replicas` (queued behind the scale before it, in the control plane). A failure goes on
   * the timeline and takes back its scale event, so the policies do not count a change never made.
   */
  private requestScale(service: ScalableService, loop: ServiceLoop, replicas: number, event: { t: number; change: number }): void {
    loop.pending = replicas;
    loop.scaling = this.options.scale(service, replicas).then(
      () => undefined,
      (err: unknown) => {
        const scaleEvents = loop.state.scaleEvents.filter((e) => e.t !== event.t || e.change !== event.change);
        loop.state = { ...loop.state, scaleEvents };
        this.options.record({ kind: 'autoscaler', level: 'error', message: `autoscaler ${service}: ${(err as Error).message}` });
      },
    );
    void loop.scaling.finally(() => {
      if (loop.pending === replicas) loop.pending = undefined;
    });
  }

  /** Forgets the windows and scale events (a stack stopped; the next one starts afresh). Settings stay. */
  reset(): void {
    for (const loop of Object.values(this.loops)) {
      loop.state = { recommendations: [], scaleEvents: [] };
      loop.seeded = false;
      loop.pending = undefined;
    }
  }

  /** Stops every loop. Safe to call twice. */
  close(): void {
    this.closed = true;
    for (const loop of Object.values(this.loops)) clearInterval(loop.timer);
  }
}

/** Units after a target: "cpu 50 %", "rps 30/replica", "p95 200 ms", "queue 20 jobs/worker". */
export const TARGET_UNITS: Record<MetricKind, string> = { cpu: ' %', rps: '/replica', p95: ' ms', queue: ' jobs/worker' };

/**
 * The service's replicas as the HPA sees pods: ready or not, with cpu as utilization of the
 * request (cpu % of one core ÷ request cores), requests/s and p95 latency; null where unmeasured.
 * A replica's request is its own cpu limit (spec `resources.<service>.cpu`, the quota its cgroup or
 * container enforces) when it has one, as Kubernetes divides by each pod's request; the
 * autoscaler's `cpuRequestMillicores` stands in only for replicas without one.
 */
export function readings(sample: Sample, service: ScalableService, cpuRequestMillicores: number): PodReading[] {
  return sample.instances
    .filter((i) => i.service === service)
    .map((i) => {
      const request = i.cpuLimitMillicores ?? cpuRequestMillicores;
      return { id: i.id, ready: i.ready, values: { cpu: i.cpu === null ? null : (i.cpu * 1000) / request, rps: i.rps, p95: i.p95 } };
    });
}

/** The request the cpu utilization of `service` is relative to: the replicas' limit when the latest sample has one. */
export function effectiveCpuRequest(
  sample: Sample | null,
  service: ScalableService,
  configured: number,
): { millicores: number; from: 'resources' | 'autoscaler' } {
  const limit = sample?.cpuLimits?.[service] ?? null;
  return limit === null ? { millicores: configured, from: 'autoscaler' } : { millicores: limit, from: 'resources' };
}
