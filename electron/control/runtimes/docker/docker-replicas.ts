/**
 * A Docker stack's api and worker replicas: the ReplicaSet that runs them as containers, the
 * adoption of those a previous control plane left running, and the removal of those started
 * without Redis's password.
 */
import path from 'node:path';
import type Docker from 'dockerode';
import { cpuMillicores, type StackSpec } from '../../../contract.js';
import type { Balancer } from '../../balancer/balancer.js';
import { ReplicaSet, type ReplicaEvent } from '../local/replica-set.js';
import type { Secrets } from '../local/state.js';
import type { OnProgress } from '../runtime.js';
import { ContainerProcess, removeOwned } from './container-process.js';
import { replicaContainer, serviceUrls, type StackLayout } from './container-specs.js';
import type { DockerEvents } from './docker-events.js';
import type { DockerState } from './docker-state.js';
import { isOwned, LABELS, names } from './labels.js';

/** Options of {@link dockerReplicaSet}. */
export interface DockerReplicaSetOptions {
  docker: Docker;
  events: DockerEvents;
  spec: StackSpec;
  layout: StackLayout;
  dir: string;
  balancer: Balancer;
  /** The stores as the containers reach them. */
  inner: ReturnType<typeof serviceUrls>;
  secrets: Secrets;
  /** The running stack's spec, for the cpu limit of a new replica; `spec` until it runs. */
  currentSpec: () => StackSpec | undefined;
  onRecord: () => void;
  onChange: () => void;
  onEvent: (event: ReplicaEvent) => void;
}

/** The replica set whose replicas are containers of the stack. */
export function dockerReplicaSet(options: DockerReplicaSetOptions): ReplicaSet {
  const { docker, events, spec, layout, dir, inner, secrets } = options;
  const base = { docker, events, stack: spec.name };
  return new ReplicaSet({
    balancer: options.balancer,
    logsDir: path.join(dir, 'logs'),
    env: {
      DATABASE_URL: inner.databaseUrl,
      // Reads that miss the cache go to the replica; writes and read-your-writes stay on the primary.
      ...(inner.replicaUrl ? { DATABASE_REPLICA_URL: inner.replicaUrl } : {}),
      REDIS_URL: inner.redisUrl,
      // Workers serve their stream hooks (/admin/stream/*) on METRICS_PORT with the same token.
      ADMIN_TOKEN: secrets.adminToken,
      CACHE_TTL_SECONDS: String(spec.cache.ttlSeconds),
      USERS_PARTITIONS: String(spec.data.partitions),
      EVENTS: String(spec.data.events),
      SHUTDOWN_DELAY_MS: '0',
    },
    onRecord: options.onRecord,
    onChange: options.onChange,
    onEvent: options.onEvent,
    // Pulling is done; a cold container on 2 cores takes a few seconds more than a process.
    readyTimeoutMs: 90_000,
    launch: (replica, env) =>
      ContainerProcess.launch(
        { ...base, logFile: replica.logFile },
        replicaContainer(
          layout,
          replica.id,
          replica.service,
          replica.port,
          env,
          cpuMillicores(options.currentSpec() ?? spec, replica.service),
        ),
      ),
    onRetired: (replica) => removeOwned(docker, names.container(spec.name, replica.id), spec.name),
  });
}

/** Options of {@link adoptReplicas}. */
export interface AdoptReplicasOptions {
  docker: Docker;
  events: DockerEvents;
  stack: string;
  dir: string;
  replicas: ReplicaSet;
  /** The stack's containers, as listed at the start. */
  existing: Docker.ContainerInfo[];
  previous: DockerState | undefined;
  onProgress: OnProgress;
}

/** Adopts the stack's running api and worker containers (with their restart counts); stopped ones are removed. */
export async function adoptReplicas({
  docker,
  events,
  stack,
  dir,
  replicas,
  existing,
  previous,
  onProgress,
}: AdoptReplicasOptions): Promise<void> {
  const base = { docker, events, stack };
  for (const c of existing) {
    const service = c.Labels[LABELS.service];
    const id = c.Labels[LABELS.instance];
    if ((service !== 'api' && service !== 'worker') || !id || !isOwned(c.Labels, stack)) continue;
    if (c.State !== 'running') {
      await removeOwned(docker, names.container(stack, id), stack);
      continue;
    }
    const port = Number(c.Labels[LABELS.port]);
    replicas.adopt(
      { id, service, port, restarts: previous?.restarts[id] ?? 0, startedAt: c.Created * 1000 },
      ContainerProcess.adopt({ ...base, logFile: path.join(dir, 'logs', `${id}.log`) }, docker.getContainer(c.Id)),
    );
    onProgress(`adopted ${id}`);
  }
}

/**
 * A stack an older ScaleLab started runs Redis without a password, and replicas that connect without
 * one (`unsecured`: its secrets.json had none): those containers are removed, to start afresh with the
 * password. PostgreSQL and its data stay; the cache refills.
 */
export async function withoutUnsecured(
  docker: Docker,
  stack: string,
  containers: Docker.ContainerInfo[],
  unsecured: boolean,
  onProgress: OnProgress,
): Promise<Docker.ContainerInfo[]> {
  const stale = unsecured
    ? containers.filter((c) => ['redis', 'api', 'worker'].includes(c.Labels[LABELS.service] ?? '') && isOwned(c.Labels, stack))
    : [];
  if (stale.length === 0) return containers;
  onProgress(`restarting ${stale.map((c) => c.Labels[LABELS.instance]).join(', ')}: Redis ran without a password`);
  for (const c of stale) await removeOwned(docker, names.container(stack, c.Labels[LABELS.instance]!), stack);
  return containers.filter((c) => !stale.includes(c));
}
