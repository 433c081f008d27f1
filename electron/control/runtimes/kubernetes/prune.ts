import type { KubernetesObject, KubernetesObjectApi } from '@kubernetes/client-node';
import type { StackSpec } from '../../../contract.js';
import type { OnProgress } from '../runtime.js';
import { deleteOwned } from './kube-apply.js';
import { hpaObjects, KUBE_NAMES } from './manifests.js';

/**
 * Deletes what the stack had from an earlier `up` but its spec no longer asks for: the HPAs when
 * the autoscaler is off (they would keep scaling), and the read replica with its volume when
 * `data.readReplica` is off (a replica left behind falls out of the primary's WAL, so a later one
 * starts from a fresh copy). Only objects labelled as the stack's are deleted.
 */
export async function pruneDisabled(objects: KubernetesObjectApi, spec: StackSpec, onProgress: OnProgress): Promise<void> {
  const stack = spec.name;
  const namespace = KUBE_NAMES.namespace(stack);
  const gone: KubernetesObject[] = [];
  if (!spec.autoscaler.enabled) gone.push(...(hpaObjects(stack) as KubernetesObject[]));
  if (!spec.data.readReplica) {
    const name = KUBE_NAMES.workload('postgres-replica');
    gone.push(
      { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name, namespace } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace } },
      { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: KUBE_NAMES.replicaClaim, namespace } },
    );
  }
  for (const object of gone) if (await deleteOwned(objects, object, stack)) onProgress(`deleted ${object.kind} ${object.metadata?.name}`);
}
