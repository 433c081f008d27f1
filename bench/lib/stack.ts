import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { terminate } from '../../electron/control/runtimes/local/child.js';
import { freePort } from '../../electron/control/runtimes/local/ports.js';
import { LocalPostgres, postgresDataDir } from '../../electron/control/runtimes/local/postgres.js';
import { LocalRedis } from '../../electron/control/runtimes/local/redis.js';
import { dropReplica, seedReplica } from '../../electron/control/runtimes/local/postgres-replica.js';

const DATABASE = 'scalelab_bench';

type BackendProcess = typeof import('../../electron/control/runtimes/local/backend-process.js');

/**
 * The project's backend-process helper, compiled when dist/ exists. It finds the api next to
 * itself: from dist/ it runs dist/backend/api/server.js, from the TypeScript source it would run
 * the api through tsx, which is not what production runs.
 */
export async function loadBackendProcess(root: string): Promise<{ helper: BackendProcess; compiled: boolean }> {
  const compiled = path.join(root, 'dist', 'electron', 'control', 'runtimes', 'local', 'backend-process.js');
  if (existsSync(compiled)) return { helper: (await import(pathToFileURL(compiled).href)) as BackendProcess, compiled: true };
  return { helper: await import('../../electron/control/runtimes/local/backend-process.js'), compiled: false };
}

/** Reads every user in minId..maxId once through `url`, `concurrency` at a time, so later GETs hit the cache. */
export async function warmUsers(url: string, minId: number, maxId: number, concurrency = 32): Promise<void> {
  let next = minId;
  const reader = async () => {
    while (next <= maxId) {
      const id = next++;
      const response = await fetch(`${url}/users/${id}`);
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`warming the cache: GET /users/${id} answered ${response.status}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, reader));
}

/** Options of {@link BenchStack}. */
export interface BenchStackOptions {
  /** From {@link loadBackendProcess}. */
  helper: BackendProcess;
  /** Temp folder for logs and Redis; PostgreSQL's data goes to postgresDataDir(dir/postgres). */
  dir: string;
  /** Environment of every api process, on top of the connection settings. */
  apiEnv: Record<string, string>;
  onProgress: (message: string) => void;
}

async function tail(file: string, lines = 20): Promise<string> {
  return (await readFile(file, 'utf8').catch(() => '')).trim().split('\n').slice(-lines).join('\n');
}

/**
 * PostgreSQL + Redis + one api process, from the project's local-runtime helpers, on free
 * loopback ports. The api can be restarted with extra environment (a profiler) on the same data.
 */
export class BenchStack {
  private readonly postgres: LocalPostgres;
  private readonly redis: LocalRedis;
  private readonly dataDir: string;
  private api: ChildProcess | undefined;
  private apiPort = 0;
  private apiLog = '';
  private apiStarts = 0;
  private replica: LocalPostgres | undefined;
  private replicaDir: string | undefined;

  private constructor(
    private readonly options: BenchStackOptions,
    pgPort: number,
    redisPort: number,
  ) {
    this.dataDir = postgresDataDir(path.join(options.dir, 'postgres'));
    this.postgres = new LocalPostgres({
      dataDir: this.dataDir,
      port: pgPort,
      password: randomBytes(18).toString('base64url'),
      logFile: path.join(options.dir, 'postgres.log'),
      onProgress: options.onProgress,
    });
    this.redis = new LocalRedis({ port: redisPort, dir: path.join(options.dir, 'redis'), logFile: path.join(options.dir, 'redis.log') });
  }

  static async create(options: BenchStackOptions): Promise<BenchStack> {
    return new BenchStack(options, await freePort(), await freePort());
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.apiPort}`;
  }

  /** Root pids of the api, PostgreSQL (its backends are children), its replica if any, and Redis. */
  pids(): Record<string, number | undefined> {
    return { api: this.api?.pid, postgres: this.postgres.pid, replica: this.replica?.pid, redis: this.redis.pid };
  }

  /** The primary's superuser connection string (replication views, WAL positions). */
  get adminUrl(): string {
    return this.postgres.url();
  }

  /**
   * Seeds and starts a streaming replica of the primary (the local runtime's own code), and
   * points the next api start at it (DATABASE_REPLICA_URL). Returns its connection string.
   */
  async startReplica(): Promise<string> {
    this.replicaDir = postgresDataDir(path.join(this.options.dir, 'replica'));
    this.replica = await seedReplica(this.postgres, {
      dataDir: this.replicaDir,
      port: await freePort(),
      logFile: path.join(this.options.dir, 'replica.log'),
      onProgress: this.options.onProgress,
    });
    const url = this.replica.url(DATABASE);
    this.options.apiEnv = { ...this.options.apiEnv, DATABASE_REPLICA_URL: url };
    return url;
  }

  get databaseUrl(): string {
    return this.postgres.url(DATABASE);
  }

  async start(): Promise<void> {
    await this.postgres.start();
    await this.postgres.ensureDatabase(DATABASE);
    this.options.onProgress(`starting Redis on 127.0.0.1:${this.redis.port}`);
    await this.redis.start();
  }

  /**
   * Starts one api process and waits for GET /readyz 200 (migrations run before it answers).
   * `nodeFlags` (e.g. --cpu-prof, which NODE_OPTIONS refuses) go before the entry script;
   * `extraEnv` is added to this start's environment only (a tracing variant).
   */
  async startApi(nodeFlags: string[] = [], extraEnv: Record<string, string> = {}): Promise<void> {
    this.apiPort = await freePort();
    this.apiLog = path.join(this.options.dir, `api-${++this.apiStarts}.log`);
    const env = {
      ...this.options.apiEnv,
      ...extraEnv,
      PORT: String(this.apiPort),
      DATABASE_URL: this.databaseUrl,
      REDIS_URL: this.redis.url,
      INSTANCE_ID: 'bench-api',
    };
    this.api =
      nodeFlags.length === 0 ? this.options.helper.spawnBackend('api', { env, logFile: this.apiLog }) : this.spawnWithFlags(nodeFlags, env);
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (this.api.exitCode !== null)
        throw new Error(`the api exited with code ${this.api.exitCode} while starting:\n${await tail(this.apiLog)}`);
      if (
        await fetch(`${this.apiUrl}/readyz`).then(
          (r) => r.status === 200,
          () => false,
        )
      )
        return;
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    throw new Error(`the api was not ready within 60 s:\n${await tail(this.apiLog)}`);
  }

  /** spawnBackend's process, with node flags before the entry script. */
  private spawnWithFlags(nodeFlags: string[], env: Record<string, string>): ChildProcess {
    const { command, args, cwd } = this.options.helper.backendCommand('api');
    const log = openSync(this.apiLog, 'a');
    try {
      return spawn(command, [...nodeFlags, ...args], {
        cwd,
        stdio: ['ignore', log, log],
        env: { NODE_ENV: 'production', PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
      });
    } finally {
      closeSync(log);
    }
  }

  /** SIGTERM (graceful drain; a --cpu-prof profile is written on this exit), SIGKILL after 15 s. */
  async stopApi(): Promise<void> {
    const child = this.api;
    this.api = undefined;
    if (child) await terminate(child, 'SIGTERM', 15_000);
  }

  /** The last lines of the current api log, for error messages. */
  apiLogTail(): Promise<string> {
    return tail(this.apiLog);
  }

  /** Inserts `count` users in one statement; returns the id range they got. */
  async seed(count: number): Promise<{ minId: number; maxId: number }> {
    const client = new pg.Client({ connectionString: this.databaseUrl });
    await client.connect();
    try {
      await client.query(
        `INSERT INTO users (name, email)
         SELECT 'User ' || g, 'user' || g || '@example.com' FROM generate_series(1, $1::int) AS g`,
        [count],
      );
      await client.query('ANALYZE users');
      const { rows } = await client.query<{ min: string; max: string }>('SELECT min(id), max(id) FROM users');
      return { minId: Number(rows[0]!.min), maxId: Number(rows[0]!.max) };
    } finally {
      await client.end();
    }
  }

  /** Reads every id once through the api, `concurrency` at a time, so each lands in Redis. */
  async warmCache(minId: number, maxId: number, concurrency = 32): Promise<void> {
    await warmUsers(this.apiUrl, minId, maxId, concurrency);
  }

  /** Counters from the api's /metrics (unlabelled series only), e.g. cache_hits_total. */
  async counters(...names: string[]): Promise<Record<string, number>> {
    const text = await (await fetch(`${this.apiUrl}/metrics`)).text();
    const values: Record<string, number> = {};
    for (const name of names) {
      const m = text.match(new RegExp(`^${name} ([\\d.e+-]+)$`, 'm'));
      values[name] = m ? Number(m[1]) : Number.NaN;
    }
    return values;
  }

  /** Stops the api, Redis and PostgreSQL and deletes PostgreSQL's data. Safe to call twice. */
  async stop(): Promise<void> {
    const replicaDir = this.replicaDir;
    const steps = [
      () => this.stopApi(),
      () => this.replica?.stop(),
      () => (replicaDir ? dropReplica(replicaDir) : undefined),
      () => this.redis.stop(),
      () => this.postgres.stop(),
      () => rm(this.dataDir, { recursive: true, force: true }),
    ];
    for (const step of steps) {
      try {
        await step();
      } catch (err) {
        this.options.onProgress(`cleanup step failed: ${(err as Error).message}`);
      }
    }
  }
}
