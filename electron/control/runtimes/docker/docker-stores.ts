/**
 * A Docker stack's store containers (PostgreSQL, Redis and the read replica): their host ports and
 * URLs, their supervisors, and how they are started or adopted on `up`.
 */
import path from 'node:path';
import type Docker from 'dockerode';
import type { StackSpec } from '../../../contract.js';
import { freePort, isPortOpen } from '../local/ports.js';
import type { Secrets } from '../local/state.js';
import type { OnProgress } from '../runtime.js';
import {
  DATABASE,
  DATABASE_USER,
  postgresContainer,
  postgresReplicaContainer,
  redisContainer,
  type StackLayout,
} from './container-specs.js';
import type { DockerEvents } from './docker-events.js';
import type { DockerState } from './docker-state.js';
import { LABELS, names } from './labels.js';
import { removeReplica, seedReplica } from './replica-seed.js';
import { postgresAnswers, redisAnswers, StoreContainer } from './store-container.js';

/** The stack's container with this instance label, when one exists. */
export type FindContainer = (instance: string) => Docker.ContainerInfo | undefined;

/** The stores of a stack about to start. */
export interface StorePlan {
  /** Ports on 127.0.0.1; `replica` only with a read replica. */
  ports: { postgres: number; redis: number; replica?: number };
  /** PostgreSQL (and its read replica) and Redis as the host (telemetry) reaches them. */
  urls: { database: string; redis: string; replica?: string };
  /** PostgreSQL and Redis; the read replica joins them once it is started. */
  stores: StoreContainer[];
  replica: StoreContainer | undefined;
}

/** Options of {@link planStores}. */
export interface PlanStoresOptions {
  docker: Docker;
  events: DockerEvents;
  spec: StackSpec;
  layout: StackLayout;
  dir: string;
  secrets: Secrets;
  previous: DockerState | undefined;
  find: FindContainer;
  /** A store's phase changed. */
  onChange: () => void;
}

/** Chooses the stores' ports (a running container's, else the recorded one while free, else a free one) and builds their supervisors. */
export async function planStores({
  docker,
  events,
  spec,
  layout,
  dir,
  secrets,
  previous,
  find,
  onChange,
}: PlanStoresOptions): Promise<StorePlan> {
  const portOf = async (instance: string, recorded: number | undefined) => {
    const label = Number(find(instance)?.Labels[LABELS.port]);
    if (label > 0) return label;
    return recorded && !(await isPortOpen(recorded)) ? recorded : freePort();
  };
  const ports = {
    postgres: await portOf('postgres', previous?.ports.postgres),
    redis: await portOf('redis', previous?.ports.redis),
    ...(spec.data.readReplica ? { replica: await portOf('postgres-replica', previous?.ports.replica) } : {}),
  };
  const pgUrl = (port: number) =>
    `postgres://${DATABASE_USER}:${encodeURIComponent(secrets.postgresPassword)}@127.0.0.1:${port}/${DATABASE}`;
  const urls = {
    database: pgUrl(ports.postgres),
    redis: `redis://:${encodeURIComponent(secrets.redisPassword)}@127.0.0.1:${ports.redis}`,
    ...(ports.replica ? { replica: pgUrl(ports.replica) } : {}),
  };
  const base = { docker, events, stack: spec.name };
  const stores = [
    new StoreContainer({
      ...base,
      id: 'postgres',
      port: ports.postgres,
      logFile: path.join(dir, 'logs', 'postgres.log'),
      create: postgresContainer(layout, ports.postgres, secrets.postgresPassword),
      ready: () => postgresAnswers(urls.database),
      onChange,
    }),
    new StoreContainer({
      ...base,
      id: 'redis',
      port: ports.redis,
      logFile: path.join(dir, 'logs', 'redis.log'),
      create: redisContainer(layout, ports.redis, secrets.redisPassword),
      ready: () => redisAnswers(ports.redis, secrets.redisPassword),
      onChange,
    }),
  ];
  const replica =
    ports.replica && urls.replica
      ? new StoreContainer({
          ...base,
          id: 'postgres-replica',
          port: ports.replica,
          logFile: path.join(dir, 'logs', 'postgres-replica.log'),
          create: postgresReplicaContainer(layout, ports.replica, ports.postgres, secrets.postgresPassword),
          ready: () => postgresAnswers(urls.replica!),
          onChange,
        })
      : undefined;
  return { ports, urls, stores, replica };
}

/** Options of {@link startStores}. */
export interface StartStoresOptions {
  docker: Docker;
  spec: StackSpec;
  layout: StackLayout;
  dir: string;
  plan: StorePlan;
  find: FindContainer;
  postgresPassword: string;
  timeoutMs: number;
  replicaSeed: 'auto' | 'copy' | undefined;
  onProgress: OnProgress;
}

/**
 * Starts (or adopts) PostgreSQL and Redis and waits for both; then the read replica, seeded first
 * when it does not run, which joins `plan.stores`. Without one, a replica left from before is removed.
 */
export async function startStores(options: StartStoresOptions): Promise<void> {
  const { docker, spec, layout, dir, plan, find, onProgress } = options;
  const { stores, replica, ports, urls } = plan;
  const { images } = layout;
  for (const store of stores) {
    const found = find(store.id);
    const adopt = found?.State === 'running' ? docker.getContainer(found.Id) : undefined;
    onProgress(
      adopt
        ? `adopted ${found!.Names[0]?.slice(1)}`
        : `starting ${store.id} (${store.id === 'postgres' ? images.postgres : images.redis}) on 127.0.0.1:${store.port}`,
    );
    store.start(adopt);
  }
  await Promise.all(stores.map((s) => s.waitReady(options.timeoutMs).then(() => onProgress(`${s.id} is ready`))));
  if (replica) {
    stores.push(replica);
    const found = find(replica.id);
    const primary = { container: docker.getContainer(names.container(spec.name, 'postgres')), url: urls.database, port: ports.postgres };
    if (found?.State !== 'running')
      await seedReplica({
        docker,
        layout,
        primary,
        password: options.postgresPassword,
        workDir: dir,
        onProgress,
        method: options.replicaSeed,
      });
    onProgress(
      found?.State === 'running' ? `adopted ${found.Names[0]?.slice(1)}` : `starting the read replica on 127.0.0.1:${replica.port}`,
    );
    replica.start(found?.State === 'running' ? docker.getContainer(found.Id) : undefined);
    await replica.waitReady(options.timeoutMs);
    onProgress('postgres-replica is ready');
  } else {
    // Off now: a replica left from an earlier start would fall behind, and its slot would hold the primary's WAL.
    await removeReplica(docker, spec.name, urls.database, onProgress);
  }
}
