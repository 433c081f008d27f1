import { resourceAt, type ResourceType } from './resources.js';

/** A path under a resource type: a collection, one object, or one of its subresources. */
export interface ResourceRoute {
  kind: 'resource';
  type: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
  /** The port of a proxy path (`pods/<name>:<port>/proxy`), when given. */
  proxyPort?: string;
  /** What follows `/proxy` (at least `/`), raw as sent. */
  proxyPath?: string;
  /** The deprecated `/watch/` form of the path. */
  watchPath: boolean;
}

/** Where a request goes. */
export type Route =
  | { kind: 'version' }
  | { kind: 'health' }
  | { kind: 'apiVersions' }
  | { kind: 'groups' }
  | { kind: 'group'; group: string }
  | { kind: 'resources'; group: string; version: string }
  | ResourceRoute;

/** `[scheme:]name[:port]`, as proxy paths name their target. */
function splitProxyName(raw: string): { name: string; port?: string } {
  const parts = raw.split(':');
  if (parts.length === 3) return { name: parts[1] ?? '', port: parts[2] };
  if (parts.length === 2)
    return parts[0] === 'http' || parts[0] === 'https' ? { name: parts[1] ?? '' } : { name: parts[0] ?? '', port: parts[1] };
  return { name: raw };
}

function resourceRoute(group: string, version: string, raw: string[]): ResourceRoute | undefined {
  let rest = raw;
  let watchPath = false;
  if (rest[0] === 'watch') [watchPath, rest] = [true, rest.slice(1)];
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3 && resourceAt(group, version, decodeURIComponent(rest[2] ?? ''))?.namespaced) {
    namespace = decodeURIComponent(rest[1] ?? '');
    rest = rest.slice(2);
  }
  const type = resourceAt(group, version, decodeURIComponent(rest[0] ?? ''));
  if (!type) return undefined;
  if (type.namespaced && namespace === undefined && rest.length > 1) return undefined;
  if (!type.namespaced && namespace !== undefined) return undefined;
  const subresource = rest[2] === undefined ? undefined : decodeURIComponent(rest[2]);
  if (subresource === 'proxy') {
    const target = splitProxyName(decodeURIComponent(rest[1] ?? ''));
    if (!type.subresources.some((s) => s.name === 'proxy')) return undefined;
    return {
      kind: 'resource',
      type,
      namespace,
      name: target.name,
      subresource,
      proxyPort: target.port,
      proxyPath: `/${rest.slice(3).join('/')}`,
      watchPath,
    };
  }
  if (rest.length > 3 || rest.some((s) => s === '')) return undefined;
  if (subresource && !type.subresources.some((s) => s.name === subresource)) return undefined;
  return {
    kind: 'resource',
    type,
    namespace,
    name: rest[1] === undefined ? undefined : decodeURIComponent(rest[1]),
    subresource,
    watchPath,
  };
}

/** Routes a request path (without query); undefined for a path the API server does not serve. */
export function route(pathname: string): Route | undefined {
  const raw = pathname.split('/').slice(1);
  // A trailing slash is ignored, except inside a proxy path where it belongs to the target's path.
  const isProxy = raw.includes('proxy');
  const segments = !isProxy && raw.length > 1 && raw[raw.length - 1] === '' ? raw.slice(0, -1) : raw;
  const [root, a, b] = segments;
  if (root === 'version' && segments.length === 1) return { kind: 'version' };
  if (root === 'healthz' || root === 'livez' || root === 'readyz') return { kind: 'health' };
  if (root === 'api') {
    if (segments.length === 1) return { kind: 'apiVersions' };
    if (a !== 'v1') return undefined;
    if (segments.length === 2) return { kind: 'resources', group: '', version: 'v1' };
    return resourceRoute('', 'v1', segments.slice(2));
  }
  if (root === 'apis') {
    if (segments.length === 1) return { kind: 'groups' };
    if (segments.length === 2) return { kind: 'group', group: a ?? '' };
    if (segments.length === 3) return { kind: 'resources', group: a ?? '', version: b ?? '' };
    return resourceRoute(a ?? '', b ?? '', segments.slice(3));
  }
  return undefined;
}
