/**
 * A Kubernetes stack while this runtime supervises it: its state ({@link Running}), how it is
 * attached (pod watch, API-server proxies, balancer) and the periodic poll of pod metrics and HPAs.
 */
import type { AutoscalerStatus, Instance, StackSpec } from '../../../contract.js';
import { Balancer } from '../../balancer/balancer.js';
import { freePort, isPortOpen } from '../local/ports.js';
import type { ReplicaEvent } from '../local/replica-set.js';
import type { Secrets } from '../local/state.js';
import type { InstanceStats } from '../runtime.js';
import { ApiServerProxy } from './api-proxy.js';
import type { KubeCluster } from './cluster.js';
import { readHpas } from './hpa-view.js';
import { KUBE_NAMES } from './manifests.js';
import { readPodUsage } from './pod-metrics.js';
import { PodWatch, podInstance } from './pod-watch.js';
import { StoreOutages } from './store-outages.js';

/** A stack this runtime supervises. */
export type Running = {
  cluster: KubeCluster;
  spec: StackSpec;
  namespace: string;
  dir: string;
  secrets: Secrets;
  pods: PodWatch;
  balancer: Balancer;
  serviceProxy: ApiServerProxy;
  podProxy: ApiServerProxy;
  outages: StoreOutages;
  usage: Map<string, InstanceStats>;
  hpa: AutoscalerStatus | undefined;
  poll: NodeJS.Timeout;
};

/** Options of {@link attachStack}. */
export interface AttachOptions {
  cluster: KubeCluster;
  spec: StackSpec;
  dir: string;
  secrets: Secrets;
  /** The runtime's instances and their changes, for the store outages. */
  source: { watch(onChange: (i: Instance[]) => void): () => void; currentInstances(): Instance[] };
  /** The pods changed. */
  onChange: () => void;
  onEvent: (event: ReplicaEvent) => void;
  /** Called every `pollMs`. */
  onPoll: () => void;
  pollMs: number;
}

/** Watches the pods, opens the proxies and the balancer: the stack is now the runtime's. */
export async function attachStack({
  cluster,
  spec,
  dir,
  secrets,
  source,
  onChange,
  onEvent,
  onPoll,
  pollMs,
}: AttachOptions): Promise<Running> {
  const namespace = KUBE_NAMES.namespace(spec.name);
  const pods = new PodWatch({ kc: cluster.kc, namespace, stack: spec.name, onChange });
  await pods.start();
  const serviceProxy = new ApiServerProxy({
    kc: cluster.kc,
    route: (p) => `/api/v1/namespaces/${namespace}/services/${KUBE_NAMES.workload('api')}:http/proxy${p}`,
  });
  const podProxy = new ApiServerProxy({
    kc: cluster.kc,
    // /<pod>:<port>/<path> → that pod's proxy; only this namespace's pods are reachable.
    route: (p) => {
      const m = /^\/([a-z0-9.-]+):(\d+)(\/.*)$/.exec(p);
      return m ? `/api/v1/namespaces/${namespace}/pods/${m[1]}:${m[2]}/proxy${m[3]}` : undefined;
    },
  });
  await serviceProxy.listen();
  await podProxy.listen();
  const port = (await isPortOpen(spec.port)) ? await freePort() : spec.port;
  const balancer = new Balancer({ port });
  await balancer.listen();
  // One upstream: the api Service balances across the pods.
  balancer.add(KUBE_NAMES.workload('api'), serviceProxy.url!);
  balancer.setReady(KUBE_NAMES.workload('api'), true);
  const poll = setInterval(onPoll, pollMs);
  poll.unref();
  return {
    cluster,
    spec: { ...spec, port },
    namespace,
    dir,
    secrets,
    pods,
    balancer,
    serviceProxy,
    podProxy,
    outages: new StoreOutages({ kc: cluster.kc, namespace, source, onEvent }),
    usage: new Map(),
    hpa: undefined,
    poll,
  };
}

/** Reads the pods' cpu and memory and the HPAs into `running`; new HPA events go to `onEvent`. */
export async function pollStack(running: Running, onEvent: (event: ReplicaEvent) => void): Promise<void> {
  if (running.cluster.metricsServer) {
    // metrics-server lags behind new pods; the next poll tries again.
    running.usage = await readPodUsage(running.cluster.kc, running.namespace, (pod) => podInstance(pod)?.id, running.pods.pods()).catch(
      () => running.usage,
    );
  }
  const before = running.hpa?.hpa;
  running.hpa = await readHpas(running.cluster.kc, running.cluster.objects, running.namespace).catch(() => running.hpa);
  for (const view of [running.hpa?.hpa?.api, running.hpa?.hpa?.worker]) {
    const old = view && before?.[view.service];
    const last = old?.events.at(-1)?.at ?? 0;
    for (const event of view?.events.filter((e) => e.at > last && old) ?? []) {
      onEvent({
        kind: 'scaling',
        level: event.type === 'Warning' ? 'warn' : 'info',
        message: `Kubernetes HPA ${view!.name}: ${event.reason}: ${event.message}`,
      });
    }
  }
}
