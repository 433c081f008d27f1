import type { FakeCluster } from './cluster.js';
import type { DeleteOptions } from './deletion.js';
import { isJsonObject } from './json.js';
import { apiVersionOf, groupResource, hasSubresource, R, type ResourceType } from './resources.js';
import type { ResourceRoute } from './routes.js';
import { parseFieldSelector, parseLabelSelector, selectorString, type LabelSelector } from './selectors.js';
import { badRequest, KubeStatusError, methodNotAllowed, notFound, success } from './status.js';
import type { KubeObject } from './types.js';
import { applyPatch, checkReplicas, createFromBody, mediaType, parseJson, parseObject, placeInNamespace, writeUpdate } from './writes.js';

/** A non-watch request on a resource path, body already read. */
export interface RestRequest {
  method: string;
  route: ResourceRoute;
  query: URLSearchParams;
  body: Buffer;
  contentType: string;
}

/** The status code and JSON body to answer with. */
export interface RestAnswer {
  status: number;
  body: unknown;
}

/** List items carry no kind or apiVersion: the API server leaves them to the list's. */
function asItem(object: KubeObject): Omit<KubeObject, 'kind' | 'apiVersion'> {
  const { kind: _kind, apiVersion: _apiVersion, ...item } = object;
  return item;
}

function allow(type: ResourceType, verb: string, method: string): void {
  if (!type.verbs.includes(verb)) throw methodNotAllowed(method);
}

/** Objects of a collection path that pass the labelSelector and fieldSelector. */
export function selected(cluster: FakeCluster, type: ResourceType, namespace: string | undefined, query: URLSearchParams): KubeObject[] {
  const labels = parseLabelSelector(query.get('labelSelector'));
  const fields = parseFieldSelector(query.get('fieldSelector'), type.kind);
  return cluster.store.list(type, namespace).filter((o) => labels(o.metadata.labels) && fields(o));
}

/** Where a `continue` token resumes a paged list; the token is the fake's own, opaque to clients. */
function continueOffset(token: string | null): number {
  if (!token) return 0;
  try {
    const offset = Number((JSON.parse(Buffer.from(token, 'base64url').toString()) as { offset?: unknown }).offset);
    if (Number.isInteger(offset) && offset >= 0) return offset;
  } catch {
    // Falls through to the API server's answer for a token it did not issue.
  }
  throw badRequest(`continue key is not valid: ${token}`);
}

function list(cluster: FakeCluster, type: ResourceType, namespace: string | undefined, query: URLSearchParams): RestAnswer {
  const items = selected(cluster, type, namespace, query);
  const offset = continueOffset(query.get('continue'));
  const limit = Number(query.get('limit') ?? 0);
  const end = limit > 0 ? offset + limit : items.length;
  const more = end < items.length;
  const metadata = {
    resourceVersion: cluster.store.resourceVersion,
    ...(more
      ? { continue: Buffer.from(JSON.stringify({ offset: end })).toString('base64url'), remainingItemCount: items.length - end }
      : {}),
  };
  return {
    status: 200,
    body: { kind: `${type.kind}List`, apiVersion: apiVersionOf(type), metadata, items: items.slice(offset, end).map(asItem) },
  };
}

function deleteOptions(query: URLSearchParams, body: Buffer, type: ResourceType): DeleteOptions {
  const fromBody = body.length > 0 ? parseJson(body, type) : {};
  const options: DeleteOptions = isJsonObject(fromBody) ? (fromBody as DeleteOptions) : {};
  const grace = query.get('gracePeriodSeconds');
  if (grace !== null) options.gracePeriodSeconds = Number(grace);
  const policy = query.get('propagationPolicy');
  if (policy === 'Orphan' || policy === 'Background' || policy === 'Foreground') options.propagationPolicy = policy;
  if (query.get('orphanDependents') === 'true') options.propagationPolicy = 'Orphan';
  return options;
}

/** The autoscaling/v1 Scale of a Deployment or StatefulSet. */
function toScale(object: KubeObject): KubeObject {
  const spec = (object.spec ?? {}) as { replicas?: number; selector?: LabelSelector };
  const status = (object.status ?? {}) as { replicas?: number };
  const { name, namespace, uid, resourceVersion, creationTimestamp } = object.metadata;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name, namespace, uid, resourceVersion, creationTimestamp },
    spec: { replicas: spec.replicas ?? 1 },
    status: { replicas: status.replicas ?? 0, selector: selectorString(spec.selector) },
  };
}

function scale(cluster: FakeCluster, req: RestRequest, type: ResourceType, current: KubeObject, dryRun: boolean): RestAnswer {
  if (req.method === 'GET') return { status: 200, body: toScale(current) };
  const name = current.metadata.name;
  let wanted: KubeObject;
  if (req.method === 'PUT') {
    const sent = parseJson(req.body, type);
    wanted = (isJsonObject(sent) ? sent : {}) as KubeObject;
  } else if (req.method === 'PATCH') wanted = applyPatch(type, toScale(current), req.body, req.contentType) as KubeObject;
  else throw methodNotAllowed(req.method);
  const replicas = checkReplicas(name, (wanted.spec as { replicas?: unknown } | undefined)?.replicas);
  const next = {
    ...current,
    metadata: { ...current.metadata, resourceVersion: wanted.metadata?.resourceVersion },
    spec: { ...(current.spec as object), replicas },
  };
  return { status: 200, body: toScale(writeUpdate(cluster, type, current, next, { dryRun })) };
}

function status(cluster: FakeCluster, req: RestRequest, type: ResourceType, current: KubeObject, dryRun: boolean): RestAnswer {
  if (req.method === 'GET') return { status: 200, body: current };
  let next: KubeObject;
  if (req.method === 'PUT') next = parseObject(req.body, type);
  else if (req.method === 'PATCH') next = applyPatch(type, current, req.body, req.contentType) as KubeObject;
  else throw methodNotAllowed(req.method);
  return { status: 200, body: writeUpdate(cluster, type, current, next, { dryRun, status: true }) };
}

function remove(
  cluster: FakeCluster,
  type: ResourceType,
  object: KubeObject,
  options: DeleteOptions,
  dryRun: boolean,
): KubeObject | ReturnType<typeof success> {
  const result = dryRun
    ? { object, graceful: false }
    : cluster.deleteObject(type, object.metadata.namespace, object.metadata.name, options);
  // Pods and namespaces answer with the object (now terminating); other resources with a Status.
  if (type === R.pod || type === R.namespace) return result.object;
  return success({ name: object.metadata.name, ...(type.group ? { group: type.group } : {}), kind: type.plural, uid: object.metadata.uid });
}

/** Answers GET (not watch), POST, PUT, PATCH and DELETE on a resource path; throws KubeStatusError. */
export function handleRest(cluster: FakeCluster, req: RestRequest): RestAnswer {
  const { type, namespace, name, subresource } = req.route;
  const dryRun = req.query.get('dryRun') === 'All';
  if (!name) {
    if (req.method === 'GET') {
      allow(type, 'list', req.method);
      return list(cluster, type, namespace, req.query);
    }
    if (req.method === 'POST') {
      allow(type, 'create', req.method);
      if (type.namespaced && namespace === undefined) throw methodNotAllowed(req.method);
      return { status: 201, body: createFromBody(cluster, type, parseObject(req.body, type), namespace, dryRun) };
    }
    if (req.method === 'DELETE') {
      allow(type, 'deletecollection', req.method);
      const options = deleteOptions(req.query, req.body, type);
      const items = selected(cluster, type, namespace, req.query).map((o) =>
        dryRun ? o : cluster.deleteObject(type, o.metadata.namespace, o.metadata.name, options).object,
      );
      return {
        status: 200,
        body: {
          kind: `${type.kind}List`,
          apiVersion: apiVersionOf(type),
          metadata: { resourceVersion: cluster.store.resourceVersion },
          items: items.map(asItem),
        },
      };
    }
    throw methodNotAllowed(req.method);
  }

  const current = cluster.store.get(type, namespace, name);
  const isApply = req.method === 'PATCH' && mediaType(req.contentType) === 'application/apply-patch+yaml';
  if (isApply && !req.query.get('fieldManager')) {
    throw new KubeStatusError(
      422,
      'Invalid',
      'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
      { group: 'meta.k8s.io', kind: 'PatchOptions' },
    );
  }
  if (!current) {
    if (isApply && !subresource) {
      allow(type, 'patch', req.method);
      const object = parseObject(req.body, type, true);
      if (object.metadata.name && object.metadata.name !== name)
        throw badRequest(`the name of the object (${object.metadata.name}) does not match the name on the URL (${name})`);
      object.metadata.name = name;
      delete object.metadata.resourceVersion;
      placeInNamespace(type, object, namespace);
      return { status: 201, body: createFromBody(cluster, type, object, namespace, dryRun) };
    }
    throw notFound(groupResource(type), name);
  }
  if (subresource === 'scale') return scale(cluster, req, type, current, dryRun);
  if (subresource === 'status' && hasSubresource(type, 'status')) return status(cluster, req, type, current, dryRun);
  if (subresource) throw methodNotAllowed(req.method);

  switch (req.method) {
    case 'GET':
      allow(type, 'get', req.method);
      return { status: 200, body: current };
    case 'PUT':
      allow(type, 'update', req.method);
      return { status: 200, body: writeUpdate(cluster, type, current, parseObject(req.body, type), { dryRun }) };
    case 'PATCH':
      allow(type, 'patch', req.method);
      return {
        status: 200,
        body: writeUpdate(cluster, type, current, applyPatch(type, current, req.body, req.contentType) as KubeObject, { dryRun }),
      };
    case 'DELETE':
      allow(type, 'delete', req.method);
      return { status: 200, body: remove(cluster, type, current, deleteOptions(req.query, req.body, type), dryRun) };
    default:
      throw methodNotAllowed(req.method);
  }
}
