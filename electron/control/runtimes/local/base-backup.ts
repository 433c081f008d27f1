import { execFile, spawn } from 'node:child_process';
import { chown, copyFile, lstat, mkdir, readdir, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { NamedError } from '../../../../backend/named-error.js';

const run = promisify(execFile);

/** Owner of the copied files (the `postgres` user as root); undefined keeps the current user. */
export type FileOwner = { uid: number; gid: number } | undefined;

/** A base backup of the primary could not be taken; the message says which step failed. */
export class BaseBackupError extends NamedError {}

/**
 * Folders whose contents a base backup leaves out (they are rebuilt at start), as pg_basebackup
 * does; the folders themselves are kept because the server expects them. pg_wal: the replica
 * streams the WAL it needs from its slot, so none is copied.
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

/** Options of {@link takeBaseBackup}. */
export interface BaseBackupOptions {
  /** Connection string of the primary, as a superuser. */
  primaryUrl: string;
  /** An empty folder that receives the copy (created by the caller, owned by `owner`). */
  target: string;
  /** The physical replication slot that holds the primary's WAL for the replica. */
  slot: string;
  owner: FileOwner;
  onProgress?: (message: string) => void;
}

/**
 * Copies a running primary's data folder into `target` as a consistent base backup. Uses a
 * pg_basebackup on PATH when its version can talk to the server; otherwise (the embedded
 * binaries ship none) the low-level backup API: pg_backup_start, a file copy, pg_backup_stop.
 */
export async function takeBaseBackup(options: BaseBackupOptions): Promise<void> {
  const client = new pg.Client({ connectionString: options.primaryUrl });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const { rows } = await client.query<{ dir: string; version: string }>(
      `SELECT current_setting('data_directory') AS dir, current_setting('server_version_num') AS version`,
    );
    const { dir, version } = rows[0]!;
    const major = Math.floor(Number(version) / 10_000);
    if (await pgBasebackupFits(major)) {
      try {
        options.onProgress?.('copying the primary with pg_basebackup');
        await pgBasebackup(options);
        return;
      } catch (err) {
        // The low-level API below needs nothing but a connection: fall back to it.
        options.onProgress?.(`pg_basebackup failed (${(err as Error).message.split('\n')[0]}); copying the data folder instead`);
        await emptyFolder(options.target);
      }
    }
    await lowLevelBackup(client, dir, options);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * The low-level backup: between pg_backup_start and pg_backup_stop (on one connection) the data
 * folder may be copied while the server writes to it; full-page writes in the WAL the replica
 * replays from the backup's start repair any page copied mid-write.
 */
async function lowLevelBackup(client: pg.Client, source: string, options: BaseBackupOptions): Promise<void> {
  await client.query('SELECT pg_backup_start($1, true)', [`scalelab replica ${options.slot}`]);
  let stopped = false;
  try {
    options.onProgress?.(`copying the primary's data folder (${source})`);
    const copied = await copyTree(source, options.target, '', options.owner);
    const { rows } = await client.query<{ labelfile: string; spcmapfile: string | null }>(
      'SELECT labelfile, spcmapfile FROM pg_backup_stop(false)',
    );
    stopped = true;
    const { labelfile, spcmapfile } = rows[0]!;
    await writeOwned(path.join(options.target, 'backup_label'), labelfile, options.owner);
    if (spcmapfile) await writeOwned(path.join(options.target, 'tablespace_map'), spcmapfile, options.owner);
    options.onProgress?.(`copied ${Math.round(copied / 1024 / 1024)} MiB`);
  } finally {
    // A backup left open would keep the primary in backup mode until this session ends; end it.
    if (!stopped) await client.query('SELECT pg_backup_stop(false)').catch(() => undefined);
  }
}

/** Copies `from/rel` to `to/rel` recursively; returns the bytes copied. Files that vanish mid-copy are skipped. */
async function copyTree(from: string, to: string, rel: string, owner: FileOwner): Promise<number> {
  let bytes = 0;
  const entries = await readdir(path.join(from, rel), { withFileTypes: true }).catch(ignoreMissing([]));
  const emptied = EMPTIED_DIRS.has(rel);
  for (const entry of entries) {
    const child = rel ? path.join(rel, entry.name) : entry.name;
    const src = path.join(from, child);
    const dst = path.join(to, child);
    if (entry.isDirectory()) {
      // pg_wal's subfolders (archive_status, summaries) are kept empty; a slot's folder in
      // pg_replslot without its state file would stop the replica, so those go entirely.
      if (entry.name.startsWith('pgsql_tmp') || (emptied && rel !== 'pg_wal')) continue;
      await mkdir(dst, { mode: 0o700 });
      if (owner) await chown(dst, owner.uid, owner.gid);
      if (!emptied) bytes += await copyTree(from, to, child, owner);
    } else if (entry.isSymbolicLink()) {
      // Tablespaces are links in pg_tblspc; a copy keeps the link (ScaleLab makes none).
      const target = await readlink(src).catch(ignoreMissing(undefined));
      if (target !== undefined) await symlink(target, dst);
    } else if (entry.isFile()) {
      if (emptied || SKIPPED_FILES.has(entry.name) || entry.name.startsWith('pgsql_tmp')) continue;
      try {
        await copyFile(src, dst);
        if (owner) await chown(dst, owner.uid, owner.gid);
        bytes += (await lstat(dst)).size;
      } catch (err) {
        // A relation dropped or a temporary file removed while copying: the WAL replays that too.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
  }
  return bytes;
}

function ignoreMissing<T>(fallback: T): (err: NodeJS.ErrnoException) => T {
  return (err) => {
    if (err.code === 'ENOENT') return fallback;
    throw err;
  };
}

async function writeOwned(file: string, text: string, owner: FileOwner): Promise<void> {
  await writeFile(file, text, { mode: 0o600 });
  if (owner) await chown(file, owner.uid, owner.gid);
}

async function emptyFolder(dir: string): Promise<void> {
  for (const name of await readdir(dir)) await rm(path.join(dir, name), { recursive: true, force: true });
}

/** True when a pg_basebackup on PATH is at least the server's major version (older ones refuse newer servers). */
async function pgBasebackupFits(serverMajor: number): Promise<boolean> {
  try {
    const { stdout } = await run('pg_basebackup', ['--version'], { timeout: 5_000 });
    const major = Number(/(\d+)(?:\.\d+)?/.exec(stdout)?.[1]);
    return major >= serverMajor;
  } catch {
    return false;
  }
}

/** pg_basebackup with WAL streamed through the slot; run as the server's user so the copy is its own. */
async function pgBasebackup(options: BaseBackupOptions): Promise<void> {
  const url = new URL(options.primaryUrl);
  const args = [
    '-D',
    options.target,
    '-h',
    url.hostname,
    '-p',
    url.port,
    '-U',
    decodeURIComponent(url.username),
    '-X',
    'stream',
    '-S',
    options.slot,
    '-c',
    'fast',
    '--no-password',
  ];
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const child = spawn('pg_basebackup', args, {
      uid: options.owner?.uid,
      gid: options.owner?.gid,
      env: { PATH: process.env.PATH ?? '', PGPASSWORD: decodeURIComponent(url.password), LC_MESSAGES: 'C' },
    });
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new BaseBackupError(`pg_basebackup exited with ${code}: ${output.trim()}`)),
    );
  });
}
