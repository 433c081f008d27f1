import type Docker from 'dockerode';
import type { DockerNetworkMode, ScalableService } from '../../../contract.js';
import { containerLabels, names } from './labels.js';
import { replicaTraceEnv } from '../../traces/trace-env.js';
import { REDIS_AUTH_COMMAND } from '../redis-auth.js';

/** What every container of one stack shares. */
export interface StackLayout {
  stack: string;
  mode: DockerNetworkMode;
  images: { service: string; postgres: string; redis: string };
}

/** Ports inside a container on the bridge network; on the host network each gets its own. */
const INNER = { api: 3000, worker: 9100, postgres: 5432, redis: 6379 } as const;

export const DATABASE = 'scalelab';
export const DATABASE_USER = 'scalelab';

/**
 * The read replica's volume and data folder. PGDATA is a subfolder of the volume so that a seed
 * that failed halfway is told apart from a seeded one by what is in it (see replica-seed.ts).
 */
export const REPLICA_DATA = { mount: '/var/lib/postgresql/data', folder: 'pgdata', pgdata: '/var/lib/postgresql/data/pgdata' } as const;

/** The physical replication slot on the primary that holds back the WAL the replica has not received. */
export const REPLICA_SLOT = 'scalelab_replica';

/** Where the api and worker containers find PostgreSQL (and its read replica, when it runs) and Redis, passwords included. */
export function serviceUrls(
  layout: StackLayout,
  ports: { postgres: number; redis: number; replica?: number },
  password: string,
  redisPassword: string,
): { databaseUrl: string; redisUrl: string; replicaUrl?: string } {
  const bridge = layout.mode === 'bridge';
  const pg = bridge ? `postgres:${INNER.postgres}` : `127.0.0.1:${ports.postgres}`;
  const replica = bridge ? `postgres-replica:${INNER.postgres}` : `127.0.0.1:${ports.replica}`;
  const redis = bridge ? `redis:${INNER.redis}` : `127.0.0.1:${ports.redis}`;
  const url = (hostPort: string) => `postgres://${DATABASE_USER}:${encodeURIComponent(password)}@${hostPort}/${DATABASE}`;
  return {
    databaseUrl: url(pg),
    redisUrl: `redis://:${encodeURIComponent(redisPassword)}@${redis}`,
    ...(ports.replica ? { replicaUrl: url(replica) } : {}),
  };
}

/** Where the replica (and its seed) reach the primary: its alias on the stack network, or its port on loopback. */
export function primaryAddress(layout: StackLayout, primaryPort: number): { host: string; port: number } {
  return layout.mode === 'bridge' ? { host: 'postgres', port: INNER.postgres } : { host: '127.0.0.1', port: primaryPort };
}

/** Networking of a container: joined to the stack network with an alias, or the host's. */
function networking(
  layout: StackLayout,
  alias: string,
  inner: number,
  port: number,
): Pick<Docker.ContainerCreateOptions, 'ExposedPorts' | 'NetworkingConfig'> & { HostConfig: Docker.HostConfig } {
  if (layout.mode === 'host') return { HostConfig: { NetworkMode: 'host' } };
  const network = names.network(layout.stack);
  return {
    ExposedPorts: { [`${inner}/tcp`]: {} },
    HostConfig: {
      NetworkMode: network,
      // Published on loopback only: nothing of the stack is reachable from other machines.
      PortBindings: { [`${inner}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: String(port) }] },
    },
    NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: [alias] } } },
  };
}

/** PostgreSQL, with the official image's interface (POSTGRES_* variables, PGDATA on the volume). */
export function postgresContainer(layout: StackLayout, port: number, password: string): Docker.ContainerCreateOptions {
  const net = networking(layout, 'postgres', INNER.postgres, port);
  const hostArgs = layout.mode === 'host' ? ['-c', `port=${port}`, '-c', 'listen_addresses=127.0.0.1'] : [];
  return {
    name: names.container(layout.stack, 'postgres'),
    Image: layout.images.postgres,
    Cmd: ['postgres', '-c', 'max_connections=300', ...hostArgs],
    Env: [`POSTGRES_USER=${DATABASE_USER}`, `POSTGRES_PASSWORD=${password}`, `POSTGRES_DB=${DATABASE}`],
    Labels: containerLabels(layout.stack, 'postgres', 'postgres', port),
    ExposedPorts: net.ExposedPorts,
    NetworkingConfig: net.NetworkingConfig,
    StopSignal: 'SIGINT',
    HostConfig: {
      ...net.HostConfig,
      Mounts: [{ Type: 'volume', Source: names.volume(layout.stack), Target: '/var/lib/postgresql/data' }],
      // The control plane restarts every container itself, counting restarts (see store-container.ts).
      RestartPolicy: { Name: 'no' },
    },
  };
}

/**
 * The read replica: a hot standby streaming from the primary through its slot. Its volume is
 * seeded before it first starts (replica-seed.ts). primary_conninfo is given on every start
 * rather than kept in the volume, so a primary that moved to another port is still found; the
 * password stays out of the command line (which `ps` shows), in PGPASSWORD, which libpq reads.
 */
export function postgresReplicaContainer(
  layout: StackLayout,
  port: number,
  primaryPort: number,
  password: string,
): Docker.ContainerCreateOptions {
  const net = networking(layout, 'postgres-replica', INNER.postgres, port);
  const primary = primaryAddress(layout, primaryPort);
  const hostArgs = layout.mode === 'host' ? ['-c', `port=${port}`, '-c', 'listen_addresses=127.0.0.1'] : [];
  return {
    name: names.container(layout.stack, 'postgres-replica'),
    Image: layout.images.postgres,
    // A standby needs max_connections at least the primary's.
    Cmd: [
      'postgres',
      '-c',
      'max_connections=300',
      '-c',
      `primary_conninfo=host=${primary.host} port=${primary.port} user=${DATABASE_USER} application_name=scalelab-replica`,
      '-c',
      `primary_slot_name=${REPLICA_SLOT}`,
      ...hostArgs,
    ],
    Env: [`PGDATA=${REPLICA_DATA.pgdata}`, `PGPASSWORD=${password}`],
    Labels: containerLabels(layout.stack, 'postgres', 'postgres-replica', port),
    ExposedPorts: net.ExposedPorts,
    NetworkingConfig: net.NetworkingConfig,
    StopSignal: 'SIGINT',
    HostConfig: {
      ...net.HostConfig,
      Mounts: [{ Type: 'volume', Source: names.replicaVolume(layout.stack), Target: REPLICA_DATA.mount }],
      RestartPolicy: { Name: 'no' },
    },
  };
}

/**
 * A short-lived container on the replica's volume that seeds it: it runs `command` (pg_basebackup
 * from the primary) when given one, or is only created, never started, as the target of the
 * archive API. Labelled like the rest, so a seed cut short is swept with the stack.
 */
export function replicaSeedContainer(
  layout: StackLayout,
  command?: { entrypoint: string[]; args: string[]; env: string[] },
): Docker.ContainerCreateOptions {
  return {
    name: names.container(layout.stack, 'postgres-replica-seed'),
    Image: layout.images.postgres,
    Entrypoint: command?.entrypoint ?? ['true'],
    Cmd: command?.args ?? [],
    Env: command?.env ?? [],
    // Files the seed writes belong to the server's user; a terminal keeps its output in one plain stream.
    User: 'postgres',
    Tty: true,
    Labels: containerLabels(layout.stack, 'postgres', 'postgres-replica-seed', 0),
    HostConfig: {
      NetworkMode: layout.mode === 'host' ? 'host' : names.network(layout.stack),
      Mounts: [{ Type: 'volume', Source: names.replicaVolume(layout.stack), Target: REPLICA_DATA.mount }],
      RestartPolicy: { Name: 'no' },
    },
  };
}

/**
 * Redis as a cache and queue: no persistence (the database is the source of truth); clients AUTH
 * with `password` (in REDIS_URL), passed as POSTGRES_PASSWORD is: in the container's environment.
 */
export function redisContainer(layout: StackLayout, port: number, password: string): Docker.ContainerCreateOptions {
  const net = networking(layout, 'redis', INNER.redis, port);
  const listen =
    layout.mode === 'host' ? ['--port', String(port), '--bind', '127.0.0.1'] : ['--port', String(INNER.redis), '--protected-mode', 'no'];
  return {
    name: names.container(layout.stack, 'redis'),
    Image: layout.images.redis,
    // The password reaches redis-server through a 0600 file, never its command line (see redis-auth.ts).
    Entrypoint: [...REDIS_AUTH_COMMAND],
    Cmd: [...listen, '--save', '', '--appendonly', 'no'],
    Env: [`REDIS_PASSWORD=${password}`],
    Labels: containerLabels(layout.stack, 'redis', 'redis', port),
    ExposedPorts: net.ExposedPorts,
    NetworkingConfig: net.NetworkingConfig,
    HostConfig: { ...net.HostConfig, RestartPolicy: { Name: 'no' } },
  };
}

/** A cpu limit as Docker takes it: `NanoCpus` (what `docker run --cpus` sets), billionths of a core. */
export function nanoCpus(millicores: number | null): number {
  return millicores === null ? 0 : millicores * 1_000_000;
}

/**
 * An api or worker replica. `env` comes from the supervisor (DATABASE_URL, …, PORT or
 * METRICS_PORT set to the host-side port); on the bridge network the process listens on the
 * fixed inner port and Docker publishes it on 127.0.0.1:port. `cpuMillicores` (spec
 * `resources.<service>.cpu`) becomes the container's CFS quota; null leaves it unlimited.
 */
export function replicaContainer(
  layout: StackLayout,
  id: string,
  service: ScalableService,
  port: number,
  env: Record<string, string>,
  cpuMillicores: number | null = null,
): Docker.ContainerCreateOptions {
  const inner = INNER[service];
  const net = networking(layout, service, inner, port);
  const bridge = layout.mode === 'bridge';
  const listen =
    service === 'api'
      ? { PORT: String(bridge ? inner : port), HOST: bridge ? '0.0.0.0' : '127.0.0.1' }
      : { METRICS_PORT: String(bridge ? inner : port) };
  // The trace receiver listens on the host's 127.0.0.1, which only host-network containers reach
  // (a bridge container's 127.0.0.1 is its own): on the bridge, traces go only to the user's collector.
  const merged = { NODE_ENV: 'production', ...replicaTraceEnv(bridge ? 'elsewhere' : 'loopback'), ...env, ...listen, INSTANCE_ID: id };
  return {
    name: names.container(layout.stack, id),
    Image: layout.images.service,
    // The image's command runs the api; a worker runs the other bundle of the same image.
    Cmd: service === 'worker' ? ['node', '--max-semi-space-size=64', 'worker.mjs'] : undefined,
    Env: Object.entries(merged).map(([k, v]) => `${k}=${v}`),
    Labels: containerLabels(layout.stack, service, id, port),
    ExposedPorts: net.ExposedPorts,
    NetworkingConfig: net.NetworkingConfig,
    HostConfig: {
      ...net.HostConfig,
      // docker-init as pid 1 forwards SIGTERM to node, so a replica drains instead of being killed.
      Init: true,
      // The control plane restarts replicas itself (with backoff, counting restarts), as for local processes.
      RestartPolicy: { Name: 'no' },
      ...(cpuMillicores === null ? {} : { NanoCpus: nanoCpus(cpuMillicores) }),
    },
  };
}
