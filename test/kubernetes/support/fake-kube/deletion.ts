import type { IPod } from 'kubernetes-models/v1';
import type { FakeCluster } from './cluster.js';
import { timestamp } from './json.js';
import { R, groupResource, type ResourceType } from './resources.js';
import { forbidden, KubeStatusError, notFound } from './status.js';
import type { KubeObject } from './types.js';

/** metav1.DeleteOptions, from the query or the request body. */
export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  preconditions?: { uid?: string; resourceVersion?: string };
}

/** What a delete did: `graceful` when the object is still there, being deleted (pods, namespaces). */
export interface DeleteResult {
  object: KubeObject;
  graceful: boolean;
}

const UNDELETABLE_NAMESPACES = new Set(['default', 'kube-system', 'kube-public', 'kube-node-lease']);

/**
 * Deletes as the API server and its controllers do: pods terminate gracefully (deletionTimestamp,
 * Killing events, gone after `podTerminationMs`), namespaces turn Terminating and take everything
 * in them after `namespaceDeleteMs`, anything else goes at once. Dependents (ownerReferences) are
 * then collected in the background unless the policy is Orphan.
 */
export function deleteObject(
  cluster: FakeCluster,
  type: ResourceType,
  namespace: string | undefined,
  name: string,
  options: DeleteOptions = {},
): DeleteResult {
  const object = cluster.store.get(type, namespace, name);
  if (!object) throw notFound(groupResource(type), name);
  const pre = options.preconditions;
  if (pre?.uid && pre.uid !== object.metadata.uid) {
    throw new KubeStatusError(
      409,
      'Conflict',
      `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${object.metadata.uid}`,
    );
  }
  if (pre?.resourceVersion && pre.resourceVersion !== object.metadata.resourceVersion) {
    throw new KubeStatusError(
      409,
      'Conflict',
      `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in meta: ${object.metadata.resourceVersion}`,
    );
  }
  if (type === R.namespace) return { object: terminateNamespace(cluster, object), graceful: true };
  if (type === R.pod) {
    const pod = object as IPod & KubeObject;
    const grace = options.gracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
    // An unscheduled pod has no kubelet to stop it: it goes at once, as does one deleted with grace 0.
    if (grace > 0 && pod.spec?.nodeName) return { object: terminatePod(cluster, pod, grace, options), graceful: true };
  }
  return { object: removeNow(cluster, type, object, options), graceful: false };
}

function terminatePod(cluster: FakeCluster, pod: IPod & KubeObject, grace: number, options: DeleteOptions): KubeObject {
  if (pod.metadata.deletionTimestamp) return pod;
  const { namespace, name, uid } = pod.metadata;
  const terminating = cluster.store.mutate<IPod & KubeObject>(R.pod, namespace, name, (p) => {
    p.metadata.deletionTimestamp = timestamp(Date.now() + grace * 1000);
    p.metadata.deletionGracePeriodSeconds = grace;
  });
  if (!terminating) return pod;
  cluster.kubelet.killing(terminating);
  cluster.timers.after(cluster.options.podTerminationMs, () => {
    const still = cluster.store.get(R.pod, namespace, name);
    if (still && still.metadata.uid === uid) removeNow(cluster, R.pod, still, options);
  });
  return terminating;
}

function terminateNamespace(cluster: FakeCluster, ns: KubeObject): KubeObject {
  const name = ns.metadata.name;
  if (UNDELETABLE_NAMESPACES.has(name)) throw forbidden('namespaces', name, 'this namespace may not be deleted');
  if (ns.metadata.deletionTimestamp) return ns;
  const terminating = cluster.store.mutate(R.namespace, undefined, name, (n) => {
    n.metadata.deletionTimestamp = timestamp();
    n.status = { ...(n.status as object), phase: 'Terminating' };
  });
  cluster.timers.after(cluster.options.namespaceDeleteMs, () => {
    for (const type of cluster.store.types()) {
      if (!type.namespaced) continue;
      for (const object of cluster.store.list(type, name)) cluster.store.remove(type, name, object.metadata.name);
    }
    cluster.store.remove(R.namespace, undefined, name);
  });
  return terminating ?? ns;
}

function removeNow(cluster: FakeCluster, type: ResourceType, object: KubeObject, options: DeleteOptions): KubeObject {
  const { namespace, name, uid } = object.metadata;
  const last = cluster.store.remove(type, namespace, name) ?? object;
  if (!uid) return last;
  if (options.propagationPolicy === 'Orphan') cluster.timers.after(0, () => orphanDependents(cluster, uid, namespace));
  else cluster.timers.after(0, () => collectDependents(cluster, uid, namespace));
  return last;
}

function dependents(cluster: FakeCluster, ownerUid: string, namespace: string | undefined): [ResourceType, KubeObject][] {
  const found: [ResourceType, KubeObject][] = [];
  for (const type of cluster.store.types()) {
    for (const object of cluster.store.list(type, type.namespaced ? namespace : undefined)) {
      if (object.metadata.ownerReferences?.some((o) => o.uid === ownerUid)) found.push([type, object]);
    }
  }
  return found;
}

/** The garbage collector: deletes what the gone owner owned (pods of a Deployment, say). */
function collectDependents(cluster: FakeCluster, ownerUid: string, namespace: string | undefined): void {
  for (const [type, object] of dependents(cluster, ownerUid, namespace)) {
    try {
      deleteObject(cluster, type, object.metadata.namespace, object.metadata.name, { propagationPolicy: 'Background' });
    } catch (err) {
      if (!(err instanceof KubeStatusError && err.code === 404)) throw err;
    }
  }
}

function orphanDependents(cluster: FakeCluster, ownerUid: string, namespace: string | undefined): void {
  for (const [type, object] of dependents(cluster, ownerUid, namespace)) {
    cluster.store.mutate(type, object.metadata.namespace, object.metadata.name, (o) => {
      o.metadata.ownerReferences = o.metadata.ownerReferences?.filter((r) => r.uid !== ownerUid);
      if (o.metadata.ownerReferences?.length === 0) delete o.metadata.ownerReferences;
    });
  }
}
