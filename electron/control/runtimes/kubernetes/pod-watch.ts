import { CoreV1Api, makeInformer, type Informer, type KubeConfig, type ObjectCache, type V1Pod } from '@kubernetes/client-node';
import type { Instance, Phase, ServiceName } from '../../../contract.js';
import { SERVICES } from '../../../contract.js';
import { KUBE_LABELS, stackSelector } from './manifests.js';

/** The stores' instance ids: one pod each, named by its component rather than its pod. */
const STORE_IDS = new Set(['redis', 'postgres', 'postgres-replica']);

/**
 * A pod of the stack as an instance: api and worker pods by name, the stores by their component.
 * The read replica is a `postgres` instance with the id `postgres-replica`.
 */
export function podInstance(pod: V1Pod): Instance | undefined {
  const component = pod.metadata?.labels?.[KUBE_LABELS.component];
  if (!component || !(component === 'postgres-replica' || (SERVICES as readonly string[]).includes(component))) return undefined;
  const service: ServiceName = component === 'postgres-replica' ? 'postgres' : (component as ServiceName);
  const statuses = pod.status?.containerStatuses ?? [];
  const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  const waiting = statuses.map((s) => s.state?.waiting?.reason).find((r) => r && r !== 'ContainerCreating' && r !== 'PodInitializing');
  let phase: Phase;
  if (pod.metadata?.deletionTimestamp) phase = 'terminating';
  else if (pod.status?.phase === 'Failed' || waiting) phase = 'crashed';
  else if (pod.status?.phase === 'Succeeded') phase = 'stopped';
  else if (pod.status?.phase === 'Running' && ready) phase = 'ready';
  else phase = 'starting';
  const started = pod.status?.startTime ?? pod.metadata?.creationTimestamp;
  return {
    id: STORE_IDS.has(component) ? component : (pod.metadata?.name ?? 'unknown'),
    service,
    phase,
    restarts: statuses.reduce((sum, s) => sum + (s.restartCount ?? 0), 0),
    startedAt: started ? new Date(started).getTime() : Date.now(),
  };
}

/** Options of {@link PodWatch}. */
export interface PodWatchOptions {
  kc: KubeConfig;
  namespace: string;
  stack: string;
  /** Called on every add, update and delete. */
  onChange: () => void;
  /** The watch broke and is being restarted. */
  onError?: (err: unknown) => void;
}

/**
 * The stack's pods through an informer (list, then watch from its resourceVersion, relisting on
 * 410 Gone). Only pods labelled with the stack are listed or watched.
 */
export class PodWatch {
  private informer: (Informer<V1Pod> & ObjectCache<V1Pod>) | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: PodWatchOptions) {}

  async start(): Promise<void> {
    const { kc, namespace, stack } = this.options;
    const core = kc.makeApiClient(CoreV1Api);
    const selector = stackSelector(stack);
    const informer = makeInformer(
      kc,
      `/api/v1/namespaces/${namespace}/pods`,
      () => core.listNamespacedPod({ namespace, labelSelector: selector }),
      selector,
    );
    const changed = () => this.options.onChange();
    informer.on('add', changed);
    informer.on('update', changed);
    informer.on('delete', changed);
    informer.on('error', (err) => {
      this.options.onError?.(err);
      if (this.closed) return;
      // The informer stops on an error; start it again after a breath, relisting.
      clearTimeout(this.restartTimer);
      this.restartTimer = setTimeout(() => void informer.start().catch(() => undefined), 1000);
      this.restartTimer.unref();
    });
    this.informer = informer;
    await informer.start();
  }

  /** The pods as the informer's cache holds them. */
  pods(): V1Pod[] {
    return [...(this.informer?.list() ?? [])];
  }

  /**
   * Instances, one per pod; a store with a pod leaving and one coming shows the one coming, so
   * `redis`, `postgres` and `postgres-replica` stay single ids.
   */
  instances(): Instance[] {
    const byId = new Map<string, Instance>();
    for (const pod of this.pods()) {
      const instance = podInstance(pod);
      if (!instance) continue;
      const seen = byId.get(instance.id);
      if (
        !seen ||
        (seen.phase === 'terminating' && instance.phase !== 'terminating') ||
        (seen.phase === instance.phase && instance.startedAt > seen.startedAt)
      )
        byId.set(instance.id, instance);
    }
    return [...byId.values()].sort(
      (a, b) => SERVICES.indexOf(a.service) - SERVICES.indexOf(b.service) || a.startedAt - b.startedAt || a.id.localeCompare(b.id),
    );
  }

  /** The pod behind an instance id (a pod name, or `redis` / `postgres` / `postgres-replica`). */
  podOf(id: string): V1Pod | undefined {
    const pods = this.pods();
    return (
      pods.find((p) => p.metadata?.name === id) ??
      pods.find((p) => p.metadata?.labels?.[KUBE_LABELS.component] === id && !p.metadata?.deletionTimestamp)
    );
  }

  /** Stops watching. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.restartTimer);
    await this.informer?.stop();
  }
}
