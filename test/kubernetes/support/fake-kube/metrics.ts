import type { IPod } from 'kubernetes-models/v1';
import { timestamp } from './json.js';
import { formatCpu, formatMemory, parseQuantity, QuantityError } from './quantity.js';
import { R, type ResourceType } from './resources.js';
import { parseLabelSelector } from './selectors.js';
import { FakeKubeUsageError, KubeStatusError } from './status.js';
import type { ObjectStore } from './store.js';
import type { KubeObject, PodUsage } from './types.js';

type PodObject = IPod & KubeObject;

/** A pod's usage as numbers: cores and bytes. */
export interface PodUsageValue {
  cpu: number;
  memory: number;
}

const WINDOW = '15s';

/**
 * What metrics-server would have scraped: the usage tests set per pod. A pod's usage goes with
 * the pod, so a replacement (even one with the same name) starts without metrics, as a real one does.
 */
export class PodMetricsStore {
  private readonly usage = new Map<string, PodUsage>();
  private readonly unsubscribe: () => void;

  constructor(private readonly store: ObjectStore) {
    this.unsubscribe = store.subscribe((event) => {
      if (event.resource === R.pod && event.type === 'DELETED')
        this.usage.delete(`${event.object.metadata.namespace}/${event.object.metadata.name}`);
    });
  }

  /** Sets a pod's usage; throws when a quantity does not parse. */
  set(namespace: string, pod: string, usage: PodUsage): void {
    try {
      parseQuantity(usage.cpu);
      parseQuantity(usage.memory);
    } catch (err) {
      if (err instanceof QuantityError) throw new FakeKubeUsageError(`setPodMetrics(${namespace}, ${pod}): ${err.message}`);
      throw err;
    }
    this.usage.set(`${namespace}/${pod}`, { ...usage });
  }

  /** A live pod's usage, or undefined when it has none (or does not exist). */
  valueOf(namespace: string, pod: string): PodUsageValue | undefined {
    const usage = this.usage.get(`${namespace}/${pod}`);
    if (!usage || !this.store.get(R.pod, namespace, pod)) return undefined;
    return { cpu: parseQuantity(usage.cpu), memory: parseQuantity(usage.memory) };
  }

  /** Stops following pod deletions. Safe to call twice. */
  stop(): void {
    this.unsubscribe();
  }

  private podMetrics(pod: PodObject): Record<string, unknown> | undefined {
    const usage = this.usage.get(`${pod.metadata.namespace}/${pod.metadata.name}`);
    if (!usage) return undefined;
    const now = timestamp();
    const containers = (pod.spec?.containers ?? []).map((c, i) => ({
      name: c.name,
      usage: i === 0 ? { cpu: usage.cpu, memory: usage.memory } : { cpu: '0', memory: '0' },
    }));
    return {
      kind: 'PodMetrics',
      apiVersion: 'metrics.k8s.io/v1beta1',
      metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace, creationTimestamp: now, labels: pod.metadata.labels ?? {} },
      timestamp: now,
      window: WINDOW,
      containers,
    };
  }

  /** Answers a GET under /apis/metrics.k8s.io/v1beta1 (PodMetrics, NodeMetrics, and their lists). */
  serve(type: ResourceType, namespace: string | undefined, name: string | undefined, labelSelector: string | null): unknown {
    const matches = parseLabelSelector(labelSelector);
    if (type.kind === 'PodMetrics') {
      if (name) {
        const pod = this.store.get<PodObject>(R.pod, namespace, name);
        const metrics = pod && this.podMetrics(pod);
        if (!metrics)
          throw new KubeStatusError(404, 'NotFound', `podmetrics.metrics.k8s.io "${namespace}/${name}" not found`, {
            name,
            group: 'metrics.k8s.io',
            kind: 'pods',
          });
        return metrics;
      }
      const items = this.store
        .list<PodObject>(R.pod, namespace)
        .filter((p) => matches(p.metadata.labels))
        .map((p) => this.podMetrics(p))
        .filter((m) => m !== undefined)
        .map(({ kind: _kind, apiVersion: _apiVersion, ...item }) => item);
      return { kind: 'PodMetricsList', apiVersion: 'metrics.k8s.io/v1beta1', metadata: {}, items };
    }
    const nodes = this.store.list(R.node).filter((n) => (name ? n.metadata.name === name : matches(n.metadata.labels)));
    if (name && nodes.length === 0)
      throw new KubeStatusError(404, 'NotFound', `nodemetrics.metrics.k8s.io "${name}" not found`, {
        name,
        group: 'metrics.k8s.io',
        kind: 'nodes',
      });
    const items = nodes.map((n) => this.nodeMetrics(n));
    if (name) return items[0];
    return {
      kind: 'NodeMetricsList',
      apiVersion: 'metrics.k8s.io/v1beta1',
      metadata: {},
      items: items.map(({ kind: _kind, apiVersion: _apiVersion, ...item }) => item),
    };
  }

  private nodeMetrics(node: KubeObject): Record<string, unknown> {
    // The node's own use (system pods, kubelet) plus what its pods use.
    let cpu = 0.15;
    let memory = 900 * 2 ** 20;
    for (const pod of this.store.list<PodObject>(R.pod)) {
      const usage = pod.spec?.nodeName === node.metadata.name ? this.valueOf(pod.metadata.namespace ?? '', pod.metadata.name) : undefined;
      cpu += usage?.cpu ?? 0;
      memory += usage?.memory ?? 0;
    }
    const now = timestamp();
    return {
      kind: 'NodeMetrics',
      apiVersion: 'metrics.k8s.io/v1beta1',
      metadata: { name: node.metadata.name, creationTimestamp: now, labels: node.metadata.labels ?? {} },
      timestamp: now,
      window: WINDOW,
      usage: { cpu: formatCpu(cpu), memory: formatMemory(memory) },
    };
  }
}
