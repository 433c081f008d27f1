import { existsSync } from 'node:fs';
import path from 'node:path';
import type { OnProgress } from '../runtime.js';
import { isOurs } from './leftovers.js';
import { freePort } from './ports.js';
import { postgresDataDir, type LocalPostgres } from './postgres.js';
import { dropReplica, replicaServer, seedReplica } from './postgres-replica.js';

/** Instance id (and log file name) of the local read replica. */
export const REPLICA_ID = 'postgres-replica';

/** The replica's data folder for the stack in `stackDir` (beside the primary's). */
export function replicaDataDir(stackDir: string): string {
  return postgresDataDir(path.join(stackDir, REPLICA_ID));
}

/** Options of {@link startReadReplica}. */
export interface StartReadReplicaOptions {
  /** The stack's folder (SCALELAB_HOME/stacks/<name>). */
  stackDir: string;
  /** The running primary. */
  primary: LocalPostgres;
  /** The superuser password the primary (and so its copy) has. */
  password: string;
  /** What the previous control plane recorded, to adopt a replica still running. */
  previous?: { pid: number | undefined; port: number };
  onProgress: OnProgress;
}

/**
 * The stack's read replica: adopted when a previous control plane left it running, else started
 * (seeded from the primary the first time, reused afterwards) and streaming.
 */
export async function startReadReplica(options: StartReadReplicaOptions): Promise<LocalPostgres> {
  const { stackDir, previous, onProgress } = options;
  const dataDir = replicaDataDir(stackDir);
  const logFile = path.join(stackDir, 'logs', `${REPLICA_ID}.log`);
  if (previous?.pid && (await isOurs(REPLICA_ID, previous.pid))) {
    const adopted = replicaServer({ dataDir, port: previous.port, logFile, password: options.password, onProgress });
    adopted.adopt(previous.pid);
    onProgress(`adopted the read replica (pid ${previous.pid})`);
    return adopted;
  }
  onProgress('starting the PostgreSQL read replica');
  return seedReplica(options.primary, { dataDir, port: await freePort(), logFile, onProgress });
}

/**
 * The spec turned the replica off: its copy and its slot go, so the primary stops keeping WAL
 * for a replica that no longer reads it (a slot nobody reads grows pg_wal without bound).
 */
export async function retireReadReplica(stackDir: string, primaryUrl: string, onProgress: OnProgress): Promise<void> {
  const dataDir = replicaDataDir(stackDir);
  if (existsSync(dataDir)) onProgress('the read replica is off: deleting its copy and its replication slot');
  // The slot goes even without a copy (deleted by hand): it alone holds the WAL back.
  await dropReplica(dataDir, primaryUrl);
}
