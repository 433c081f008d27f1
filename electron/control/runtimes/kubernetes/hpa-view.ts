import { CoreV1Api, type KubeConfig, type KubernetesObjectApi, type V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import type {
  AutoscalerConfigureInput,
  AutoscalerGauge,
  AutoscalerStatus,
  HpaEvent,
  KubeHpaView,
  ScalableService,
} from '../../../contract.js';
import { apply, deleteOwned, readIfExists } from './kube-apply.js';
import { hpaObjects, KUBE_NAMES } from './manifests.js';
import { NamedError } from '../../../../backend/named-error.js';

/** The request cannot be expressed as a Kubernetes HPA here. */
export class HpaConfigError extends NamedError {}

const SERVICES: ScalableService[] = ['api', 'worker'];
const time = (t: Date | string | undefined) => (t ? new Date(t).getTime() : null);

/** One HPA object and its events as the panel shows them. */
export function hpaView(service: ScalableService, hpa: V2HorizontalPodAutoscaler, events: HpaEvent[]): KubeHpaView {
  const cpuTarget = hpa.spec?.metrics?.find((m) => m.type === 'Resource' && m.resource?.name === 'cpu')?.resource?.target
    .averageUtilization;
  const cpuNow = hpa.status?.currentMetrics?.find((m) => m.type === 'Resource' && m.resource?.name === 'cpu')?.resource?.current
    .averageUtilization;
  return {
    name: hpa.metadata?.name ?? KUBE_NAMES.workload(service),
    service,
    current: hpa.status?.currentReplicas ?? 0,
    desired: hpa.status?.desiredReplicas ?? 0,
    min: hpa.spec?.minReplicas ?? 1,
    max: hpa.spec?.maxReplicas ?? 1,
    targetCpu: cpuTarget ?? null,
    cpu: cpuNow ?? null,
    lastScaleTime: time(hpa.status?.lastScaleTime),
    conditions: (hpa.status?.conditions ?? []).map((c) => ({
      type: c.type,
      status: c.status,
      reason: c.reason ?? '',
      message: c.message ?? '',
    })),
    events,
  };
}

/** The HPA view as a Sample's gauge (cpu against its target, with the HPA's 10 % tolerance). */
export function hpaGauge(view: KubeHpaView): AutoscalerGauge {
  return {
    service: view.service,
    current: view.current,
    desired: view.desired,
    min: view.min,
    max: view.max,
    metric: 'cpu',
    value: view.cpu,
    target: view.targetCpu ?? 0,
    tolerance: 0.1,
  };
}

/** Reads the stack's HPAs and their latest events; a service without one is null. */
export async function readHpas(kc: KubeConfig, objects: KubernetesObjectApi, namespace: string): Promise<AutoscalerStatus> {
  const core = kc.makeApiClient(CoreV1Api);
  const views = await Promise.all(
    SERVICES.map(async (service) => {
      const name = KUBE_NAMES.workload(service);
      const hpa = await readIfExists<V2HorizontalPodAutoscaler>(objects, {
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: { name, namespace },
      });
      if (!hpa) return null;
      const list = await core
        .listNamespacedEvent({ namespace, fieldSelector: `involvedObject.kind=HorizontalPodAutoscaler,involvedObject.name=${name}` })
        .catch(() => ({ items: [] }));
      const events: HpaEvent[] = list.items
        .map((e) => ({
          at: time(e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp) ?? 0,
          type: e.type ?? 'Normal',
          reason: e.reason ?? '',
          message: e.message ?? '',
          count: e.count ?? 1,
        }))
        .sort((a, b) => a.at - b.at)
        .slice(-20);
      return hpaView(service, hpa, events);
    }),
  );
  return { mode: 'hpa', api: null, worker: null, hpa: { api: views[0] ?? null, worker: views[1] ?? null } };
}

/**
 * `autoscaler:configure` on Kubernetes: applies the service's HPA with the given bounds and cpu
 * target, or deletes it. Only cpu: rps, p95 and queue depth would need a custom-metrics adapter.
 */
export async function configureHpa(objects: KubernetesObjectApi, stack: string, input: AutoscalerConfigureInput): Promise<void> {
  const namespace = KUBE_NAMES.namespace(stack);
  const name = KUBE_NAMES.workload(input.service);
  if (input.enabled === false) {
    await deleteOwned(objects, { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name, namespace } }, stack);
    return;
  }
  const other = Object.keys(input.metrics ?? {}).filter((k) => k !== 'cpu');
  if (other.length > 0)
    throw new HpaConfigError(
      `the Kubernetes HPA scales on cpu here; ${other.join(', ')} would need a custom-metrics adapter in the cluster (give --cpu only)`,
    );
  const hpa = hpaObjects(stack).find((h) => h.metadata?.name === name)!;
  const spec = hpa.spec!;
  if (input.minReplicas !== undefined) spec.minReplicas = Math.max(1, input.minReplicas);
  if (input.maxReplicas !== undefined) spec.maxReplicas = input.maxReplicas;
  if ((spec.minReplicas ?? 1) > spec.maxReplicas)
    throw new HpaConfigError(`minReplicas ${spec.minReplicas} is above maxReplicas ${spec.maxReplicas}`);
  if (input.metrics?.cpu !== undefined) spec.metrics![0]!.resource!.target.averageUtilization = Math.round(input.metrics.cpu);
  const down = input.behavior?.scaleDown?.stabilizationWindowSeconds ?? (input.preset === 'demo' ? 30 : undefined);
  if (down !== undefined) spec.behavior = { scaleDown: { stabilizationWindowSeconds: down } };
  await apply(objects, hpa);
}
