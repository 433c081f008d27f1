import type {
  V1ConfigMap,
  V1Container,
  V1Deployment,
  V1EnvVar,
  V1Namespace,
  V1Probe,
  V1Secret,
  V1Service,
  V1StatefulSet,
  V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import type { ScalableService, ServiceName, StackSpec } from '../../../contract.js';
import {
  DATABASE,
  DATABASE_USER,
  fromSecret,
  KUBE_DEFAULTS,
  KUBE_NAMES,
  KUBE_PORTS,
  meta,
  podLabels,
  PORT_NAMES,
  selectorLabels,
  stackLabels,
  type KubeComponent,
  type KubeResources,
} from './kube-names.js';
import { postgresConfigMap, postgresStatefulSets } from './postgres-objects.js';
import { REDIS_AUTH_COMMAND } from '../redis-auth.js';

export * from './kube-names.js';

/**
 * The stack on Kubernetes, as plain objects for server-side apply. charts/scalelab renders the
 * same objects (names, labels, probes, defaults); test/kubernetes/chart.test.ts holds them to it.
 */

/** An object the driver applies. */
export type KubeObject = V1Namespace | V1Secret | V1ConfigMap | V1Service | V1Deployment | V1StatefulSet | V2HorizontalPodAutoscaler;

/** Options of {@link stackObjects}. */
export interface StackObjectsOptions {
  /** @defaultValue 'IfNotPresent' (an image loaded into Minikube must not be pulled) */
  imagePullPolicy?: 'IfNotPresent' | 'Always' | 'Never';
  /**
   * The user's own OTLP collector (OTEL_EXPORTER_OTLP_ENDPOINT in the control plane's environment),
   * given to the api and worker as it is. The control plane's receiver binds 127.0.0.1, out of a
   * cluster's reach. @defaultValue undefined: no tracing in the pods
   */
  otlpEndpoint?: string;
}

const httpProbe = (path: string, port: string, extra: Partial<V1Probe>): V1Probe => ({ httpGet: { path, port }, ...extra });

function service(stack: string, component: KubeComponent, port: number): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(stack, KUBE_NAMES.workload(component), component),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(stack, component),
      ports: [{ name: PORT_NAMES[component], port, targetPort: PORT_NAMES[component], protocol: 'TCP' }],
    },
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
        spec: {
          ...(scalable ? { terminationGracePeriodSeconds: KUBE_DEFAULTS.terminationGracePeriodSeconds } : {}),
          containers: [container],
        },
      },
    },
  };
}

/**
 * An api or worker container's resources: the defaults, and with `resources.<service>.cpu` that
 * cpu as both request and limit, so the kubelet enforces it (CFS quota) and the HPA's
 * utilization is relative to it. Without one the default request stays (the HPA needs a request)
 * and nothing limits the cpu.
 */
export function serviceResources(service: ScalableService, spec: Pick<StackSpec, 'resources'>): KubeResources {
  const defaults = KUBE_DEFAULTS.resources[service];
  const cpu = spec.resources?.[service]?.cpu;
  return cpu ? { requests: { ...defaults.requests, cpu }, limits: { ...defaults.limits, cpu } } : defaults;
}

function serviceContainer(service: ScalableService, spec: StackSpec, pullPolicy: string, otlpEndpoint: string | undefined): V1Container {
  const port = PORT_NAMES[service];
  const common = { image: spec.images.service, imagePullPolicy: pullPolicy, resources: serviceResources(service, spec) };
  const probes = {
    readinessProbe: httpProbe('/readyz', port, { periodSeconds: 5, failureThreshold: 2 }),
    livenessProbe: httpProbe('/healthz', port, { initialDelaySeconds: 10, periodSeconds: 10, failureThreshold: 3 }),
  };
  const instanceId: V1EnvVar = { name: 'INSTANCE_ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } };
  const data: V1EnvVar[] = [
    { name: 'USERS_PARTITIONS', value: String(spec.data.partitions) },
    { name: 'EVENTS', value: String(spec.data.events) },
    ...(otlpEndpoint ? [{ name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: otlpEndpoint }] : []),
  ];
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
        ...data,
        instanceId,
        fromSecret('DATABASE_URL'),
        // Reads that miss the cache go to the replica; writes and read-your-writes stay on the primary.
        ...(spec.data.readReplica ? [fromSecret('DATABASE_REPLICA_URL')] : []),
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
      ...data,
      instanceId,
      fromSecret('DATABASE_URL'),
      fromSecret('REDIS_URL'),
      // The outbox relay's and projector's chaos hooks (/admin/stream/*) on the metrics port.
      fromSecret('ADMIN_TOKEN'),
    ],
    ports: [{ name: port, containerPort: KUBE_PORTS.worker, protocol: 'TCP' }],
    ...probes,
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
      metrics: [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: config.targetCPUUtilizationPercentage } },
        },
      ],
      behavior: { scaleDown: { stabilizationWindowSeconds: KUBE_DEFAULTS.autoscaling.scaleDownStabilizationSeconds } },
    },
  };
}

/** The HorizontalPodAutoscalers of a stack with the autoscaler on. */
export function hpaObjects(stack: string): V2HorizontalPodAutoscaler[] {
  return [hpa(stack, 'api'), hpa(stack, 'worker')];
}

/** Options of {@link secretObject}. */
export interface SecretObjectOptions {
  /** Adds DATABASE_REPLICA_URL (spec `data.readReplica`). @defaultValue false */
  readReplica?: boolean;
}

/** The passwords and the token of a stack (see local/state.ts, where they are generated and kept). */
export interface StackSecrets {
  postgresPassword: string;
  adminToken: string;
  redisPassword: string;
}

/** The Secret: store passwords and the URLs the replicas connect with. */
export function secretObject(stack: string, secrets: StackSecrets, options: SecretObjectOptions = {}): V1Secret {
  const url = (host: KubeComponent) =>
    `postgres://${DATABASE_USER}:${encodeURIComponent(secrets.postgresPassword)}@${KUBE_NAMES.workload(host)}:${KUBE_PORTS.postgres}/${DATABASE}`;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: meta(stack, KUBE_NAMES.secret),
    type: 'Opaque',
    stringData: {
      POSTGRES_PASSWORD: secrets.postgresPassword,
      ADMIN_TOKEN: secrets.adminToken,
      DATABASE_URL: url('postgres'),
      ...(options.readReplica ? { DATABASE_REPLICA_URL: url('postgres-replica') } : {}),
      REDIS_PASSWORD: secrets.redisPassword,
      REDIS_URL: `redis://:${encodeURIComponent(secrets.redisPassword)}@${KUBE_NAMES.workload('redis')}:${KUBE_PORTS.redis}`,
    },
  };
}

/**
 * Every object of the stack, in apply order: namespace, secret, stores, their services, then the
 * api and worker. With the autoscaler on, the Deployments leave `replicas` to the HPAs; with
 * `data.readReplica`, a second StatefulSet streams from the primary.
 */
export function stackObjects(spec: StackSpec, secrets: StackSecrets, options: StackObjectsOptions = {}): KubeObject[] {
  const stack = spec.name;
  const pull = options.imagePullPolicy ?? 'IfNotPresent';
  const hpaOn = spec.autoscaler.enabled;
  const namespace: V1Namespace = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: KUBE_NAMES.namespace(stack), labels: stackLabels(stack) },
  };
  const redis = deployment(stack, 'redis', 1, {
    name: 'redis',
    image: spec.images.redis,
    // requirepass from the Secret through a 0600 file, never on the command line (see redis-auth.ts);
    // redis-cli (the readiness probe) reads REDISCLI_AUTH.
    command: [...REDIS_AUTH_COMMAND],
    args: ['--save', '', '--appendonly', 'no', '--protected-mode', 'no'],
    env: [fromSecret('REDIS_PASSWORD'), fromSecret('REDISCLI_AUTH', 'REDIS_PASSWORD')],
    ports: [{ name: 'redis', containerPort: KUBE_PORTS.redis, protocol: 'TCP' }],
    readinessProbe: { exec: { command: ['redis-cli', 'ping'] }, periodSeconds: 5 },
    livenessProbe: { tcpSocket: { port: 'redis' }, periodSeconds: 10 },
    resources: KUBE_DEFAULTS.resources.redis,
  });
  const [primary, replica] = postgresStatefulSets(spec);
  return [
    namespace,
    secretObject(stack, secrets, { readReplica: spec.data.readReplica }),
    postgresConfigMap(stack),
    primary!,
    service(stack, 'postgres', KUBE_PORTS.postgres),
    ...(replica ? [replica, service(stack, 'postgres-replica', KUBE_PORTS.postgres)] : []),
    redis,
    service(stack, 'redis', KUBE_PORTS.redis),
    deployment(stack, 'api', hpaOn ? undefined : spec.replicas.api, serviceContainer('api', spec, pull, options.otlpEndpoint)),
    service(stack, 'api', KUBE_PORTS.apiService),
    deployment(stack, 'worker', hpaOn ? undefined : spec.replicas.worker, serviceContainer('worker', spec, pull, options.otlpEndpoint)),
    ...(hpaOn ? hpaObjects(stack) : []),
  ];
}
