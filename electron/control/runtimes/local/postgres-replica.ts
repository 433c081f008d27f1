import { existsSync } from 'node:fs';
import { chown, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { takeBaseBackup, type FileOwner } from './base-backup.js';
import { isRoot, LocalPostgres, PostgresStartError, postgresUser } from './postgres.js';
import { NamedError } from '../../../../backend/named-error.js';

/** Name of the physical replication slot (and the replica's application_name) on the primary. */
export const REPLICA_SLOT = 'scalelab_replica';

/**
 * Server settings of the replica, on its command line. hot_standby lets it serve reads;
 * hot_standby_feedback stops the primary's vacuum from removing rows a replica query still
 * reads (which would cancel that query). recovery_min_apply_delay is deliberately not here:
 * a command-line setting would override the ALTER SYSTEM that chaos `replica-delay` uses.
 */
export const REPLICA_SETTINGS: Readonly<Record<string, string>> = { hot_standby: 'on', hot_standby_feedback: 'on' };

/** File in the replica's data folder naming the primary it was seeded from. */
const SEED_FILE = 'scalelab-replica.json';

/** Options of {@link seedReplica}. */
export interface ReplicaOptions {
  /** The replica's PGDATA, apart from the primary's; use `postgresDataDir` to pick one. */
  dataDir: string;
  /** Port of the replica on 127.0.0.1. */
  port: number;
  /** File that receives the replica's server log. */
  logFile: string;
  /** Physical replication slot on the primary. @defaultValue {@link REPLICA_SLOT} */
  slot?: string;
  /** How long to wait for the replica to stream from the primary once started. @defaultValue 60_000 */
  streamingTimeoutMs?: number;
  /** Progress lines ("seeding…", "streaming"). */
  onProgress?: (message: string) => void;
}

/** The replica could not be seeded, started, or did not stream; the message says what to do. */
export class ReplicaError extends NamedError {}

/** What a replica reports about its replication, from {@link replicaStatus}. */
export interface ReplicaStatus {
  /** True while the server is a standby (always, unless someone promoted it). */
  inRecovery: boolean;
  /** True while its WAL receiver streams from the primary. */
  streaming: boolean;
  /** Last WAL position received from the primary, e.g. `0/3000148`. */
  receiveLsn: string | null;
  /** Last WAL position replayed (visible to queries). */
  replayLsn: string | null;
  /** Bytes of WAL the primary has written that the replica has not replayed; null without the primary's URL. */
  lagBytes: number | null;
  /** The primary's view of the replay lag (pg_stat_replication.replay_lag) in ms; 0 when caught up, null when unknown. */
  lagMs: number | null;
  /** The replica's recovery_min_apply_delay in ms (chaos `replica-delay`). */
  applyDelayMs: number;
}

/**
 * Starts a streaming read replica of a running `primary`. The first time, the replica's data
 * folder is seeded from a base backup of the primary (a physical slot keeps the WAL it needs);
 * afterwards the seeded folder is reused, unless it was seeded from another primary (its data
 * was deleted and created anew). Resolves once the replica is in recovery and streaming.
 */
export async function seedReplica(primary: LocalPostgres, options: ReplicaOptions): Promise<LocalPostgres> {
  const slot = options.slot ?? REPLICA_SLOT;
  const { dataDir, onProgress } = options;
  const owner: FileOwner = isRoot() ? await postgresUser() : undefined;
  const primaryUrl = primary.url();
  const systemIdentifier = await preparePrimary(primaryUrl, slot);
  if (await isSeededFrom(dataDir, systemIdentifier)) {
    onProgress?.('the read replica is already seeded; starting it');
  } else {
    onProgress?.('seeding the read replica from a base backup of the primary (first start only)');
    await seed(primaryUrl, dataDir, slot, systemIdentifier, owner, onProgress);
  }
  await writeStandbyConfig(dataDir, primaryUrl, slot, owner);
  const replica = new LocalPostgres({
    dataDir,
    port: options.port,
    password: passwordOf(primaryUrl),
    logFile: options.logFile,
    settings: REPLICA_SETTINGS,
    onProgress,
  });
  try {
    await replica.start();
    await waitStreaming(replica.url(), options.streamingTimeoutMs ?? 60_000, options.logFile);
  } catch (err) {
    await replica.stop().catch(() => undefined);
    if (err instanceof ReplicaError || err instanceof PostgresStartError) throw err;
    throw new ReplicaError(`the read replica did not start: ${(err as Error).message}; see ${options.logFile}`);
  }
  onProgress?.(`read replica streaming from the primary on 127.0.0.1:${options.port}`);
  return replica;
}

/**
 * A replica server for a seeded `dataDir` without starting it, to `adopt()` the pid a previous
 * control plane recorded; its `restart()` (after a chaos kill) runs with the replica's settings.
 */
export function replicaServer(
  options: Pick<ReplicaOptions, 'dataDir' | 'port' | 'logFile' | 'onProgress'> & { password: string },
): LocalPostgres {
  return new LocalPostgres({ ...options, settings: REPLICA_SETTINGS });
}

/** True when `dataDir` holds a complete replica seeded from the primary with `systemIdentifier` (or any, when undefined). */
export async function isSeededFrom(dataDir: string, systemIdentifier?: string): Promise<boolean> {
  try {
    const seeded = JSON.parse(await readFile(path.join(dataDir, SEED_FILE), 'utf8')) as { systemIdentifier: string };
    return existsSync(path.join(dataDir, 'PG_VERSION')) && (systemIdentifier === undefined || seeded.systemIdentifier === systemIdentifier);
  } catch {
    return false;
  }
}

/**
 * Deletes a replica's data and, when the primary's URL is given, its slot, so the primary stops
 * keeping WAL for a replica that no longer runs. The replica must be stopped.
 */
export async function dropReplica(dataDir: string, primaryUrl?: string, slot = REPLICA_SLOT): Promise<void> {
  if (primaryUrl) {
    await withClient(primaryUrl, (c) =>
      c.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active', [slot]),
    );
  }
  await rm(`${dataDir}.seeding`, { recursive: true, force: true });
  await rm(dataDir, { recursive: true, force: true });
}

/**
 * Replication state of the replica at `replicaUrl`; with `primaryUrl`, also how far it lags.
 * Works for any replica the control plane reaches (local, Docker).
 */
export async function replicaStatus(replicaUrl: string, primaryUrl?: string, slot = REPLICA_SLOT): Promise<ReplicaStatus> {
  const row = await withClient(replicaUrl, async (c) => {
    const { rows } = await c.query<{
      in_recovery: boolean;
      receiver: string | null;
      receive_lsn: string | null;
      replay_lsn: string | null;
      delay: string;
    }>(
      `SELECT pg_is_in_recovery() AS in_recovery, (SELECT status FROM pg_stat_wal_receiver LIMIT 1) AS receiver,
              pg_last_wal_receive_lsn()::text AS receive_lsn, pg_last_wal_replay_lsn()::text AS replay_lsn,
              current_setting('recovery_min_apply_delay') AS delay`,
    );
    return rows[0]!;
  });
  const status: ReplicaStatus = {
    inRecovery: row.in_recovery,
    streaming: row.receiver === 'streaming',
    receiveLsn: row.receive_lsn,
    replayLsn: row.replay_lsn,
    lagBytes: null,
    lagMs: null,
    applyDelayMs: durationMs(row.delay),
  };
  if (primaryUrl && row.replay_lsn) {
    const lag = await withClient(primaryUrl, async (c) => {
      const { rows } = await c.query<{ bytes: string; ms: number | null }>(
        `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::text AS bytes,
                (SELECT EXTRACT(EPOCH FROM replay_lag) * 1000 FROM pg_stat_replication WHERE application_name = $2 LIMIT 1)::float8 AS ms`,
        [row.replay_lsn, slot],
      );
      return rows[0]!;
    });
    status.lagBytes = Math.max(0, Number(lag.bytes));
    status.lagMs = lag.ms ?? (status.lagBytes === 0 ? 0 : null);
  }
  return status;
}

/** A PostgreSQL duration setting (`0`, `500ms`, `30s`, `1min`) in ms. */
function durationMs(value: string): number {
  const match = /^(\d+)\s*(ms|s|min|h|d)?$/.exec(value.trim());
  if (!match) return 0;
  const unit = { ms: 1, s: 1_000, min: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] ?? 'ms'] ?? 1;
  return Number(match[1]) * unit;
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

function passwordOf(url: string): string {
  return decodeURIComponent(new URL(url).password);
}

/** Makes the slot (reserving WAL from now on) unless it exists; returns the primary's system identifier. */
async function preparePrimary(primaryUrl: string, slot: string): Promise<string> {
  return withClient(primaryUrl, async (c) => {
    const { rows } = await c.query<{ id: string }>('SELECT system_identifier::text AS id FROM pg_control_system()');
    const { rowCount } = await c.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [slot]);
    if (!rowCount) await c.query('SELECT pg_create_physical_replication_slot($1, true)', [slot]);
    return rows[0]!.id;
  });
}

/**
 * Seeds into a side folder renamed into place at the end, so a seed cut short (the control
 * plane killed mid-copy) is never mistaken for a replica and is simply redone.
 */
async function seed(
  primaryUrl: string,
  dataDir: string,
  slot: string,
  systemIdentifier: string,
  owner: FileOwner,
  onProgress?: (m: string) => void,
): Promise<void> {
  const staging = `${dataDir}.seeding`;
  await mkdir(path.dirname(dataDir), { recursive: true, mode: 0o755 });
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { mode: 0o700 });
  if (owner) await chown(staging, owner.uid, owner.gid);
  await takeBaseBackup({ primaryUrl, target: staging, slot, owner, onProgress });
  await writeOwned(path.join(staging, SEED_FILE), JSON.stringify({ systemIdentifier, slot, seededAt: new Date().toISOString() }), owner);
  // A replica of an older primary (its data deleted and initialised anew) cannot follow this one.
  await rm(dataDir, { recursive: true, force: true });
  await rename(staging, dataDir);
}

/**
 * standby.signal, and primary_conninfo / primary_slot_name in postgresql.auto.conf as ALTER
 * SYSTEM writes them. Rewritten on every start: the primary's port may differ from last time.
 * A replay delay left by chaos is dropped too, so a fault never outlives the stack.
 */
async function writeStandbyConfig(dataDir: string, primaryUrl: string, slot: string, owner: FileOwner): Promise<void> {
  const url = new URL(primaryUrl);
  const conninfo = [
    `host=${url.hostname}`,
    `port=${url.port}`,
    `user=${connValue(decodeURIComponent(url.username))}`,
    `password=${connValue(passwordOf(primaryUrl))}`,
    `application_name=${connValue(slot)}`,
  ].join(' ');
  const file = path.join(dataDir, 'postgresql.auto.conf');
  const kept = (
    await readFile(file, 'utf8').catch(() => '# Do not edit this file manually!\n# It will be overwritten by the ALTER SYSTEM command.\n')
  )
    .split('\n')
    .filter((line) => line.trim() !== '' && !/^\s*(primary_conninfo|primary_slot_name|recovery_min_apply_delay)\s*=/.test(line));
  const lines = [...kept, `primary_conninfo = ${confValue(conninfo)}`, `primary_slot_name = ${confValue(slot)}`];
  await writeOwned(file, `${lines.join('\n')}\n`, owner);
  await writeOwned(path.join(dataDir, 'standby.signal'), '', owner);
}

/** A libpq connection-string value: quoted, with \ and ' escaped. */
function connValue(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** A postgresql.conf string: single-quoted, with ' doubled (as ALTER SYSTEM writes it). */
function confValue(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

async function writeOwned(file: string, text: string, owner: FileOwner): Promise<void> {
  await writeFile(file, text, { mode: 0o600 });
  if (owner) await chown(file, owner.uid, owner.gid);
}

/** Polls until the replica is a standby whose WAL receiver streams. */
async function waitStreaming(replicaUrl: string, timeoutMs: number, logFile: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'not answering';
  for (;;) {
    try {
      const status = await replicaStatus(replicaUrl);
      if (!status.inRecovery)
        throw new ReplicaError(`the read replica is not in recovery (it was promoted?); delete its data folder to seed it again`);
      if (status.streaming) return;
      last = 'in recovery but not streaming yet';
    } catch (err) {
      if (err instanceof ReplicaError) throw err;
      last = (err as Error).message;
    }
    if (Date.now() > deadline)
      throw new ReplicaError(`the read replica did not stream from the primary within ${timeoutMs / 1000} s (${last}); see ${logFile}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
