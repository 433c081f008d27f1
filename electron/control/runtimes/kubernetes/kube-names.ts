import type { V1EnvVar } from '@kubernetes/client-node';
import type { ServiceName } from '../../../contract.js';

/**
 * The names, labels, ports and defaults of a stack on Kubernetes: what manifests.ts,
 * postgres-objects.ts and charts/scalelab all spell the same way.
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

/** A component of the stack: a service, or the read replica (spec `data.readReplica`), which shows as a `postgres` instance. */
export type KubeComponent = ServiceName | 'postgres-replica';

/** The field manager of every server-side apply. */
export const FIELD_MANAGER = 'scalelab';

/** Resource requests and limits of one container; limits.cpu only where the spec sets one (`resources.<service>.cpu`). */
export interface KubeResources {
  requests: { cpu: string; memory: string };
  limits: { cpu?: string; memory: string };
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
  workload: (component: KubeComponent) => `scalelab-${component}`,
  /** The PVC the StatefulSet's `data` claim template makes for its only pod. */
  postgresClaim: 'data-scalelab-postgres-0',
  /** The read replica's PVC. */
  replicaClaim: 'data-scalelab-postgres-replica-0',
  /** The primary's pg_hba.conf (streaming replication allowed from the pod network). */
  postgresConfig: 'scalelab-postgres-config',
} as const;

/** Container ports, named as the probes and Services refer to them. */
export const KUBE_PORTS = { api: 3000, worker: 9100, postgres: 5432, redis: 6379, apiService: 80 } as const;

/** The port name of each service's container. */
export const PORT_NAMES: Record<KubeComponent, string> = {
  api: 'http',
  worker: 'metrics',
  postgres: 'postgres',
  redis: 'redis',
  'postgres-replica': 'postgres',
};

export const DATABASE = 'scalelab';
export const DATABASE_USER = 'scalelab';

/** Selector labels of one component. */
export function selectorLabels(stack: string, component: KubeComponent): Record<string, string> {
  return { [KUBE_LABELS.name]: 'scalelab', [KUBE_LABELS.instance]: stack, [KUBE_LABELS.component]: component };
}

/** Labels of every object of `stack`. */
export function stackLabels(stack: string, component?: KubeComponent): Record<string, string> {
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
export function stackSelector(stack: string, component?: KubeComponent): string {
  return `${KUBE_LABELS.stack}=${stack}` + (component ? `,${KUBE_LABELS.component}=${component}` : '');
}

/** Labels of a component's pods: its selector labels, the ownership mark and part-of. */
export function podLabels(stack: string, component: KubeComponent): Record<string, string> {
  return { ...selectorLabels(stack, component), [KUBE_LABELS.stack]: stack, [KUBE_LABELS.partOf]: 'scalelab' };
}

/** Metadata of an object of `stack`. */
export function meta(stack: string, name: string, component?: KubeComponent) {
  return { name, namespace: KUBE_NAMES.namespace(stack), labels: stackLabels(stack, component) };
}

/** An env entry read from the stack's Secret. */
export const fromSecret = (name: string, key = name): V1EnvVar => ({ name, valueFrom: { secretKeyRef: { name: KUBE_NAMES.secret, key } } });
