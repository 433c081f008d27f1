/**
 * The environment the local and Docker runtimes give every api and worker replica, so a
 * benchmark's floor starts the same processes with the same settings.
 */
import type { StackSpec } from '../../electron/contract.js';
import type { Secrets } from '../../electron/control/runtimes/local/state.js';

/** What the runtime's ReplicaSet passes every replica (Replica adds INSTANCE_ID, LOG_LEVEL, PORT). */
export function replicaEnv(databaseUrl: string, redisUrl: string, secrets: Secrets, spec: StackSpec): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    ADMIN_TOKEN: secrets.adminToken,
    CACHE_TTL_SECONDS: String(spec.cache.ttlSeconds),
    SHUTDOWN_DELAY_MS: '0',
  };
}
