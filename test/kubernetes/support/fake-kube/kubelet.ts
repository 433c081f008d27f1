import type { IContainerStatus, IPod, IPodCondition } from 'kubernetes-models/v1';
import { randomBytes } from 'node:crypto';
import type { FakeCluster } from './cluster.js';
import { timestamp } from './json.js';
import { R } from './resources.js';
import { FakeKubeUsageError } from './status.js';
import type { StoreEvent } from './store.js';
import type { KubeObject } from './types.js';

type PodObject = IPod & KubeObject;

/** Sets one pod condition; lastTransitionTime moves only when the status does, as the kubelet does. */
function setCondition(pod: IPod, type: string, ready: boolean, reason?: string, message?: string): void {
  const status = (pod.status ??= {});
  const conditions = (status.conditions ??= []);
  const value = ready ? 'True' : 'False';
  const existing = conditions.find((c) => c.type === type);
  const next: IPodCondition = {
    type,
    status: value,
    lastTransitionTime: timestamp(),
    ...(reason ? { reason } : {}),
    ...(message ? { message } : {}),
  };
  if (existing?.status === value) next.lastTransitionTime = existing.lastTransitionTime;
  status.conditions = [...conditions.filter((c) => c.type !== type), next];
  const order = ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'];
  status.conditions.sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type));
}

/** Whether a pod is Ready and not being deleted: what Services route to and workloads count as ready. */
export function isPodReady(pod: IPod): boolean {
  return !pod.metadata?.deletionTimestamp && pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
}

/**
 * The fake's scheduler and kubelet: a pod that appears is bound to the one node, runs its
 * containers (status Running, Ready False), and becomes Ready after `podReadyAfterMs`. Each step
 * records the Events the real components record. Nothing runs: a pod "answers" only through the
 * `podBackend` option.
 */
export class FakeKubelet {
  /** Per pod uid: bumped by every start or crash, so a stale readiness timer does nothing. */
  private readonly epochs = new Map<string, number>();
  private nextIp = 10;

  constructor(private readonly cluster: FakeCluster) {}

  /** Follows the store: starts new pods, forgets deleted ones. */
  onEvent(event: StoreEvent): void {
    if (event.resource !== R.pod) return;
    const uid = event.object.metadata.uid ?? '';
    if (event.type === 'DELETED') this.epochs.delete(uid);
    if (event.type !== 'ADDED') return;
    const { namespace, name } = event.object.metadata;
    const readyAfter = this.cluster.options.podReadyAfterMs;
    const epoch = this.bump(uid);
    this.cluster.timers.after(0, () => this.schedule(namespace, name, uid));
    this.cluster.timers.after(Math.min(50, readyAfter / 2), () => this.run(namespace, name, uid));
    this.cluster.timers.after(readyAfter, () => this.ready(namespace, name, uid, epoch));
  }

  /** Simulates a container crash: restartCount + 1, not Ready, Ready again after `podReadyAfterMs`. */
  crash(namespace: string, name: string): void {
    const pod = this.cluster.store.get<PodObject>(R.pod, namespace, name);
    if (!pod) throw new FakeKubeUsageError(`no pod ${namespace}/${name} to crash`);
    if (pod.status?.phase !== 'Running') throw new FakeKubeUsageError(`pod ${namespace}/${name} is ${pod.status?.phase}, not Running`);
    const uid = pod.metadata.uid ?? '';
    const epoch = this.bump(uid);
    const updated = this.update(namespace, name, uid, (p) => {
      const now = timestamp();
      p.status!.containerStatuses = (p.status?.containerStatuses ?? []).map((c) => ({
        ...c,
        ready: false,
        restartCount: c.restartCount + 1,
        lastState: {
          terminated: {
            exitCode: 1,
            reason: 'Error',
            startedAt: c.state?.running?.startedAt ?? now,
            finishedAt: now,
            containerID: c.containerID,
          },
        },
        state: { running: { startedAt: now } },
      }));
      setCondition(p, 'Ready', false, 'ContainersNotReady', `containers with unready status: [${containerNames(p)}]`);
      setCondition(p, 'ContainersReady', false, 'ContainersNotReady', `containers with unready status: [${containerNames(p)}]`);
    });
    if (updated) for (const c of updated.spec?.containers ?? []) this.containerStarted(updated, c.name);
    this.cluster.timers.after(this.cluster.options.podReadyAfterMs, () => this.ready(namespace, name, uid, epoch));
  }

  /** Records the kubelet stopping a pod's containers (graceful deletion has begun). */
  killing(pod: PodObject): void {
    for (const c of pod.spec?.containers ?? [])
      this.cluster.events.record(pod, 'Normal', 'Killing', `Stopping container ${c.name}`, 'kubelet');
  }

  private bump(uid: string): number {
    const epoch = (this.epochs.get(uid) ?? 0) + 1;
    this.epochs.set(uid, epoch);
    return epoch;
  }

  /** Changes the pod if it is still the same one (a StatefulSet reuses names) and not being deleted. */
  private update(namespace: string | undefined, name: string, uid: string, change: (pod: PodObject) => void): PodObject | undefined {
    const pod = this.cluster.store.get<PodObject>(R.pod, namespace, name);
    if (!pod || pod.metadata.uid !== uid || pod.metadata.deletionTimestamp) return undefined;
    return this.cluster.store.mutate<PodObject>(R.pod, namespace, name, change);
  }

  private schedule(namespace: string | undefined, name: string, uid: string): void {
    const node = this.cluster.nodeName;
    const pod = this.update(namespace, name, uid, (p) => {
      p.spec!.nodeName ??= node;
      setCondition(p, 'PodScheduled', true);
    });
    if (pod)
      this.cluster.events.record(pod, 'Normal', 'Scheduled', `Successfully assigned ${namespace}/${name} to ${node}`, 'default-scheduler');
  }

  private run(namespace: string | undefined, name: string, uid: string): void {
    const now = timestamp();
    const podIp = `10.244.0.${(this.nextIp = (this.nextIp % 250) + 1)}`;
    const hostIp = this.cluster.options.minikube ? '192.168.49.2' : '10.0.0.2';
    const pod = this.update(namespace, name, uid, (p) => {
      const status = p.status!;
      status.phase = 'Running';
      status.hostIP = hostIp;
      status.hostIPs = [{ ip: hostIp }];
      status.podIP = podIp;
      status.podIPs = [{ ip: podIp }];
      status.startTime = now;
      status.containerStatuses = (p.spec?.containers ?? []).map((c): IContainerStatus => ({
        name: c.name,
        image: c.image ?? '',
        imageID: `docker-pullable://${c.image}@sha256:${randomBytes(32).toString('hex')}`,
        containerID: `docker://${randomBytes(32).toString('hex')}`,
        ready: false,
        started: true,
        restartCount: 0,
        state: { running: { startedAt: now } },
        lastState: {},
      }));
      setCondition(p, 'PodReadyToStartContainers', true);
      setCondition(p, 'Initialized', true);
      setCondition(p, 'Ready', false, 'ContainersNotReady', `containers with unready status: [${containerNames(p)}]`);
      setCondition(p, 'ContainersReady', false, 'ContainersNotReady', `containers with unready status: [${containerNames(p)}]`);
    });
    if (!pod) return;
    for (const c of pod.spec?.containers ?? []) {
      this.cluster.events.record(pod, 'Normal', 'Pulled', `Container image "${c.image}" already present on machine`, 'kubelet');
      this.cluster.events.record(pod, 'Normal', 'Created', `Created container: ${c.name}`, 'kubelet');
      this.containerStarted(pod, c.name);
    }
  }

  private containerStarted(pod: PodObject, container: string): void {
    this.cluster.events.record(pod, 'Normal', 'Started', `Started container ${container}`, 'kubelet');
  }

  private ready(namespace: string | undefined, name: string, uid: string, epoch: number): void {
    if (this.epochs.get(uid) !== epoch) return;
    this.update(namespace, name, uid, (p) => {
      if (p.status?.phase !== 'Running') return;
      p.status.containerStatuses = (p.status.containerStatuses ?? []).map((c) => ({ ...c, ready: true }));
      setCondition(p, 'Ready', true);
      setCondition(p, 'ContainersReady', true);
    });
  }
}

function containerNames(pod: IPod): string {
  return (pod.spec?.containers ?? []).map((c) => c.name).join(' ');
}
