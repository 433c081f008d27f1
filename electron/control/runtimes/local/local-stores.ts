/**
 * A local stack's stores: whether their programs are here, PostgreSQL and Redis built on the
 * recorded (or free) ports, started or adopted together on `up`, listed as instances, and crashed
 * and brought back for outages.
 */
import path from 'node:path';
import type { Instance, Probe } from '../../../contract.js';
import type { OnProgress, SignalHow, StoreId } from '../runtime.js';
import { freePort } from './ports.js';
import { LocalPostgres, postgresBinaries, postgresDataDir } from './postgres.js';
import { REPLICA_ID } from './read-replica.js';
import { findRedisServer, LocalRedis, RedisNotFoundError } from './redis.js';
import type { LocalState, Secrets } from './state.js';
import type { OutageTarget } from './store-outages.js';

/** The database the stack's replicas use. */
export const DATABASE = 'scalelab';

/** PostgreSQL, its read replica and Redis, each while it is part of the stack. */
export interface LocalStores {
  postgres: LocalPostgres | undefined;
  readReplica: LocalPostgres | undefined;
  redis: LocalRedis | undefined;
}

/** The local runtime is available when redis-server is on PATH and PostgreSQL's binaries are installed. */
export async function probeStores(): Promise<Probe> {
  if (!findRedisServer()) {
    const err = new RedisNotFoundError();
    return { runtime: 'local', available: false, reason: 'redis-server is not on PATH', fix: err.message };
  }
  try {
    const bin = await postgresBinaries();
    return { runtime: 'local', available: true, version: `PostgreSQL ${bin.version.split('-')[0]}` };
  } catch (err) {
    return { runtime: 'local', available: false, reason: (err as Error).message, fix: 'run npm install in the ScaleLab folder' };
  }
}

/** PostgreSQL and Redis of the stack in `dir`, on the ports `previous` recorded or on free ones; not started. */
export async function createStores(
  dir: string,
  secrets: Secrets,
  previous: LocalState | undefined,
  onProgress: OnProgress,
): Promise<{ postgres: LocalPostgres; redis: LocalRedis }> {
  const dataDir = postgresDataDir(path.join(dir, 'postgres'));
  const [pgPort, redisPort] = [previous?.postgres.port ?? (await freePort()), previous?.redis.port ?? (await freePort())];
  const postgres = new LocalPostgres({
    dataDir,
    port: pgPort,
    password: secrets.postgresPassword,
    logFile: path.join(dir, 'logs', 'postgres.log'),
    onProgress,
  });
  const redis = new LocalRedis({
    port: redisPort,
    dir: path.join(dir, 'redis'),
    logFile: path.join(dir, 'logs', 'redis.log'),
    password: secrets.redisPassword,
  });
  return { postgres, redis };
}

/**
 * Starts the two stores together, or adopts the processes `previous` recorded; both settle before
 * a failure is reported, so `down` finds and stops whichever did start.
 */
export async function startStores(
  postgres: LocalPostgres,
  redis: LocalRedis,
  previous: LocalState | undefined,
  onProgress: OnProgress,
): Promise<void> {
  const started = await Promise.allSettled([
    previous?.postgres.pid
      ? Promise.resolve(postgres.adopt(previous.postgres.pid)).then(() => onProgress(`adopted PostgreSQL (pid ${previous.postgres.pid})`))
      : postgres.start(),
    previous?.redis.pid
      ? Promise.resolve(redis.adopt(previous.redis.pid)).then(() => onProgress(`adopted Redis (pid ${previous.redis.pid})`))
      : (onProgress(`starting Redis on 127.0.0.1:${redis.port}`), redis.start()),
  ]);
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** The stores as instances: ready while their process lives. */
export function storeInstances({ postgres, readReplica, redis }: LocalStores): Instance[] {
  const stores: Instance[] = [];
  if (postgres)
    stores.push({
      id: 'postgres',
      service: 'postgres',
      phase: postgres.pid ? 'ready' : 'stopped',
      restarts: 0,
      pid: postgres.pid,
      port: postgres.port,
      startedAt: 0,
    });
  if (readReplica)
    stores.push({
      id: REPLICA_ID,
      service: 'postgres',
      phase: readReplica.pid ? 'ready' : 'stopped',
      restarts: 0,
      pid: readReplica.pid,
      port: readReplica.port,
      startedAt: 0,
    });
  if (redis)
    stores.push({
      id: 'redis',
      service: 'redis',
      phase: redis.pid ? 'ready' : 'stopped',
      restarts: 0,
      pid: redis.pid,
      port: redis.port,
      startedAt: 0,
    });
  return stores;
}

/** Sends a store the signal for `how` (PostgreSQL stops on SIGINT, its fast shutdown); throws for an unknown id. */
export function signalStore(id: string, how: SignalHow, { postgres, readReplica, redis }: LocalStores): void {
  const signal = { kill: 'SIGKILL', stop: 'SIGTERM', pause: 'SIGSTOP', resume: 'SIGCONT' } as const;
  if (id === 'redis' && redis) return redis.signal(signal[how]);
  if (id === 'postgres' && postgres) return postgres.signal(how === 'stop' ? 'SIGINT' : signal[how]);
  if (id === REPLICA_ID && readReplica) return readReplica.signal(how === 'stop' ? 'SIGINT' : signal[how]);
  throw new RangeError(`no instance "${id}"; \`scalelab status\` lists them`);
}

/** The store behind an outage id; PostgreSQL comes back with `restart()`, which waits out its old backends. */
export function storeOutageTarget(id: StoreId, { postgres, readReplica, redis }: LocalStores): OutageTarget {
  if (!postgres || !redis) throw new Error('no stack is running; start one with `scalelab up`');
  if (id === 'redis') return { crash: () => redis.crash(), bringBack: () => redis.start() };
  const server = id === 'postgres' ? postgres : readReplica;
  if (!server) throw new RangeError('this stack runs no read replica; start it with data.readReplica on');
  return { crash: () => server.crash(), bringBack: () => server.restart() };
}
