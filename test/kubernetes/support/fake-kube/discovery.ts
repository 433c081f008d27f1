import { RESOURCE_TYPES, apiVersionOf, type ResourceType } from './resources.js';

/** What GET /version answers. */
export const VERSION_INFO = {
  major: '1',
  minor: '31',
  gitVersion: 'v1.31.0-fake',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2024-08-13T07:28:49Z',
  goVersion: 'go1.22.5',
  compiler: 'gc',
  platform: 'linux/amd64',
} as const;

function served(metricsServer: boolean): ResourceType[] {
  return RESOURCE_TYPES.filter((t) => metricsServer || !t.metrics);
}

/** GET /api: the core group's versions. */
export function apiVersions(serverAddress: string): unknown {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

/** GET /apis: every named group (metrics.k8s.io only while the metrics server is on). */
export function apiGroupList(metricsServer: boolean): unknown {
  const groups = new Map<string, string[]>();
  for (const t of served(metricsServer)) {
    if (!t.group) continue;
    const versions = groups.get(t.group) ?? [];
    if (!versions.includes(t.version)) versions.push(t.version);
    groups.set(t.group, versions);
  }
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [...groups.entries()].map(([name, versions]) => ({
      name,
      versions: versions.map((version) => ({ groupVersion: `${name}/${version}`, version })),
      preferredVersion: { groupVersion: `${name}/${versions[0]}`, version: versions[0] },
    })),
  };
}

/** GET /apis/<group> (APIGroup), or undefined when the group is not served. */
export function apiGroup(group: string, metricsServer: boolean): unknown {
  const list = apiGroupList(metricsServer) as { groups: { name: string }[] };
  const found = list.groups.find((g) => g.name === group);
  return found ? { kind: 'APIGroup', apiVersion: 'v1', ...found } : undefined;
}

/**
 * GET /api/v1 or /apis/<group>/<version>: the APIResourceList that KubernetesObjectApi resolves
 * kinds to plurals with; each resource is followed by its subresources, as the API server lists them.
 * Undefined when that group/version is not served.
 */
export function apiResourceList(group: string, version: string, metricsServer: boolean): unknown {
  const types = served(metricsServer).filter((t) => t.group === group && t.version === version);
  if (types.length === 0) return undefined;
  const resources = types.flatMap((t) => [
    {
      name: t.plural,
      singularName: t.singular,
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: [...t.verbs],
      ...(t.shortNames ? { shortNames: [...t.shortNames] } : {}),
    },
    ...t.subresources.map((s) => ({
      name: `${t.plural}/${s.name}`,
      singularName: '',
      namespaced: t.namespaced,
      ...(s.group ? { group: s.group, version: s.version } : {}),
      kind: s.kind,
      verbs: [...s.verbs],
    })),
  ]);
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(types[0]!), resources };
}
