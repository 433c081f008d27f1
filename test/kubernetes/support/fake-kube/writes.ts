import { parse as parseYaml } from 'yaml';
import type { FakeCluster } from './cluster.js';
import { admit } from './defaults.js';
import { clone, isJsonObject } from './json.js';
import { jsonPatch, mergePatch } from './patch.js';
import { apiVersionOf, groupResource, hasSubresource, type ResourceType } from './resources.js';
import { badRequest, conflict, KubeStatusError } from './status.js';
import type { KubeObject } from './types.js';

/** The patch content types the API server accepts, in its error message's order. */
export const PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/apply-patch+yaml',
  'application/strategic-merge-patch+json',
] as const;

/** Metadata only the server sets; what a client sends there is ignored. */
const SERVER_METADATA = [
  'uid',
  'creationTimestamp',
  'generation',
  'managedFields',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'selfLink',
] as const;

/** Parses a JSON body into an object (a JSON patch: into a list). */
export function parseJson(body: Buffer, type: ResourceType): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw badRequest(
      `the object provided is unrecognized (must be of type ${type.kind}): couldn't get version/kind; json parse error: ${(err as Error).message}`,
    );
  }
}

/** A body that must be one Kubernetes object: JSON, or YAML for apply patches. */
export function parseObject(body: Buffer, type: ResourceType, yaml = false): KubeObject {
  let value: unknown;
  if (yaml) {
    try {
      value = parseYaml(body.toString('utf8'));
    } catch (err) {
      throw badRequest(`error decoding YAML: ${(err as Error).message}`);
    }
  } else value = parseJson(body, type);
  if (!isJsonObject(value))
    throw badRequest(
      `the object provided is unrecognized (must be of type ${type.kind}): couldn't get version/kind; json parse error: not an object`,
    );
  const object = value as KubeObject;
  if (object.apiVersion !== undefined && object.apiVersion !== apiVersionOf(type)) {
    throw badRequest(`the API version in the data (${object.apiVersion}) does not match the expected API version (${apiVersionOf(type)})`);
  }
  if (object.kind !== undefined && object.kind !== type.kind)
    throw badRequest(`the kind in the data (${object.kind}) does not match the expected kind (${type.kind})`);
  if (yaml && (!object.apiVersion || !object.kind)) throw badRequest('invalid object type: /, Kind=');
  object.metadata = isJsonObject(object.metadata) ? object.metadata : { name: '' };
  for (const field of SERVER_METADATA) delete object.metadata[field];
  return object;
}

/** Fills the URL's namespace into an object, refusing one that names another. */
export function placeInNamespace(type: ResourceType, object: KubeObject, namespace: string | undefined): void {
  if (!type.namespaced) return;
  if (object.metadata.namespace && object.metadata.namespace !== namespace)
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  object.metadata.namespace = namespace;
}

/** POST: creates, without status when the type has a status subresource (the API server drops it). */
export function createFromBody(
  cluster: FakeCluster,
  type: ResourceType,
  object: KubeObject,
  namespace: string | undefined,
  dryRun: boolean,
): KubeObject {
  placeInNamespace(type, object, namespace);
  if (object.metadata.resourceVersion)
    throw new KubeStatusError(500, 'InternalError', 'resourceVersion should not be set on objects to be created');
  if (hasSubresource(type, 'status')) delete object.status;
  return cluster.createObject(type, object, dryRun);
}

/**
 * Writes `next` over `previous` as PUT and PATCH do: same name, optimistic concurrency on
 * metadata.resourceVersion, server metadata kept, and through the main resource the status is
 * kept (through /status only the status changes).
 */
export function writeUpdate(
  cluster: FakeCluster,
  type: ResourceType,
  previous: KubeObject,
  next: KubeObject,
  options: { dryRun: boolean; status?: boolean },
): KubeObject {
  const name = previous.metadata.name;
  if (next.metadata?.name && next.metadata.name !== name)
    throw badRequest(`the name of the object (${next.metadata.name}) does not match the name on the URL (${name})`);
  if (type.namespaced && next.metadata?.namespace && next.metadata.namespace !== previous.metadata.namespace) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  const sentVersion = next.metadata?.resourceVersion;
  if (sentVersion && sentVersion !== previous.metadata.resourceVersion) throw conflict(groupResource(type), name);
  let result: KubeObject;
  if (options.status) {
    result = { ...clone(previous), status: clone(next.status) };
  } else {
    result = clone(next);
    result.metadata = { ...next.metadata, name, namespace: previous.metadata.namespace };
    const meta: Record<string, unknown> = result.metadata;
    for (const field of SERVER_METADATA) {
      if (previous.metadata[field] === undefined) delete meta[field];
      else meta[field] = previous.metadata[field];
    }
    if (!type.namespaced) delete result.metadata.namespace;
    if (hasSubresource(type, 'status')) result.status = clone(previous.status);
    admit(cluster.store, type, result, previous);
  }
  result.metadata.resourceVersion = previous.metadata.resourceVersion;
  if (options.dryRun) return { ...result, apiVersion: apiVersionOf(type), kind: type.kind };
  return cluster.store.update(type, result);
}

/** The media type of a Content-Type header, lowercased, without parameters. */
export function mediaType(contentType: string): string {
  return (contentType.split(';')[0] ?? '').trim().toLowerCase();
}

/** Applies a PATCH body of `contentType` to `current`. Server-side apply merges like a merge patch here. */
export function applyPatch(type: ResourceType, current: unknown, body: Buffer, contentType: string): unknown {
  switch (mediaType(contentType)) {
    case 'application/merge-patch+json':
    case 'application/strategic-merge-patch+json':
      return mergePatch(current, parseJson(body, type));
    case 'application/json-patch+json':
      return jsonPatch(current, parseJson(body, type));
    case 'application/apply-patch+yaml':
      return mergePatch(current, parseObject(body, type, true));
    default:
      throw new KubeStatusError(
        415,
        'BadRequest',
        `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.join(', ')}`,
      );
  }
}

/** The 422 a negative or fractional replica count gets. */
export function checkReplicas(name: string, replicas: unknown): number {
  if (replicas === undefined || replicas === null) return 0;
  if (typeof replicas !== 'number' || !Number.isInteger(replicas))
    throw badRequest(`json: cannot unmarshal ${typeof replicas} into Go struct field ScaleSpec.spec.replicas of type int32`);
  if (replicas < 0) {
    throw new KubeStatusError(
      422,
      'Invalid',
      `Scale.autoscaling "${name}" is invalid: spec.replicas: Invalid value: ${replicas}: must be greater than or equal to 0`,
      { name, group: 'autoscaling', kind: 'Scale' },
    );
  }
  return replicas;
}
