import type { V1Container, V1Deployment, V1EnvVar, V1Namespace, V1Probe, V1Secret, V1Service, V1StatefulSet, V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import type { ScalableService, ServiceName, StackSpec } from '../../../contract.js';

/**
 * The stack on Kubernetes, as plain objects for server-side apply. charts/scalelab renders the
 * same objects (names, labels, probes, defaults); test/kubernetes/chart.test.ts holds them to it.
 */

/** Labels and the ownership mark. Chaos and cleanup touch nothing without `scalelab.stack`. */
export const KUBE_LABELS = {
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  component: 'app.kubernetes.io/component',
  partOf: 'app.kubernetes.io/part-of',
  managedBy: 'app.kubernetes.io/managed-by',
  stack: 'scalelab.stack',
} as const;

/** The field manager of every server-side apply. */
export const FIELD_MANAGER = 'scalelab';

/** Resource requests and limits of one container. */
export interface KubeResources {
  requests: { cpu: string; memory: string };
  limits: { memory: string };
}

/** Defaults shared with charts/scalelab/values.yaml. */
export const KUBE_DEFAULTS = {
  resources: {
    api: { requests: { cpu: '250m', memory: '128Mi' }, limits: { memory: '512Mi' } },
    worker: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } },
    redis: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
    postgres: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '1Gi' } },
  } satisfies Record<ServiceName, KubeResources>,
  autoscaling: {
    api: { minReplicas: 1, maxReplicas: 10, targetCPUUtilizationPercentage: 50 },
    worker: { minReplicas: 1, maxReplicas: 10, targetCPUUtilizationPercentage: 70 },
    scaleDownStabilizationSeconds: 300,
  },
  postgresStorage: '1Gi',
  /** How long /readyz answers 503 after SIGTERM, so the Service's endpoints drop a pod before it stops. */
  shutdownDelayMs: 5000,
  terminationGracePeriodSeconds: 30,
} as const;

/** Names of the stack's objects (fixed: one stack per namespace). */
export const KUBE_NAMES = {
  namespace: (stack: string) => `scalelab-${stack}`,
  secret: 'scalelab-secrets',
  workload: (service: ServiceName) => `scalelab-${service}`,
  /** The PVC the StatefulSet's `data` claim template makes for its only pod. */
  postgresClaim: 'data-scalelab-postgres-0',
} as const;

/** Container ports, named as the probes and Services refer to them. */
export const KUBE_PORTS = { api: 3000, worker: 9100, postgres: 5432, redis: 6379, apiService: 80 } as const;

/** The port name of each service's container. */
export const PORT_NAMES: Record<ServiceName, string> = { api: 'http', worker: 'metrics', postgres: 'postgres', redis: 'redis' };

export const DATABASE = 'scalelab';
export const DATABASE_USER = 'scalelab';

/** An object the driver applies. */
export type KubeObject = V1Namespace | V1Secret | V1Service | V1Deployment | V1StatefulSet | V2HorizontalPodAutoscaler;

/** Options of {@link stackObjects}. */
export interface StackObjectsOptions {
  /** @defaultValue 'IfNotPresent' (an image loaded into Minikube must not be pulled) */
  imagePullPolicy?: 'IfNotPresent' | 'Always' | 'Never';
}

/** Selector labels of one component. */
export function selectorLabels(stack: string, component: ServiceName): Record<string, string> {
  return { [KUBE_LABELS.name]: 'scalelab', [KUBE_LABELS.instance]: stack, [KUBE_LABELS.component]: component };
}

/** Labels of every object of `stack`. */
export function stackLabels(stack: string, component?: ServiceName): Record<string, string> {
  const labels: Record<string, string> = {
    [KUBE_LABELS.name]: 'scalelab',
    [KUBE_LABELS.instance]: stack,
    [KUBE_LABELS.partOf]: 'scalelab',
    [KUBE_LABELS.managedBy]: 'scalelab',
    [KUBE_LABELS.stack]: stack,
  };
  if (component) labels[KUBE_LABELS.component] = component;
  return labels;
}

/** Label selector string of everything of `stack`, or of one component. */
export function stackSelector(stack: string, component?: ServiceName): string {
  return `${KUBE_LABELS.stack}=${stack}` + (component ? `,${KUBE_LABELS.component}=${component}` : '');
}

function podLabels(stack: string, component: ServiceName): Record<string, string> {
  return { ...selectorLabels(stack, component), [KUBE_LABELS.stack]: stack, [KUBE_LABELS.partOf]: 'scalelab' };
}

function meta(stack: string, name: string, component?: ServiceName) {
  return { name, namespace: KUBE_NAMES.namespace(stack), labels: stackLabels(stack, component) };
}

const fromSecret = (name: string, key = name): V1EnvVar => ({ name, valueFrom: { secretKeyRef: { name: KUBE_NAMES.secret, key } } });
const httpProbe = (path: string, port: string, extra: Partial<V1Probe>): V1Probe => ({ httpGet: { path, port }, ...extra });

function service(stack: string, component: ServiceName, port: number): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(stack, KUBE_NAMES.workload(component), component),
    spec: { type: 'ClusterIP', selector: selectorLabels(stack, component), ports: [{ name: PORT_NAMES[component], port, targetPort: PORT_NAMES[component], protocol: 'TCP' }] },
  };
}

function deployment(stack: string, component: ServiceName, replicas: number | undefined, container: V1Container): V1Deployment {
  const scalable = component === 'api' || component === 'worker';
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(stack, KUBE_NAMES.workload(component), component),
    spec: {
      // Left out while an HPA owns the count, so re-applying never fights it.
      ...(replicas === undefined ? {} : { replicas }),
      selector: { matchLabels: selectorLabels(stack, component) },
      ...(scalable ? { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } } : {}),
      template: {
        metadata: { labels: podLabels(stack, component) },
        spec: { ...(scalable ? { terminationGracePeriodSeconds: KUBE_DEFAULTS.terminationGracePeriodSeconds } : {}), containers: [container] },
      },
    },
  };
}

function serviceContainer(service: ScalableService, spec: StackSpec, pullPolicy: string): V1Container {
  const port = PORT_NAMES[service];
  const common = { image: spec.images.service, imagePullPolicy: pullPolicy, resources: KUBE_DEFAULTS.resources[service] };
  const probes = {
    readinessProbe: httpProbe('/readyz', port, { periodSeconds: 5, failureThreshold: 2 }),
    livenessProbe: httpProbe('/healthz', port, { initialDelaySeconds: 10, periodSeconds: 10, failureThreshold: 3 }),
  };
  const instanceId: V1EnvVar = { name: 'INSTANCE_ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } };
  if (service === 'api') {
    return {
      name: 'api',
      ...common,
      env: [
        { name: 'NODE_ENV', value: 'production' },
        { name: 'HOST', value: '0.0.0.0' },
        { name: 'PORT', value: String(KUBE_PORTS.api) },
        { name: 'CACHE_TTL_SECONDS', value: String(spec.cache.ttlSeconds) },
        { name: 'SHUTDOWN_DELAY_MS', value: String(KUBE_DEFAULTS.shutdownDelayMs) },
        instanceId,
        fromSecret('DATABASE_URL'),
        fromSecret('REDIS_URL'),
        fromSecret('ADMIN_TOKEN'),
      ],
      ports: [{ name: port, containerPort: KUBE_PORTS.api, protocol: 'TCP' }],
      ...probes,
    };
  }
  return {
    name: 'worker',
    ...common,
    command: ['node', '--max-semi-space-size=64', 'worker.mjs'],
    env: [
      { name: 'NODE_ENV', value: 'production' },
      { name: 'HOST', value: '0.0.0.0' },
      { name: 'METRICS_PORT', value: String(KUBE_PORTS.worker) },
      instanceId,
      fromSecret('DATABASE_URL'),
      fromSecret('REDIS_URL'),
    ],
    ports: [{ name: port, containerPort: KUBE_PORTS.worker, protocol: 'TCP' }],
    ...probes,
  };
}

function postgres(stack: string, spec: StackSpec): V1StatefulSet {
  const name = KUBE_NAMES.workload('postgres');
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: meta(stack, name, 'postgres'),
    spec: {
      serviceName: name,
      replicas: 1,
      selector: { matchLabels: selectorLabels(stack, 'postgres') },
      template: {
        metadata: { labels: podLabels(stack, 'postgres') },
        spec: {
          containers: [
            {
              name: 'postgres',
              image: spec.images.postgres,
              args: ['-c', 'max_connections=300'],
              env: [
                { name: 'POSTGRES_USER', value: DATABASE_USER },
                { name: 'POSTGRES_DB', value: DATABASE },
                // A subfolder: a fresh volume's root holds lost+found, which initdb refuses.
                { name: 'PGDATA', value: '/var/lib/postgresql/data/pgdata' },
                fromSecret('POSTGRES_PASSWORD'),
              ],
              ports: [{ name: 'postgres', containerPort: KUBE_PORTS.postgres, protocol: 'TCP' }],
              readinessProbe: { exec: { command: ['pg_isready', '-U', DATABASE_USER, '-d', DATABASE, '-h', '127.0.0.1'] }, periodSeconds: 5 },
              livenessProbe: { tcpSocket: { port: 'postgres' }, initialDelaySeconds: 30, periodSeconds: 10 },
              resources: KUBE_DEFAULTS.resources.postgres,
              volumeMounts: [{ name: 'data', mountPath: '/var/lib/postgresql/data' }],
            },
          ],
        },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: 'data', labels: stackLabels(stack, 'postgres') },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: KUBE_DEFAULTS.postgresStorage } } },
        },
      ],
    },
  };
}

function hpa(stack: string, service: ScalableService): V2HorizontalPodAutoscaler {
  const name = KUBE_NAMES.workload(service);
  const config = KUBE_DEFAULTS.autoscaling[service];
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: meta(stack, name, service),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      minReplicas: config.minReplicas,
      maxReplicas: config.maxReplicas,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: config.targetCPUUtilizationPercentage } } }],
      behavior: { scaleDown: { stabilizationWindowSeconds: KUBE_DEFAULTS.autoscaling.scaleDownStabilizationSeconds } },
    },
  };
}

/** The HorizontalPodAutoscalers of a stack with the autoscaler on. */
export function hpaObjects(stack: string): V2HorizontalPodAutoscaler[] {
  return [hpa(stack, 'api'), hpa(stack, 'worker')];
}

/** The Secret: store passwords and the URLs the replicas connect with. */
export function secretObject(stack: string, secrets: { postgresPassword: string; adminToken: string }): V1Secret {
  const databaseUrl = `postgres://${DATABASE_USER}:${encodeURIComponent(secrets.postgresPassword)}@${KUBE_NAMES.workload('postgres')}:${KUBE_PORTS.postgres}/${DATABASE}`;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: meta(stack, KUBE_NAMES.secret),
    type: 'Opaque',
    stringData: {
      POSTGRES_PASSWORD: secrets.postgresPassword,
      ADMIN_TOKEN: secrets.adminToken,
      DATABASE_URL: databaseUrl,
      REDIS_URL: `redis://${KUBE_NAMES.workload('redis')}:${KUBE_PORTS.redis}`,
    },
  };
}

/**
 * Every object of the stack, in apply order: namespace, secret, stores, their services, then the
 * api and worker. With the autoscaler on, the Deployments leave `replicas` to the HPAs.
 */
export function stackObjects(spec: StackSpec, secrets: { postgresPassword: string; adminToken: string }, options: StackObjectsOptions = {}): KubeObject[] {
  const stack = spec.name;
  const pull = options.imagePullPolicy ?? 'IfNotPresent';
  const hpaOn = spec.autoscaler.enabled;
  const namespace: V1Namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: KUBE_NAMES.namespace(stack), labels: stackLabels(stack) } };
  const redis = deployment(stack, 'redis', 1, {
    name: 'redis',
    image: spec.images.redis,
    args: ['redis-server', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'],
    ports: [{ name: 'redis', containerPort: KUBE_PORTS.redis, protocol: 'TCP' }],
    readinessProbe: { exec: { command: ['redis-cli', 'ping'] }, periodSeconds: 5 },
    livenessProbe: { tcpSocket: { port: 'redis' }, periodSeconds: 10 },
    resources: KUBE_DEFAULTS.resources.redis,
  });
  return [
    namespace,
    secretObject(stack, secrets),
    postgres(stack, spec),
    service(stack, 'postgres', KUBE_PORTS.postgres),
    redis,
    service(stack, 'redis', KUBE_PORTS.redis),
    deployment(stack, 'api', hpaOn ? undefined : spec.replicas.api, serviceContainer('api', spec, pull)),
    service(stack, 'api', KUBE_PORTS.apiService),
    deployment(stack, 'worker', hpaOn ? undefined : spec.replicas.worker, serviceContainer('worker', spec, pull)),
    ...(hpaOn ? hpaObjects(stack) : []),
  ];
}
