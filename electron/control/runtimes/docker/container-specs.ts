import type Docker from 'dockerode';
import type { DockerNetworkMode, ScalableService } from '../../../contract.js';
import { containerLabels, names } from './labels.js';

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

/** Where the api and worker containers find PostgreSQL and Redis. */
export function serviceUrls(layout: StackLayout, ports: { postgres: number; redis: number }, password: string): { databaseUrl: string; redisUrl: string } {
  const bridge = layout.mode === 'bridge';
  const pg = bridge ? `postgres:${INNER.postgres}` : `127.0.0.1:${ports.postgres}`;
  const redis = bridge ? `redis:${INNER.redis}` : `127.0.0.1:${ports.redis}`;
  return { databaseUrl: `postgres://${DATABASE_USER}:${encodeURIComponent(password)}@${pg}/${DATABASE}`, redisUrl: `redis://${redis}` };
}

/** Networking of a container: joined to the stack network with an alias, or the host's. */
function networking(layout: StackLayout, alias: string, inner: number, port: number): Pick<Docker.ContainerCreateOptions, 'ExposedPorts' | 'NetworkingConfig'> & { HostConfig: Docker.HostConfig } {
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

/** Redis as a cache and queue: no persistence (the database is the source of truth). */
export function redisContainer(layout: StackLayout, port: number): Docker.ContainerCreateOptions {
  const net = networking(layout, 'redis', INNER.redis, port);
  const listen = layout.mode === 'host' ? ['--port', String(port), '--bind', '127.0.0.1'] : ['--port', String(INNER.redis), '--protected-mode', 'no'];
  return {
    name: names.container(layout.stack, 'redis'),
    Image: layout.images.redis,
    Cmd: ['redis-server', ...listen, '--save', '', '--appendonly', 'no'],
    Labels: containerLabels(layout.stack, 'redis', 'redis', port),
    ExposedPorts: net.ExposedPorts,
    NetworkingConfig: net.NetworkingConfig,
    HostConfig: { ...net.HostConfig, RestartPolicy: { Name: 'no' } },
  };
}

/**
 * An api or worker replica. `env` comes from the supervisor (DATABASE_URL, …, PORT or
 * METRICS_PORT set to the host-side port); on the bridge network the process listens on the
 * fixed inner port and Docker publishes it on 127.0.0.1:port.
 */
export function replicaContainer(layout: StackLayout, id: string, service: ScalableService, port: number, env: Record<string, string>): Docker.ContainerCreateOptions {
  const inner = INNER[service];
  const net = networking(layout, service, inner, port);
  const bridge = layout.mode === 'bridge';
  const listen = service === 'api' ? { PORT: String(bridge ? inner : port), HOST: bridge ? '0.0.0.0' : '127.0.0.1' } : { METRICS_PORT: String(bridge ? inner : port) };
  const merged = { NODE_ENV: 'production', ...env, ...listen, INSTANCE_ID: id };
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
    },
  };
}
