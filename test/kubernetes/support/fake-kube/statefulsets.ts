import type { IStatefulSet } from 'kubernetes-models/apps/v1';
import type { IPersistentVolumeClaim } from 'kubernetes-models/v1';
import type { FakeCluster } from './cluster.js';
import { stableHash } from './json.js';
import { isPodReady } from './kubelet.js';
import { controllerRef, omitZero, ownedPods, podFromTemplate, type PodObject } from './pod-template.js';
import { R } from './resources.js';
import type { KubeObject } from './types.js';

type StatefulSetObject = IStatefulSet & KubeObject;

function ordinalOf(set: StatefulSetObject, pod: PodObject): number {
  return Number(pod.metadata.name.slice(set.metadata.name.length + 1));
}

/**
 * Creates the claims of pod `ordinal` from volumeClaimTemplates, named `<template>-<set>-<ordinal>`.
 * They outlive the StatefulSet (retention policy Retain, the default); with whenDeleted: Delete
 * they are owned by it and collected with it.
 */
function ensureClaims(cluster: FakeCluster, set: StatefulSetObject, ordinal: number): { name: string; claim: string }[] {
  const claims: { name: string; claim: string }[] = [];
  for (const template of set.spec?.volumeClaimTemplates ?? []) {
    const name = template.metadata?.name ?? '';
    const claim = `${name}-${set.metadata.name}-${ordinal}`;
    claims.push({ name, claim });
    if (cluster.store.get(R.pvc, set.metadata.namespace, claim)) continue;
    const owned = set.spec?.persistentVolumeClaimRetentionPolicy?.whenDeleted === 'Delete';
    const pvc: IPersistentVolumeClaim & KubeObject = {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: {
        name: claim,
        namespace: set.metadata.namespace,
        labels: { ...(template.metadata?.labels ?? {}), ...(set.spec?.selector.matchLabels ?? {}) },
        ...(owned ? { ownerReferences: [{ ...controllerRef(set), controller: false }] } : {}),
      },
      spec: structuredClone(template.spec ?? {}),
    };
    cluster.createObject(R.pvc, pvc);
  }
  return claims;
}

/**
 * The StatefulSet controller: pods `<set>-0…<set>-(n-1)` with stable names, created in order and
 * each only once the one before is Ready (OrderedReady, the default; Parallel does not wait),
 * removed highest ordinal first, rolled highest first on a template change, and a claim per
 * volumeClaimTemplate per pod.
 */
export function syncStatefulSet(cluster: FakeCluster, set: StatefulSetObject): void {
  if (set.metadata.deletionTimestamp) return;
  const replicas = set.spec?.replicas ?? 1;
  const ordered = set.spec?.podManagementPolicy !== 'Parallel';
  const revision = `${set.metadata.name}-${stableHash(set.spec?.template)}`;
  const pods = new Map(ownedPods(cluster.store, set).map((p) => [ordinalOf(set, p), p]));

  for (let i = 0; i < replicas; i += 1) {
    const pod = pods.get(i);
    if (!pod) {
      const name = `${set.metadata.name}-${i}`;
      // A pod of that name that is not ours (an orphan on its way out) must go first.
      if (cluster.store.get(R.pod, set.metadata.namespace, name)) {
        if (ordered) break;
        continue;
      }
      const claims = ensureClaims(cluster, set, i);
      const created = podFromTemplate(
        set,
        set.spec?.template,
        { name },
        { 'controller-revision-hash': revision, 'statefulset.kubernetes.io/pod-name': name, 'apps.kubernetes.io/pod-index': String(i) },
      );
      created.spec!.hostname = name;
      if (set.spec?.serviceName) created.spec!.subdomain = set.spec.serviceName;
      const volumes = created.spec!.volumes ?? [];
      created.spec!.volumes = [
        ...volumes.filter((v) => !claims.some((c) => c.name === v.name)),
        ...claims.map((c) => ({ name: c.name, persistentVolumeClaim: { claimName: c.claim } })),
      ];
      cluster.createObject(R.pod, created);
      if (ordered) break;
    } else if (ordered && !isPodReady(pod)) break;
  }

  const extra = [...pods.entries()].filter(([i]) => i >= replicas).sort(([a], [b]) => b - a);
  const terminating = [...pods.values()].some((p) => p.metadata.deletionTimestamp);
  for (const [, pod] of ordered ? extra.slice(0, terminating ? 0 : 1) : extra) {
    if (!pod.metadata.deletionTimestamp) cluster.deleteObject(R.pod, pod.metadata.namespace, pod.metadata.name);
  }

  // Rolling update: once every pod is up and Ready, replace the highest one still on the old revision.
  const current = [...pods.entries()].filter(([i]) => i < replicas);
  if (
    current.length === replicas &&
    !terminating &&
    current.every(([, p]) => isPodReady(p)) &&
    set.spec?.updateStrategy?.type !== 'OnDelete'
  ) {
    const partition = set.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
    const outdated = current
      .filter(([i, p]) => i >= partition && p.metadata.labels?.['controller-revision-hash'] !== revision)
      .sort(([a], [b]) => b - a)[0];
    if (outdated) cluster.deleteObject(R.pod, outdated[1].metadata.namespace, outdated[1].metadata.name);
  }
  writeStatus(cluster, set, revision);
}

function writeStatus(cluster: FakeCluster, set: StatefulSetObject, revision: string): void {
  const active = ownedPods(cluster.store, set).filter((p) => !p.metadata.deletionTimestamp);
  const ready = active.filter(isPodReady).length;
  const updated = active.filter((p) => p.metadata.labels?.['controller-revision-hash'] === revision).length;
  cluster.store.mutate<StatefulSetObject>(R.statefulSet, set.metadata.namespace, set.metadata.name, (s) => {
    s.status = omitZero(
      {
        observedGeneration: s.metadata.generation,
        replicas: active.length,
        readyReplicas: ready,
        currentReplicas: updated,
        updatedReplicas: updated,
        availableReplicas: ready,
        currentRevision: updated === active.length ? revision : (s.status?.currentRevision ?? revision),
        updateRevision: revision,
        collisionCount: 0,
      },
      ['readyReplicas', 'currentReplicas', 'updatedReplicas'],
    );
  });
}
