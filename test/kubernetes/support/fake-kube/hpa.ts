import type { IHorizontalPodAutoscaler, IHorizontalPodAutoscalerCondition, IMetricStatus } from 'kubernetes-models/autoscaling/v2';
import type { FakeCluster } from './cluster.js';
import { timestamp } from './json.js';
import { nextConditions, type PodObject, type WorkloadCondition } from './pod-template.js';
import { formatCpu, formatMemory, parseQuantity } from './quantity.js';
import { R, groupResource } from './resources.js';
import { matchesSelector, type LabelSelector } from './selectors.js';
import type { KubeObject } from './types.js';
import { NamedError } from '../../../../backend/named-error.js';

type HpaObject = IHorizontalPodAutoscaler & KubeObject;
type Condition = Omit<WorkloadCondition, 'lastUpdateTime' | 'lastTransitionTime'>;
type Target = KubeObject & { spec?: { replicas?: number; selector?: LabelSelector } };

/** Ratios this close to 1 change nothing: the controller's default --horizontal-pod-autoscaler-tolerance. */
const TOLERANCE = 0.1;

/** Thrown while computing a metric; becomes ScalingActive False with this message. */
class MetricError extends NamedError {}

interface Proposal {
  replicas: number;
  /** How the rescale reason names the metric: `cpu resource utilization (percentage of request)`. */
  metric: string;
  status: IMetricStatus;
}

/**
 * The horizontal-pod-autoscaler controller, every `hpaSyncMs`: reads the target's replicas and its
 * pods' usage (setPodMetrics) against their requests, proposes ceil(current × utilization / target)
 * outside a ±10% tolerance (see propose()), clamps to min/max and to the default scale-up rate, scales the target,
 * and writes status, conditions and Events with the real controller's reasons and messages.
 */
export class HpaController {
  /** Per HPA uid: recent recommendations, for spec.behavior stabilization windows. */
  private readonly recommendations = new Map<string, { at: number; replicas: number }[]>();

  constructor(private readonly cluster: FakeCluster) {
    cluster.timers.every(cluster.options.hpaSyncMs, () => this.syncAll());
  }

  /** Reconciles every HPA once (the timer calls this; tests may too). */
  syncAll(): void {
    const hpas = this.cluster.store.list<HpaObject>(R.hpa);
    const live = new Set(hpas.map((h) => h.metadata.uid));
    for (const uid of this.recommendations.keys()) if (!live.has(uid)) this.recommendations.delete(uid);
    for (const hpa of hpas) {
      try {
        this.sync(hpa);
      } catch (err) {
        this.cluster.log(`HPA ${hpa.metadata.namespace}/${hpa.metadata.name}: ${(err as Error).message}`);
      }
    }
  }

  private sync(hpa: HpaObject): void {
    const { store, events } = this.cluster;
    const namespace = hpa.metadata.namespace;
    const ref = hpa.spec?.scaleTargetRef;
    const targetType = ref?.kind === 'Deployment' ? R.deployment : ref?.kind === 'StatefulSet' ? R.statefulSet : undefined;
    const target = targetType && ref ? store.get<Target>(targetType, namespace, ref.name) : undefined;
    if (!target || !targetType) {
      const message = targetType
        ? `the HPA controller was unable to get the target's current scale: ${groupResource(targetType)} "${ref?.name}" not found`
        : `the HPA controller was unable to get the target's current scale: no matches for kind "${ref?.kind}" in group "${ref?.apiVersion?.split('/')[0] ?? ''}"`;
      events.record(
        hpa,
        'Warning',
        'FailedGetScale',
        message.replace("the HPA controller was unable to get the target's current scale: ", ''),
        'horizontal-pod-autoscaler',
      );
      this.writeStatus(
        hpa,
        hpa.status?.currentReplicas ?? 0,
        hpa.status?.desiredReplicas ?? 0,
        undefined,
        [{ type: 'AbleToScale', status: 'False', reason: 'FailedGetScale', message }],
        false,
      );
      return;
    }
    const current = target.spec?.replicas ?? 1;
    const min = hpa.spec?.minReplicas ?? 1;
    const max = hpa.spec?.maxReplicas ?? 1;
    let desired = current;
    let reason = '';
    let metrics: IMetricStatus[] | undefined;
    let active: Condition;
    let limited: Condition = {
      type: 'ScalingLimited',
      status: 'False',
      reason: 'DesiredWithinRange',
      message: 'the desired count is within the acceptable range',
    };

    if (current === 0 && min !== 0) {
      active = {
        type: 'ScalingActive',
        status: 'False',
        reason: 'ScalingDisabled',
        message: 'scaling is disabled since the replica count of the target is zero',
      };
    } else if (current > max) {
      [desired, reason] = [max, 'Current number of replicas above Spec.MaxReplicas'];
      active = {
        type: 'ScalingActive',
        status: 'True',
        reason: 'ValidMetricFound',
        message: 'the HPA was able to successfully calculate a replica count',
      };
    } else if (current < min) {
      [desired, reason] = [min, 'Current number of replicas below Spec.MinReplicas'];
      active = {
        type: 'ScalingActive',
        status: 'True',
        reason: 'ValidMetricFound',
        message: 'the HPA was able to successfully calculate a replica count',
      };
    } else {
      try {
        const proposals = (hpa.spec?.metrics ?? []).map((m) => this.propose(m, target, current));
        const best = proposals.reduce<Proposal | undefined>((a, p) => (!a || p.replicas > a.replicas ? p : a), undefined);
        metrics = proposals.map((p) => p.status);
        const recommended = this.stabilize(hpa, current, best?.replicas ?? current);
        active = {
          type: 'ScalingActive',
          status: 'True',
          reason: 'ValidMetricFound',
          message: `the HPA was able to successfully calculate a replica count from ${best?.metric ?? 'cpu resource utilization (percentage of request)'}`,
        };
        ({ desired, limited } = this.clamp(current, recommended, min, max));
        reason = desired > current ? `${best?.metric} above target` : 'All metrics below target';
      } catch (err) {
        if (!(err instanceof MetricError)) throw err;
        events.record(hpa, 'Warning', 'FailedGetResourceMetric', err.message, 'horizontal-pod-autoscaler');
        active = {
          type: 'ScalingActive',
          status: 'False',
          reason: 'FailedGetResourceMetric',
          message: `the HPA was unable to compute the replica count: ${err.message}`,
        };
      }
    }

    const rescale = desired !== current;
    let able: Condition = {
      type: 'AbleToScale',
      status: 'True',
      reason: 'ReadyForNewScale',
      message: 'recommended size matches current size',
    };
    if (rescale) {
      store.mutate<Target>(targetType, namespace, target.metadata.name, (t) => {
        t.spec = { ...t.spec, replicas: desired };
      });
      events.record(hpa, 'Normal', 'SuccessfulRescale', `New size: ${desired}; reason: ${reason}`, 'horizontal-pod-autoscaler');
      able = {
        type: 'AbleToScale',
        status: 'True',
        reason: 'SucceededRescale',
        message: `the HPA controller was able to update the target scale to ${desired}`,
      };
    }
    this.writeStatus(hpa, current, desired, metrics, [able, active, limited], rescale);
  }

  /**
   * One metric's proposal, as the real replica calculator makes it: ratio = usage / target over
   * the pods that have metrics, replicas = ceil(ratio × those pods) outside the tolerance. Pods
   * without metrics yet (just started) count as using nothing on a scale-up and their whole
   * request on a scale-down, so a fresh replica does not trigger another scale-up. With metrics
   * for every pod this is ceil(current × utilization / target). Throws MetricError.
   */
  private propose(
    metric: NonNullable<NonNullable<IHorizontalPodAutoscaler['spec']>['metrics']>[number],
    target: Target,
    current: number,
  ): Proposal {
    if (metric.type !== 'Resource' || !metric.resource)
      throw new MetricError(`the fake HPA controller only computes Resource metrics, not ${metric.type}`);
    const name = metric.resource.name;
    const goal = metric.resource.target;
    const pods = this.cluster.store
      .list<PodObject>(R.pod, target.metadata.namespace)
      .filter(
        (p) => !p.metadata.deletionTimestamp && p.status?.phase === 'Running' && matchesSelector(target.spec?.selector, p.metadata.labels),
      );
    const usageOf = (p: PodObject) => {
      const usage = this.cluster.metrics.valueOf(p.metadata.namespace ?? '', p.metadata.name);
      return usage && (name === 'memory' ? usage.memory : usage.cpu);
    };
    const measured = pods.filter((p) => usageOf(p) !== undefined);
    const missing = pods.filter((p) => usageOf(p) === undefined);
    if (measured.length === 0)
      throw new MetricError(
        `failed to get ${name} utilization: unable to get metrics for resource ${name}: no metrics returned from resource metrics API`,
      );
    const used = measured.reduce((sum, p) => sum + (usageOf(p) ?? 0), 0);
    const average = (name === 'memory' ? formatMemory : formatCpu)(used / measured.length);
    const utilizationGoal = goal.averageUtilization ?? 80;
    const valueGoal = parseQuantity(goal.averageValue ?? goal.value ?? '1');
    const byUtilization = goal.type === 'Utilization';
    const requestOf = (p: PodObject) =>
      (p.spec?.containers ?? []).reduce((sum, c) => {
        const request = c.resources?.requests?.[name];
        if (request === undefined)
          throw new MetricError(
            `failed to get ${name} utilization: missing request for ${name} in container ${c.name} of Pod ${p.metadata.name}`,
          );
        return sum + parseQuantity(request);
      }, 0);
    const ratioOf = (values: { pod: PodObject; used: number }[]) => {
      if (!byUtilization) return values.reduce((s, v) => s + v.used, 0) / values.length / valueGoal;
      const requested = values.reduce((s, v) => s + requestOf(v.pod), 0);
      return Math.floor((values.reduce((s, v) => s + v.used, 0) * 100) / requested) / utilizationGoal;
    };
    const values = measured.map((pod) => ({ pod, used: usageOf(pod) ?? 0 }));
    const ratio = ratioOf(values);
    let replicas: number;
    if (missing.length === 0) replicas = Math.abs(ratio - 1) <= TOLERANCE ? current : Math.ceil(ratio * measured.length);
    else {
      const assumed = (p: PodObject) =>
        ratio < 1 ? (byUtilization ? (requestOf(p) * Math.max(100, utilizationGoal)) / 100 : valueGoal) : 0;
      const all = [...values, ...missing.map((pod) => ({ pod, used: assumed(pod) }))];
      const next = ratioOf(all);
      const flipped = (ratio < 1 && next > 1) || (ratio > 1 && next < 1);
      replicas = Math.abs(next - 1) <= TOLERANCE || flipped ? current : Math.ceil(next * all.length);
      if ((next < 1 && replicas > current) || (next > 1 && replicas < current)) replicas = current;
    }
    if (!byUtilization)
      return { replicas, metric: `${name} resource`, status: { type: 'Resource', resource: { name, current: { averageValue: average } } } };
    const utilization = Math.floor((used * 100) / measured.reduce((s, p) => s + requestOf(p), 0));
    return {
      replicas,
      metric: `${name} resource utilization (percentage of request)`,
      status: { type: 'Resource', resource: { name, current: { averageUtilization: utilization, averageValue: average } } },
    };
  }

  /**
   * Holds scale-downs (and scale-ups) to the highest (lowest) recommendation of spec.behavior's
   * stabilization window. Without a behavior the fake uses no window: the real default of 300 s
   * for scale-down would make every test wait five minutes.
   */
  private stabilize(hpa: HpaObject, current: number, replicas: number): number {
    const uid = hpa.metadata.uid ?? '';
    const now = Date.now();
    const downMs = (hpa.spec?.behavior?.scaleDown?.stabilizationWindowSeconds ?? 0) * 1000;
    const upMs = (hpa.spec?.behavior?.scaleUp?.stabilizationWindowSeconds ?? 0) * 1000;
    const history = (this.recommendations.get(uid) ?? []).filter((r) => now - r.at <= Math.max(downMs, upMs));
    history.push({ at: now, replicas });
    this.recommendations.set(uid, history);
    if (replicas < current) return Math.min(current, Math.max(...history.filter((r) => now - r.at <= downMs).map((r) => r.replicas)));
    if (replicas > current) return Math.max(current, Math.min(...history.filter((r) => now - r.at <= upMs).map((r) => r.replicas)));
    return replicas;
  }

  /** The controller's rules without spec.behavior: min/max, and at most max(2 × current, 4) per step. */
  private clamp(current: number, replicas: number, min: number, max: number): { desired: number; limited: Condition } {
    const upLimit = Math.max(2 * current, 4);
    const [allowed, reason, message] =
      max > upLimit
        ? [upLimit, 'ScaleUpLimit', 'the desired replica count is increasing faster than the maximum scale rate']
        : [max, 'TooManyReplicas', 'the desired replica count is more than the maximum replica count'];
    if (replicas < min)
      return {
        desired: min,
        limited: {
          type: 'ScalingLimited',
          status: 'True',
          reason: 'TooFewReplicas',
          message: 'the desired replica count is less than the minimum replica count',
        },
      };
    if (replicas > allowed) return { desired: allowed, limited: { type: 'ScalingLimited', status: 'True', reason, message } };
    return {
      desired: replicas,
      limited: {
        type: 'ScalingLimited',
        status: 'False',
        reason: 'DesiredWithinRange',
        message: 'the desired count is within the acceptable range',
      },
    };
  }

  private writeStatus(
    hpa: HpaObject,
    current: number,
    desired: number,
    metrics: IMetricStatus[] | undefined,
    conditions: Condition[],
    rescaled: boolean,
  ): void {
    this.cluster.store.mutate<HpaObject>(R.hpa, hpa.metadata.namespace, hpa.metadata.name, (h) => {
      const previous = h.status?.conditions as WorkloadCondition[] | undefined;
      h.status = {
        observedGeneration: h.metadata.generation,
        ...(rescaled ? { lastScaleTime: timestamp() } : h.status?.lastScaleTime ? { lastScaleTime: h.status.lastScaleTime } : {}),
        ...(current ? { currentReplicas: current } : {}),
        desiredReplicas: desired,
        ...(metrics?.length ? { currentMetrics: metrics } : {}),
        conditions: nextConditions(previous, conditions, false) as IHorizontalPodAutoscalerCondition[],
      };
    });
  }
}
