import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type Docker from 'dockerode';
import pg from 'pg';
import type { OnProgress } from '../runtime.js';
import { removeOwned } from './container-process.js';
import { DATABASE_USER, primaryAddress, REPLICA_DATA, REPLICA_SLOT, replicaSeedContainer, type StackLayout } from './container-specs.js';
import { assertOwned, LABELS, names } from './labels.js';
import { rebaseTar, tarOfFiles, TarFormatError, type TarEntry } from './tar-rebase.js';
import { NamedError } from '../../../../backend/named-error.js';

/** The read replica could not be seeded from the primary; the message says which step failed and what it printed. */
export class ReplicaSeedError extends NamedError {}

/** Options of {@link seedReplica}. */
export interface ReplicaSeedOptions {
  docker: Docker;
  layout: StackLayout;
  /** The running primary: its container, its URL from the host (as a superuser), and its port on 127.0.0.1. */
  primary: { container: Docker.Container; url: string; port: number };
  password: string;
  /** A folder for the copy's archive (the archive method only), e.g. the stack's state folder. */
  workDir: string;
  onProgress: OnProgress;
  /**
   * `auto`: pg_basebackup inside the replica's image when it has one (official postgres images
   * do), otherwise the archive copy; `copy`: the archive copy. @defaultValue 'auto'
   */
  method?: 'auto' | 'copy';
  /** Longest a pg_basebackup may take. @defaultValue 900000 */
  timeoutMs?: number;
}

/** What the replica's pg_hba.conf must let through on the primary (bridge network: the replica connects from its own address). */
const REPLICATION_HBA = 'host replication all all scram-sha-256';

/**
 * Folders whose contents a base backup leaves out, as pg_basebackup does (the folders themselves
 * stay: the server expects them). pg_wal: the replica streams what it needs through its slot.
 */
const EMPTIED_DIRS = new Set([
  'pg_wal',
  'pg_replslot',
  'pg_stat_tmp',
  'pg_dynshmem',
  'pg_notify',
  'pg_serial',
  'pg_snapshots',
  'pg_subtrans',
  'log',
]);
/** Files a base backup leaves out: the running server's own, and leftovers of another backup. */
const SKIPPED_FILES = new Set([
  'postmaster.pid',
  'postmaster.opts',
  'postgresql.auto.conf.tmp',
  'current_logfiles',
  'current_logfiles.tmp',
  'pg_internal.init',
  'backup_label',
  'backup_label.old',
  'tablespace_map',
  'backup_manifest',
  'standby.signal',
  'recovery.signal',
]);

/**
 * Whether an entry of the primary's data folder belongs in a base backup. Of an emptied folder's
 * contents only pg_wal's own subfolders (archive_status, summaries) stay, as pg_basebackup makes
 * them: an empty pg_replslot/<slot> folder would stop the replica at start (no state file).
 */
export function inBaseBackup(entry: TarEntry): boolean {
  const parts = entry.path.split('/');
  if (parts.some((p) => p.startsWith('pgsql_tmp'))) return false;
  if (parts.length > 1 && EMPTIED_DIRS.has(parts[0]!)) return entry.type === 'directory' && parts[0] === 'pg_wal' && parts.length === 2;
  return entry.type === 'directory' || !SKIPPED_FILES.has(parts.at(-1)!);
}

/**
 * Makes the replica's volume a copy of the primary that can follow it, unless it already is one
 * (its standby.signal is there and the primary still holds its slot). A volume half seeded, or
 * left from a primary that no longer knows it, is replaced. The replica container must not run.
 */
export async function seedReplica(options: ReplicaSeedOptions): Promise<void> {
  const { docker, layout, onProgress } = options;
  const sql = new pg.Client({ connectionString: options.primary.url, connectionTimeoutMillis: 10_000 });
  sql.on('error', () => undefined);
  await sql.connect();
  try {
    if (layout.mode === 'bridge') await allowReplication(options, sql);
    const slot = await sql.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [REPLICA_SLOT]);
    if (slot.rowCount && (await isSeeded(options))) {
      onProgress("the read replica's volume follows the primary already");
      return;
    }
    await resetVolume(docker, layout.stack, onProgress);
    await dropSlot(sql);
    if (options.method !== 'copy') {
      if (await pgBasebackup(options)) return;
      onProgress(
        `${layout.images.postgres} has no pg_basebackup: copying the primary's data folder through the engine's archive API instead`,
      );
      await resetVolume(docker, layout.stack, onProgress);
      await dropSlot(sql);
    }
    await copyDataFolder(options, sql);
  } finally {
    await removeOwned(docker, names.container(layout.stack, 'postgres-replica-seed'), layout.stack).catch(() => undefined);
    await sql.end().catch(() => undefined);
  }
}

/**
 * The stack without its read replica (spec `data.readReplica` off): removes the replica's
 * container and volume and drops its slot, which would otherwise hold the primary's WAL forever.
 */
export async function removeReplica(docker: Docker, stack: string, primaryUrl: string, onProgress: OnProgress): Promise<void> {
  await resetVolume(docker, stack, onProgress, { recreate: false });
  const sql = new pg.Client({ connectionString: primaryUrl, connectionTimeoutMillis: 10_000 });
  sql.on('error', () => undefined);
  await sql.connect();
  try {
    if (await dropSlot(sql)) onProgress(`dropped the replication slot ${REPLICA_SLOT} (data.readReplica is off)`);
  } finally {
    await sql.end().catch(() => undefined);
  }
}

/** Drops the replica's slot if there is one; true when it did. A replica just removed may take a moment to let go of it. */
async function dropSlot(sql: pg.Client): Promise<boolean> {
  for (let i = 0; i < 20; i++) {
    const { rows } = await sql.query<{ active: boolean }>('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [REPLICA_SLOT]);
    if (rows.length === 0) return false;
    if (!rows[0]!.active) {
      await sql.query('SELECT pg_drop_replication_slot($1)', [REPLICA_SLOT]);
      return true;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new ReplicaSeedError(`the replication slot ${REPLICA_SLOT} on the primary is still in use by a replica; stop it first`);
}

/** Removes the replica's container and volume (checking their labels), and makes the volume anew unless told not to. */
async function resetVolume(docker: Docker, stack: string, onProgress: OnProgress, opts = { recreate: true }): Promise<void> {
  for (const instance of ['postgres-replica', 'postgres-replica-seed']) await removeOwned(docker, names.container(stack, instance), stack);
  const name = names.replicaVolume(stack);
  const found = await docker
    .getVolume(name)
    .inspect()
    .catch(() => undefined);
  if (found) {
    assertOwned(found.Labels, stack, `volume ${name}`);
    onProgress(`removing volume ${name}`);
    await docker.getVolume(name).remove();
  }
  if (opts.recreate) await docker.createVolume({ Name: name, Labels: { [LABELS.stack]: stack } });
}

/** Seeded: the copy finished (standby.signal is written last) on a volume that still exists. */
async function isSeeded(options: ReplicaSeedOptions): Promise<boolean> {
  const { docker, layout } = options;
  if (
    !(await docker
      .getVolume(names.replicaVolume(layout.stack))
      .inspect()
      .catch(() => undefined))
  )
    return false;
  const probe = await createSeed(options);
  return probe
    .infoArchive({ path: `${REPLICA_DATA.pgdata}/standby.signal` })
    .then(() => true)
    .catch(() => false)
    .finally(() => probe.remove({ force: true }).catch(() => undefined));
}

async function createSeed(options: ReplicaSeedOptions, command?: Parameters<typeof replicaSeedContainer>[1]): Promise<Docker.Container> {
  const { docker, layout } = options;
  await removeOwned(docker, names.container(layout.stack, 'postgres-replica-seed'), layout.stack);
  return docker.createContainer(replicaSeedContainer(layout, command));
}

/**
 * The primary's pg_hba.conf gets the replication line the image leaves out (once; it stays in the
 * volume), then the primary reloads it. Runs as the server's user inside the primary's container.
 */
async function allowReplication(options: ReplicaSeedOptions, sql: pg.Client): Promise<void> {
  const { rows } = await sql.query<{ hba_file: string }>('SHOW hba_file');
  const script = 'grep -qxF "$1" "$2" || printf "%s\\n" "$1" >> "$2"';
  const exec = await options.primary.container.exec({
    Cmd: ['sh', '-c', script, 'sh', REPLICATION_HBA, rows[0]!.hba_file],
    User: 'postgres',
    AttachStdout: true,
    AttachStderr: true,
    Tty: true,
  });
  const stream = await exec.start({ Detach: false, Tty: true });
  let output = '';
  stream.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((resolve) => {
    stream.on('end', () => resolve());
    stream.on('error', () => resolve());
  });
  const { ExitCode } = await exec.inspect();
  if (ExitCode !== 0)
    throw new ReplicaSeedError(`could not allow replication in the primary's ${rows[0]!.hba_file} (exit ${ExitCode}): ${output.trim()}`);
  await sql.query('SELECT pg_reload_conf()');
}

/**
 * pg_basebackup inside the replica's image, from the primary: -C -S makes the slot in the same
 * step (no WAL is lost between the copy and the first stream), -R writes standby.signal. False
 * when the image has no pg_basebackup.
 */
async function pgBasebackup(options: ReplicaSeedOptions): Promise<boolean> {
  const { layout, onProgress } = options;
  const primary = primaryAddress(layout, options.primary.port);
  const args = [
    '-D',
    REPLICA_DATA.pgdata,
    '-h',
    primary.host,
    '-p',
    String(primary.port),
    '-U',
    DATABASE_USER,
    '-X',
    'stream',
    '-C',
    '-S',
    REPLICA_SLOT,
    '-R',
    '-c',
    'fast',
    '--no-password',
  ];
  const seed = await createSeed(options, {
    entrypoint: ['pg_basebackup'],
    args,
    env: [`PGPASSWORD=${options.password}`, 'PGCONNECT_TIMEOUT=10'],
  });
  onProgress(`seeding the read replica: pg_basebackup from the primary at ${primary.host}:${primary.port}`);
  const started = Date.now();
  try {
    await seed.start();
  } catch (err) {
    if (/executable file not found|no such file or directory/i.test((err as Error).message)) return false;
    throw new ReplicaSeedError(`could not start pg_basebackup in ${layout.images.postgres}: ${(err as Error).message}`);
  }
  const timeoutMs = options.timeoutMs ?? 900_000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ReplicaSeedError(`pg_basebackup did not finish within ${timeoutMs / 1000} s`)), timeoutMs);
  });
  try {
    const { StatusCode } = (await Promise.race([seed.wait(), timeout])) as { StatusCode: number };
    if (StatusCode !== 0) {
      const log = (await seed.logs({ stdout: true, stderr: true })).toString().trim().split('\n').slice(-8).join('\n');
      throw new ReplicaSeedError(`pg_basebackup exited with ${StatusCode}; its output ends with:\n${log}`);
    }
  } finally {
    clearTimeout(timer);
    await seed.kill().catch(() => undefined);
  }
  onProgress(`the read replica is seeded (pg_basebackup, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return true;
}

/**
 * The low-level backup API, for images without pg_basebackup: between pg_backup_start and
 * pg_backup_stop (one session) the primary's data folder is copied while it runs; the WAL the
 * replica replays from the backup's start repairs pages copied mid-write. The engine gives the
 * folder as a tar archive, which is filtered as pg_basebackup filters, moved under PGDATA's name
 * and written to a file first, so a copy the engine cuts short (a file grew while it was read)
 * never reaches the volume: it is taken again.
 */
async function copyDataFolder(options: ReplicaSeedOptions, sql: pg.Client): Promise<void> {
  const { layout, onProgress } = options;
  const { rows } = await sql.query<{ dir: string; version: string }>(
    `SELECT current_setting('data_directory') AS dir, current_setting('server_version_num') AS version`,
  );
  const modern = Number(rows[0]!.version) >= 150_000;
  const [start, stop] = modern
    ? ['pg_backup_start($1, true)', 'pg_backup_stop(false)']
    : ['pg_start_backup($1, true, false)', 'pg_stop_backup(false)'];
  // Made before the backup starts, so the slot holds every WAL record the replica will replay.
  await sql.query('SELECT pg_create_physical_replication_slot($1, true)', [REPLICA_SLOT]);
  const work = await mkdtemp(path.join(options.workDir, 'replica-seed-'));
  const archive = path.join(work, 'pgdata.tar');
  try {
    let owner: TarEntry | undefined;
    let label: { labelfile: string; spcmapfile: string | null } | undefined;
    for (let attempt = 1; !label; attempt++) {
      onProgress(
        `seeding the read replica: copying the primary's data folder (${rows[0]!.dir})${attempt > 1 ? `, attempt ${attempt}` : ''}`,
      );
      await sql.query(`SELECT ${start}`, ['scalelab read replica']);
      let copied = false;
      try {
        const source = await options.primary.container.getArchive({ path: rows[0]!.dir });
        await pipeline(
          rebaseTar(source, { to: REPLICA_DATA.folder, keep: inBaseBackup, onEntry: (e) => (owner = e.path === 'PG_VERSION' ? e : owner) }),
          createWriteStream(archive),
        );
        copied = true;
      } catch (err) {
        // The engine ends an archive early when a file changes size while it reads it: take it again.
        if (attempt >= 3)
          throw new ReplicaSeedError(`copying the primary's data folder failed ${attempt} times; the last time: ${(err as Error).message}`);
        onProgress(`the copy was cut short (${(err as Error).message}); trying again`);
      } finally {
        // Ended either way: a backup left open keeps the primary in backup mode until this session ends.
        const stopped = await sql.query<{ labelfile: string; spcmapfile: string | null }>(`SELECT labelfile, spcmapfile FROM ${stop}`);
        if (copied) label = stopped.rows[0];
      }
    }
    if (!owner) throw new ReplicaSeedError(`the primary's data folder ${rows[0]!.dir} has no PG_VERSION`);
    onProgress(`writing ${Math.round((await stat(archive)).size / 1024 / 1024)} MiB into volume ${names.replicaVolume(layout.stack)}`);
    const target = await createSeed(options);
    await target.putArchive(archive, { path: REPLICA_DATA.mount });
    // standby.signal last: its presence is what says the volume is seeded.
    const files = [
      { name: `${REPLICA_DATA.folder}/backup_label`, content: label.labelfile },
      ...(label.spcmapfile ? [{ name: `${REPLICA_DATA.folder}/tablespace_map`, content: label.spcmapfile }] : []),
    ];
    for (const batch of [files, [{ name: `${REPLICA_DATA.folder}/standby.signal`, content: '' }]]) {
      await target.putArchive(tarOfFiles(batch.map((f) => ({ ...f, mode: 0o600, uid: owner!.uid, gid: owner!.gid }))), {
        path: REPLICA_DATA.mount,
      });
    }
    onProgress('the read replica is seeded (archive copy)');
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
