import type { IDeployment } from 'kubernetes-models/apps/v1';
import type { FakeCluster } from './cluster.js';
import { stableHash } from './json.js';
import { isPodReady } from './kubelet.js';
import {
  deletionOrder,
  nextConditions,
  omitZero,
  ownedPods,
  podFromTemplate,
  type PodObject,
  type WorkloadCondition,
} from './pod-template.js';
import { R } from './resources.js';
import type { KubeObject } from './types.js';

type DeploymentObject = IDeployment & KubeObject;

/** maxSurge/maxUnavailable as counts: percentages of replicas, surge rounded up, unavailable down. */
function rollingLimits(d: IDeployment, replicas: number): { surge: number; unavailable: number } {
  const resolve = (value: number | string | undefined, fallback: string, round: (n: number) => number) => {
    const v = value ?? fallback;
    return typeof v === 'number' ? v : round((Number.parseInt(v, 10) / 100) * replicas);
  };
  const rolling = d.spec?.strategy?.rollingUpdate;
  const surge = resolve(rolling?.maxSurge, '25%', Math.ceil);
  const unavailable = resolve(rolling?.maxUnavailable, '25%', Math.floor);
  // Both zero would deadlock; the API server refuses it, the controller then allows one surge.
  return { surge: surge === 0 && unavailable === 0 ? 1 : surge, unavailable };
}

/**
 * The Deployment controller (and, folded in, its ReplicaSets): keeps `spec.replicas` pods of the
 * current template, rolls template changes with maxSurge/maxUnavailable (or Recreate), and writes
 * the status counts and conditions. Pods are named `<deployment>-<template hash>-<5 chars>`.
 */
export function syncDeployment(cluster: FakeCluster, d: DeploymentObject): void {
  if (d.metadata.deletionTimestamp) return;
  const store = cluster.store;
  const replicas = d.spec?.replicas ?? 1;
  const hash = stableHash(d.spec?.template);
  const rsName = `${d.metadata.name}-${hash}`;
  const active = ownedPods(store, d).filter((p) => !p.metadata.deletionTimestamp);
  const updated = active.filter((p) => p.metadata.labels?.['pod-template-hash'] === hash);
  const old = active.filter((p) => !updated.includes(p));
  const { surge, unavailable } = rollingLimits(d, replicas);
  const remove = (pods: PodObject[]) => pods.forEach((p) => cluster.deleteObject(R.pod, p.metadata.namespace, p.metadata.name));
  const create = () =>
    cluster.createObject(R.pod, podFromTemplate(d, d.spec?.template, { generateName: `${rsName}-` }, { 'pod-template-hash': hash }));

  if (d.spec?.strategy?.type === 'Recreate') {
    if (old.length > 0) remove(old);
    const oldTerminating = ownedPods(store, d).some((p) => p.metadata.labels?.['pod-template-hash'] !== hash);
    if (!oldTerminating) for (let i = updated.length; i < replicas; i += 1) create();
  } else {
    const toCreate = old.length === 0 ? replicas - updated.length : Math.min(replicas - updated.length, replicas + surge - active.length);
    for (let i = 0; i < toCreate; i += 1) create();
    if (old.length > 0) {
      // Old pods go only as far as availability allows: minAvailable ready pods must remain.
      const newUnavailable = updated.filter((p) => !isPodReady(p)).length;
      const maxScaledDown = active.length - (replicas - unavailable) - newUnavailable;
      remove([...old].sort(deletionOrder(store)).slice(0, Math.max(0, maxScaledDown)));
    }
    if (updated.length > replicas) remove([...updated].sort(deletionOrder(store)).slice(0, updated.length - replicas));
  }
  writeStatus(cluster, d, replicas, hash, rsName, unavailable);
}

function writeStatus(cluster: FakeCluster, d: DeploymentObject, replicas: number, hash: string, rsName: string, unavailable: number): void {
  const active = ownedPods(cluster.store, d).filter((p) => !p.metadata.deletionTimestamp);
  const ready = active.filter(isPodReady).length;
  const updated = active.filter((p) => p.metadata.labels?.['pod-template-hash'] === hash).length;
  const complete = updated === replicas && active.length === replicas && ready === replicas;
  cluster.store.mutate<DeploymentObject>(R.deployment, d.metadata.namespace, d.metadata.name, (current) => {
    const conditions = nextConditions(
      current.status?.conditions as WorkloadCondition[] | undefined,
      [
        ready >= replicas - unavailable
          ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }
          : {
              type: 'Available',
              status: 'False',
              reason: 'MinimumReplicasUnavailable',
              message: 'Deployment does not have minimum availability.',
            },
        complete
          ? {
              type: 'Progressing',
              status: 'True',
              reason: 'NewReplicaSetAvailable',
              message: `ReplicaSet "${rsName}" has successfully progressed.`,
            }
          : { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${rsName}" is progressing.` },
      ],
      true,
    );
    current.status = omitZero(
      {
        observedGeneration: current.metadata.generation,
        replicas: active.length,
        updatedReplicas: updated,
        readyReplicas: ready,
        availableReplicas: ready,
        unavailableReplicas: Math.max(0, replicas - ready),
        conditions,
      },
      ['replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas'],
    );
  });
}
