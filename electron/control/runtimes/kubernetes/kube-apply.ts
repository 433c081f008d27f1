import {
  ApiException,
  AppsV1Api,
  PatchStrategy,
  type KubeConfig,
  type KubernetesObject,
  type KubernetesObjectApi,
} from '@kubernetes/client-node';
import { FIELD_MANAGER, KUBE_LABELS } from './manifests.js';
import { NamedError } from '../../../../backend/named-error.js';

/** Refused: the object does not carry this stack's label. */
export class NotOwnedError extends NamedError {}

/** The API server refused a request; the message says what it said and what to do. */
export class KubeApiError extends NamedError {
  constructor(
    message: string,
    /** The HTTP status, when the API server answered. */
    readonly code?: number,
  ) {
    super(message);
  }
}

/** The API server's own words from an error, e.g. `deployments.apps "x" not found`. */
export function apiMessage(err: unknown): string {
  if (err instanceof ApiException) {
    const body = err.body as { message?: string } | string | undefined;
    const text = typeof body === 'string' ? (safeJson(body)?.message ?? body) : body?.message;
    return `${text ?? err.message} (HTTP ${err.code})`;
  }
  return err instanceof Error ? err.message : String(err);
}

function safeJson(text: string): { message?: string } | undefined {
  try {
    return JSON.parse(text) as { message?: string };
  } catch {
    return undefined;
  }
}

/** The HTTP status of a client error, if the API server answered. */
export function statusOf(err: unknown): number | undefined {
  return err instanceof ApiException ? err.code : undefined;
}

const describe = (o: KubernetesObject) => `${o.kind} ${o.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata?.name}`;

/** Server-side apply: creates or updates `object`, owning the fields it names. Idempotent. */
export async function apply(objects: KubernetesObjectApi, object: KubernetesObject): Promise<KubernetesObject> {
  try {
    return await objects.patch(object, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
  } catch (err) {
    const code = statusOf(err);
    const hint =
      code === 403 && /being terminated|terminating/i.test(apiMessage(err))
        ? '; the namespace is still being deleted from the last `down --purge`, try again in a moment'
        : code === 403
          ? "; the context's user may not create it (check its RBAC)"
          : '';
    throw new KubeApiError(`applying ${describe(object)} failed: ${apiMessage(err)}${hint}`, code);
  }
}

/** Reads an object; undefined when it does not exist. */
export async function readIfExists<T extends KubernetesObject>(
  objects: KubernetesObjectApi,
  ref: KubernetesObject,
): Promise<T | undefined> {
  try {
    return (await objects.read(ref as KubernetesObject & { metadata: { name: string } })) as T;
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw new KubeApiError(`reading ${describe(ref)} failed: ${apiMessage(err)}`, statusOf(err));
  }
}

/** Throws unless `object` carries `scalelab.stack=<stack>`: the last check before a delete. */
export function assertOwned(object: KubernetesObject | undefined, stack: string): void {
  if (object?.metadata?.labels?.[KUBE_LABELS.stack] !== stack) {
    throw new NotOwnedError(
      `refusing to touch ${object ? describe(object) : 'an object'}: it is not labelled ${KUBE_LABELS.stack}=${stack}`,
    );
  }
}

/**
 * Deletes one object of the stack after reading it back and checking its label; a missing one
 * is already gone. Resolves `false` when there was nothing to delete.
 */
export async function deleteOwned(
  objects: KubernetesObjectApi,
  ref: KubernetesObject,
  stack: string,
  gracePeriodSeconds?: number,
): Promise<boolean> {
  const found = await readIfExists(objects, ref);
  if (!found) return false;
  assertOwned(found, stack);
  try {
    await objects.delete(found, undefined, undefined, gracePeriodSeconds, undefined, 'Background');
    return true;
  } catch (err) {
    if (statusOf(err) === 404) return false;
    throw new KubeApiError(`deleting ${describe(ref)} failed: ${apiMessage(err)}`, statusOf(err));
  }
}

/** Sets a Deployment's or StatefulSet's replicas through its scale subresource. */
export async function setScale(
  kc: KubeConfig,
  kind: 'Deployment' | 'StatefulSet',
  namespace: string,
  name: string,
  replicas: number,
): Promise<void> {
  const apps = kc.makeApiClient(AppsV1Api);
  const body = { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name, namespace }, spec: { replicas } };
  try {
    if (kind === 'Deployment') await apps.replaceNamespacedDeploymentScale({ name, namespace, body });
    else await apps.replaceNamespacedStatefulSetScale({ name, namespace, body });
  } catch (err) {
    throw new KubeApiError(`scaling ${kind} ${namespace}/${name} to ${replicas} failed: ${apiMessage(err)}`, statusOf(err));
  }
}

/** Resolves once a deleted namespace (and so everything in it) is gone. */
export async function waitNamespaceGone(objects: KubernetesObjectApi, namespace: string, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (await readIfExists(objects, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } })) {
    if (Date.now() > deadline)
      throw new KubeApiError(
        `namespace ${namespace} is still terminating after ${timeoutMs / 1000} s; see kubectl get namespace ${namespace} -o yaml`,
      );
    await new Promise((r) => setTimeout(r, 500));
  }
}
