/**
 * A local stack's api and worker replicas as child processes: the ReplicaSet that spawns them into
 * their cgroups, and the adoption of those a previous control plane left running.
 */
import path from 'node:path';
import type { StackSpec } from '../../../contract.js';
import { replicaTraceEnv } from '../../traces/trace-env.js';
import type { OnProgress } from '../runtime.js';
import { AdoptedProcess } from './adopted-process.js';
import { spawnBackend } from './backend-process.js';
import type { StackBalancer } from './balancer-launcher.js';
import { isOurs } from './leftovers.js';
import type { LocalPostgres } from './postgres.js';
import type { LocalRedis } from './redis.js';
import type { ReplicaCpu } from './replica-cpu.js';
import { ReplicaSet, type ReplicaEvent } from './replica-set.js';
import type { LocalState, Secrets } from './state.js';
import { DATABASE } from './local-stores.js';

/** Options of {@link localReplicaSet}. */
export interface LocalReplicaSetOptions {
  balancer: StackBalancer;
  dir: string;
  postgres: LocalPostgres;
  readReplica: LocalPostgres | undefined;
  redis: LocalRedis;
  secrets: Secrets;
  /** The spec asked for (its cache settings). */
  spec: StackSpec;
  /** The data settings the replicas run with (an adopted stack keeps its own). */
  data: StackSpec['data'];
  cpu: ReplicaCpu;
  onRecord: () => void;
  onChange: () => void;
  onEvent: (event: ReplicaEvent) => void;
}

/** The replica set whose replicas are backend processes, each held in its service's cgroup. */
export function localReplicaSet({
  balancer,
  dir,
  postgres,
  readReplica,
  redis,
  secrets,
  spec,
  data,
  cpu,
  ...on
}: LocalReplicaSetOptions): ReplicaSet {
  return new ReplicaSet({
    balancer,
    logsDir: path.join(dir, 'logs'),
    env: {
      DATABASE_URL: postgres.url(DATABASE),
      ...(readReplica ? { DATABASE_REPLICA_URL: readReplica.url(DATABASE) } : {}),
      REDIS_URL: redis.url,
      ADMIN_TOKEN: secrets.adminToken,
      CACHE_TTL_SECONDS: String(spec.cache.ttlSeconds),
      USERS_PARTITIONS: String(data.partitions),
      EVENTS: String(data.events),
      // The balancer takes a replica out before its SIGTERM, so it need not linger.
      SHUTDOWN_DELAY_MS: '0',
      // Traces to the control plane's receiver (or the user's own collector); none when both are off.
      ...replicaTraceEnv('loopback'),
    },
    onRecord: on.onRecord,
    onChange: on.onChange,
    onEvent: on.onEvent,
    // Into its cgroup right after the spawn, before it has done much of anything.
    launch: (replica, env) => cpu.hold(replica.id, replica.service, spawnBackend(replica.service, { env, logFile: replica.logFile })),
  });
}

/** Adopts the recorded replicas whose process still lives, each into its cgroup. */
export async function adoptReplicas(
  replicas: ReplicaSet,
  cpu: ReplicaCpu,
  previous: LocalState | undefined,
  onProgress: OnProgress,
): Promise<void> {
  for (const replica of previous?.replicas ?? []) {
    if (replica.pid && (await isOurs(replica.service, replica.pid))) {
      replicas.adopt(replica, cpu.hold(replica.id, replica.service, new AdoptedProcess(replica.pid)));
      onProgress(`adopted ${replica.id} (pid ${replica.pid})`);
    }
  }
}
