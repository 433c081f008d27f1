import type { IPod, IPodTemplateSpec } from 'kubernetes-models/v1';
import { clone, timestamp } from './json.js';
import { isPodReady } from './kubelet.js';
import { R } from './resources.js';
import type { ObjectStore } from './store.js';
import type { KubeObject, OwnerReference } from './types.js';

/** A stored pod, typed. */
export type PodObject = IPod & KubeObject;

/** A workload condition as Deployments and StatefulSets carry them. */
export interface WorkloadCondition {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
  lastUpdateTime?: string;
  lastTransitionTime?: string;
}

/** The controller ownerReference a workload puts on what it creates. */
export function controllerRef(owner: KubeObject): OwnerReference {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name,
    uid: owner.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Pods whose controller is `owner`, terminating ones included. */
export function ownedPods(store: ObjectStore, owner: KubeObject): PodObject[] {
  return store
    .list<PodObject>(R.pod, owner.metadata.namespace)
    .filter((p) => p.metadata.ownerReferences?.some((o) => o.controller && o.uid === owner.metadata.uid));
}

/** A pod stamped from a workload's template. */
export function podFromTemplate(
  owner: KubeObject,
  template: IPodTemplateSpec | undefined,
  naming: { name?: string; generateName?: string },
  labels: Record<string, string>,
): PodObject {
  const spec = clone(template?.spec ?? { containers: [] });
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: naming.name ?? '',
      ...(naming.generateName ? { generateName: naming.generateName } : {}),
      namespace: owner.metadata.namespace,
      labels: { ...(template?.metadata?.labels ?? {}), ...labels },
      ...(template?.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
      ownerReferences: [controllerRef(owner)],
    },
    spec,
  };
}

/** Scale-down order: not-ready pods first, then the newest, as the ReplicaSet controller picks. */
export function deletionOrder(store: ObjectStore): (a: PodObject, b: PodObject) => number {
  return (a, b) => Number(isPodReady(a)) - Number(isPodReady(b)) || store.creationOrder(b) - store.creationOrder(a);
}

/**
 * The next conditions: each keeps its timestamps while its status and reason stay, so an
 * unchanged workload writes an unchanged status (and the store writes nothing).
 */
export function nextConditions(
  previous: WorkloadCondition[] | undefined,
  wanted: Omit<WorkloadCondition, 'lastUpdateTime' | 'lastTransitionTime'>[],
  withUpdateTime: boolean,
): WorkloadCondition[] {
  const now = timestamp();
  return wanted.map((w) => {
    const before = previous?.find((c) => c.type === w.type);
    const same = before?.status === w.status;
    const unchanged = same && before?.reason === w.reason && before.message === w.message;
    return {
      ...w,
      ...(withUpdateTime ? { lastUpdateTime: unchanged ? (before?.lastUpdateTime ?? now) : now } : {}),
      lastTransitionTime: same ? (before?.lastTransitionTime ?? now) : now,
    };
  });
}

/** Drops zero counts: these status fields are `omitempty` in the API, so a real server never sends 0. */
export function omitZero<T extends Record<string, unknown>>(status: T, fields: readonly string[]): T {
  const out: Record<string, unknown> = { ...status };
  for (const f of fields) if (out[f] === 0) delete out[f];
  return out as T;
}
