import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { spawnBackend, type BackendProgram } from './backend-process.js';
import { terminate } from './child.js';
import { liveProcesses, recordProcesses, reapLeftovers } from './leftovers.js';
import { freePort, isPortOpen } from './ports.js';
import { LocalPostgres, postgresDataDir } from './postgres.js';
import { LocalRedis } from './redis.js';

/** Options of {@link LocalStack}. */
export interface LocalStackOptions {
  /** Stack name; its state lives in SCALELAB_HOME/stacks/<name>. @defaultValue 'default' */
  name?: string;
  /** ScaleLab's state folder. @defaultValue $SCALELAB_HOME or ~/.scalelab */
  home?: string;
  /** Port of the api; a free one is used when it is taken. @defaultValue 3000 */
  apiPort?: number;
  /** Extra environment for the api and worker (CACHE_TTL_SECONDS, …). */
  env?: Record<string, string>;
  /** One line per step, as it happens. */
  onProgress?: (message: string) => void;
}

/** Where the running stack answers. */
export interface LocalStackEndpoints {
  apiUrl: string;
  databaseUrl: string;
  redisUrl: string;
  stateDir: string;
  dataDir: string;
}

interface Secrets {
  postgresPassword: string;
  adminToken: string;
}

const DATABASE = 'scalelab';
const MAX_BACKOFF_MS = 30_000;

/** SCALELAB_HOME, or ~/.scalelab. */
export function scalelabHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.SCALELAB_HOME ?? path.join(os.homedir(), '.scalelab');
}

async function waitForHttp(url: string, timeoutMs: number, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with code ${child.exitCode} while starting; see ${logFile}`);
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  throw new Error(`did not become ready within ${timeoutMs} ms; see ${logFile}`);
}

/**
 * The backend stack on local processes: PostgreSQL (embedded), redis-server, one api and one
 * worker. A process that exits on its own is restarted with exponential backoff.
 * The control plane's local runtime grows from this.
 */
export class LocalStack {
  private readonly name: string;
  private readonly stateDir: string;
  private postgres: LocalPostgres | undefined;
  private redis: LocalRedis | undefined;
  private readonly children = new Map<BackendProgram, ChildProcess>();
  private readonly restarts = new Map<BackendProgram, number>();
  private stopping = false;

  constructor(private readonly options: LocalStackOptions = {}) {
    this.name = options.name ?? 'default';
    this.stateDir = path.join(options.home ?? scalelabHome(), 'stacks', this.name);
  }

  async up(): Promise<LocalStackEndpoints> {
    const progress = this.options.onProgress ?? (() => undefined);
    await mkdir(path.join(this.stateDir, 'logs'), { recursive: true });
    const secrets = await this.secrets();
    const leftovers = await reapLeftovers(this.processesFile);
    if (leftovers.length > 0) progress(`stopped processes a previous run left behind: ${leftovers.join(', ')}`);
    const dataDir = postgresDataDir(path.join(this.stateDir, 'postgres'));

    this.postgres = new LocalPostgres({
      dataDir,
      port: await freePort(),
      password: secrets.postgresPassword,
      logFile: path.join(this.stateDir, 'logs', 'postgres.log'),
      onProgress: progress,
    });
    await this.postgres.start();
    await this.record();
    await this.postgres.ensureDatabase(DATABASE);

    this.redis = new LocalRedis({ port: await freePort(), dir: path.join(this.stateDir, 'redis'), logFile: path.join(this.stateDir, 'logs', 'redis.log') });
    progress(`starting Redis on 127.0.0.1:${this.redis.port}`);
    await this.redis.start();
    await this.record();

    const wanted = this.options.apiPort ?? 3000;
    const apiPort = (await isPortOpen(wanted)) ? await freePort() : wanted;
    if (apiPort !== wanted) progress(`port ${wanted} is taken; the api uses ${apiPort}`);
    const env = {
      DATABASE_URL: this.postgres.url(DATABASE),
      REDIS_URL: this.redis.url,
      ADMIN_TOKEN: secrets.adminToken,
      ...this.options.env,
    };
    progress('starting the api (migrations run on first start)');
    const api = this.launch('api', { ...env, PORT: String(apiPort), INSTANCE_ID: 'api-1' });
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    await waitForHttp(`${apiUrl}/readyz`, 60_000, api, this.logFile('api'));
    progress('starting the worker');
    this.launch('worker', { ...env, INSTANCE_ID: 'worker-1' });
    await this.record();
    return { apiUrl, databaseUrl: this.postgres.url(DATABASE), redisUrl: this.redis.url, stateDir: this.stateDir, dataDir };
  }

  /** Stops everything; data stays unless `purge`. Safe to call twice. */
  async down(opts: { purge?: boolean } = {}): Promise<void> {
    if (opts.purge && this.children.size === 0) {
      // Purging from another terminal: never delete the data under a running PostgreSQL.
      const live = await liveProcesses(this.processesFile);
      if (live.length > 0) throw new Error(`stack "${this.name}" is running (${live.join(', ')}); stop it first (Ctrl-C where it runs), then purge`);
    }
    this.stopping = true;
    await Promise.all([...this.children.values()].map((child) => terminate(child, 'SIGTERM', 15_000)));
    this.children.clear();
    await this.redis?.stop();
    await this.postgres?.stop();
    if (opts.purge) {
      await rm(postgresDataDir(path.join(this.stateDir, 'postgres')), { recursive: true, force: true });
      await rm(this.stateDir, { recursive: true, force: true });
    }
  }

  private get processesFile(): string {
    return path.join(this.stateDir, 'processes.json');
  }

  private async record(): Promise<void> {
    await recordProcesses(this.processesFile, {
      postgres: this.postgres?.pid,
      redis: this.redis?.pid,
      api: this.children.get('api')?.pid,
      worker: this.children.get('worker')?.pid,
    });
  }

  private logFile(program: BackendProgram): string {
    return path.join(this.stateDir, 'logs', `${program}.log`);
  }

  private launch(program: BackendProgram, env: Record<string, string>): ChildProcess {
    const child = spawnBackend(program, { env, logFile: this.logFile(program) });
    this.children.set(program, child);
    const started = Date.now();
    child.once('exit', (code, signal) => {
      if (this.stopping) return;
      // Like a ReplicaSet: restart, backing off while it keeps crashing; a long run resets the backoff.
      const restarts = Date.now() - started > 60_000 ? 0 : (this.restarts.get(program) ?? 0) + 1;
      this.restarts.set(program, restarts);
      const wait = Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(restarts, 6));
      this.options.onProgress?.(`${program} exited (${signal ?? `code ${code}`}); restarting in ${wait} ms; log: ${this.logFile(program)}`);
      setTimeout(() => {
        if (this.stopping) return;
        this.launch(program, env);
        void this.record();
      }, wait).unref();
    });
    return child;
  }

  private async secrets(): Promise<Secrets> {
    const file = path.join(this.stateDir, 'secrets.json');
    if (existsSync(file)) return JSON.parse(await readFile(file, 'utf8')) as Secrets;
    const secrets: Secrets = { postgresPassword: randomBytes(18).toString('base64url'), adminToken: randomBytes(24).toString('base64url') };
    await writeFile(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
    await chmod(file, 0o600);
    return secrets;
  }
}
