/** A subresource the fake serves under `<resource>/<name>/<subresource>`. */
export interface SubresourceType {
  name: 'scale' | 'status' | 'proxy' | 'log';
  /** Kind of the subresource's body, as discovery lists it. */
  kind: string;
  /** Group/version of that kind when it differs from the resource's (Scale is autoscaling/v1). */
  group?: string;
  version?: string;
  verbs: readonly string[];
}

/** One resource type the fake stores (or, for metrics, computes). */
export interface ResourceType {
  /** '' for the core group. */
  group: string;
  version: string;
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  verbs: readonly string[];
  shortNames?: readonly string[];
  subresources: readonly SubresourceType[];
  /** Computed from setPodMetrics, not stored; served only while the metrics server is on. */
  metrics?: boolean;
}

const ALL = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] as const;
const READ_ONLY = ['get', 'list'] as const;
const STATUS = (kind: string): SubresourceType => ({ name: 'status', kind, verbs: ['get', 'patch', 'update'] });
const SCALE: SubresourceType = { name: 'scale', kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: ['get', 'patch', 'update'] };
const PROXY = (kind: string): SubresourceType => ({ name: 'proxy', kind, verbs: ['create', 'delete', 'get', 'patch', 'update'] });

function type(
  group: string,
  version: string,
  kind: string,
  plural: string,
  namespaced: boolean,
  extra: Partial<ResourceType> = {},
): ResourceType {
  return { group, version, kind, plural, singular: kind.toLowerCase(), namespaced, verbs: ALL, subresources: [], ...extra };
}

/** Every resource type the fake serves, in discovery order. */
export const RESOURCE_TYPES: readonly ResourceType[] = [
  type('', 'v1', 'ConfigMap', 'configmaps', true, { shortNames: ['cm'] }),
  type('', 'v1', 'Event', 'events', true, { shortNames: ['ev'] }),
  type('', 'v1', 'Namespace', 'namespaces', false, {
    shortNames: ['ns'],
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    subresources: [STATUS('Namespace')],
  }),
  type('', 'v1', 'Node', 'nodes', false, { shortNames: ['no'], subresources: [STATUS('Node')] }),
  type('', 'v1', 'PersistentVolumeClaim', 'persistentvolumeclaims', true, {
    shortNames: ['pvc'],
    subresources: [STATUS('PersistentVolumeClaim')],
  }),
  type('', 'v1', 'Pod', 'pods', true, {
    shortNames: ['po'],
    subresources: [{ name: 'log', kind: 'Pod', verbs: ['get'] }, PROXY('PodProxyOptions'), STATUS('Pod')],
  }),
  type('', 'v1', 'Secret', 'secrets', true),
  type('', 'v1', 'ServiceAccount', 'serviceaccounts', true, { shortNames: ['sa'] }),
  type('', 'v1', 'Service', 'services', true, { shortNames: ['svc'], subresources: [PROXY('ServiceProxyOptions'), STATUS('Service')] }),
  type('apps', 'v1', 'Deployment', 'deployments', true, { shortNames: ['deploy'], subresources: [SCALE, STATUS('Deployment')] }),
  type('apps', 'v1', 'StatefulSet', 'statefulsets', true, { shortNames: ['sts'], subresources: [SCALE, STATUS('StatefulSet')] }),
  type('autoscaling', 'v2', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers', true, {
    shortNames: ['hpa'],
    subresources: [STATUS('HorizontalPodAutoscaler')],
  }),
  type('apiregistration.k8s.io', 'v1', 'APIService', 'apiservices', false, { subresources: [STATUS('APIService')] }),
  type('metrics.k8s.io', 'v1beta1', 'NodeMetrics', 'nodes', false, { verbs: READ_ONLY, metrics: true }),
  type('metrics.k8s.io', 'v1beta1', 'PodMetrics', 'pods', true, { verbs: READ_ONLY, metrics: true }),
];

function find(group: string, plural: string): ResourceType {
  const found = RESOURCE_TYPES.find((t) => t.group === group && t.plural === plural && !t.metrics);
  if (!found) throw new Error(`fake Kubernetes API server: no resource ${plural}.${group}`);
  return found;
}

/** The stored resource types by name, for controllers. */
export const R = {
  configMap: find('', 'configmaps'),
  event: find('', 'events'),
  namespace: find('', 'namespaces'),
  node: find('', 'nodes'),
  pvc: find('', 'persistentvolumeclaims'),
  pod: find('', 'pods'),
  secret: find('', 'secrets'),
  serviceAccount: find('', 'serviceaccounts'),
  service: find('', 'services'),
  deployment: find('apps', 'deployments'),
  statefulSet: find('apps', 'statefulsets'),
  hpa: find('autoscaling', 'horizontalpodautoscalers'),
  apiService: find('apiregistration.k8s.io', 'apiservices'),
} as const;

/** `apps/v1`, or `v1` for the core group. */
export function apiVersionOf(t: ResourceType): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

/** `deployments.apps`, or `pods` for the core group: how Status messages name a resource. */
export function groupResource(t: ResourceType): string {
  return t.group ? `${t.plural}.${t.group}` : t.plural;
}

/** `Deployment.apps`, or `Pod`: how validation messages name a kind. */
export function groupKind(t: ResourceType): string {
  return t.group ? `${t.kind}.${t.group}` : t.kind;
}

/** The resource type at `/apis/<group>/<version>/<plural>` (or `/api/v1/<plural>`). */
export function resourceAt(group: string, version: string, plural: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((t) => t.group === group && t.version === version && t.plural === plural);
}

/** The stored resource type of a Kind (`Pod`, `Deployment`, …). */
export function resourceOfKind(kind: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((t) => t.kind === kind && !t.metrics);
}

/** Whether a resource type has `sub` as a subresource. */
export function hasSubresource(t: ResourceType, sub: SubresourceType['name']): boolean {
  return t.subresources.some((s) => s.name === sub);
}
