import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, chmodSync, constants, mkdirSync, openSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { hasExited, terminate } from './child.js';
import { AdoptedProcess, type ProcessLike } from './adopted-process.js';
import { redisAclLine } from '../redis-auth.js';
import { NamedError } from '../../../../backend/named-error.js';

const SEARCH_DIRS = ['/usr/bin', '/usr/sbin', '/usr/local/bin', '/opt/homebrew/bin', '/usr/local/sbin'];

/** Thrown when no redis-server can be found; the message says how to install one. */
export class RedisNotFoundError extends NamedError {
  constructor() {
    super(
      'redis-server was not found on PATH. Install it, then try again:\n' +
        '  Debian/Ubuntu: sudo apt-get install -y redis-server\n' +
        '  Fedora/RHEL:   sudo dnf install -y redis\n' +
        '  macOS:         brew install redis',
    );
  }
}

/** The redis-server binary on PATH (or a usual install folder), or undefined. */
export function findRedisServer(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dirs = [...(env.PATH ?? '').split(path.delimiter).filter(Boolean), ...SEARCH_DIRS];
  for (const dir of dirs) {
    const candidate = path.join(dir, 'redis-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

/**
 * Writes `<dir>/redis.conf` (mode 0600) with the password and the ACL ({@link redisAclLine});
 * returns its path. Rewritten at every start, so a folder left by an older run never keeps a stale
 * password or a looser mode.
 */
function writeAuthConfig(dir: string, password: string): string {
  const file = path.join(dir, 'redis.conf');
  rmSync(file, { force: true });
  writeFileSync(file, `${redisAclLine(password)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

/** Options of {@link LocalRedis}. */
export interface LocalRedisOptions {
  /** Port on 127.0.0.1. */
  port: number;
  /** Working folder (redis writes nothing there with persistence off). */
  dir: string;
  /** File that receives redis-server's log. */
  logFile: string;
  /**
   * `requirepass`: clients must AUTH with it (it is in {@link LocalRedis.url}). Written to a 0600
   * config file, never on the command line, where `ps` would show it. @defaultValue none (tests' own Redis)
   */
  password?: string;
}

/** One RESP command, so a password is sent as data, whatever it holds. */
function resp(...args: string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
}

/**
 * True when Redis on 127.0.0.1:`port` answers PING with PONG (after AUTH with `password`, when given)
 * within `timeoutMs`; false when it refuses, is down, frozen, or the password is wrong.
 */
export function pingRedis(port: number, password?: string, timeoutMs = 500): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write(`${password ? resp('AUTH', password) : ''}${resp('PING')}`));
    let replies = '';
    socket.on('data', (data) => {
      replies += data.toString();
      // +OK (AUTH) then +PONG; an error reply (-NOAUTH, -WRONGPASS, -LOADING) means not yet, or never.
      if (replies.startsWith('-') || replies.includes('\r\n-')) done(false);
      else if (replies.includes('+PONG')) done(true);
    });
  });
}

/** Resolves once redis answers PING (see {@link pingRedis}), rejects after `timeoutMs`. */
export async function waitForRedis(port: number, timeoutMs: number, password?: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pingRedis(port, password))) {
    if (Date.now() > deadline) throw new Error(`redis on 127.0.0.1:${port} did not answer PING within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * A redis-server child process on loopback, used as a cache and queue: no persistence, so a
 * killed Redis comes back empty, as a cache outage really looks.
 */
export class LocalRedis {
  private child: ProcessLike | undefined;

  constructor(private readonly options: LocalRedisOptions) {}

  /** The connection string, with the password when there is one (as DATABASE_URL holds PostgreSQL's). */
  get url(): string {
    const auth = this.options.password ? `:${encodeURIComponent(this.options.password)}@` : '';
    return `redis://${auth}127.0.0.1:${this.options.port}`;
  }

  get port(): number {
    return this.options.port;
  }

  /** The server's pid while it runs; undefined once it exited (killed under the control plane, too). */
  get pid(): number | undefined {
    return this.child && !hasExited(this.child) ? this.child.pid : undefined;
  }

  async start(): Promise<void> {
    const binary = findRedisServer();
    if (!binary) throw new RedisNotFoundError();
    mkdirSync(this.options.dir, { recursive: true });
    const log = openSync(this.options.logFile, 'a');
    // The config file comes first (redis-server reads a file, then the arguments over it); it holds
    // only the password, so the command line `ps` shows holds none.
    const config = this.options.password ? [writeAuthConfig(this.options.dir, this.options.password)] : [];
    const args = [
      ...config,
      '--port',
      String(this.options.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      this.options.dir,
      '--protected-mode',
      'yes',
    ];
    const child = spawn(binary, args, { stdio: ['ignore', log, log], detached: true });
    closeSync(log);
    this.child = child;
    const exited = new Promise<never>((_, reject) => {
      child.once('exit', (code) => reject(new Error(`redis-server exited with code ${code} while starting; see ${this.options.logFile}`)));
    });
    await Promise.race([waitForRedis(this.options.port, 10_000, this.options.password), exited]);
  }

  /** Supervises a server a previous control plane started (pid from the stack's state file). */
  adopt(pid: number): void {
    this.child = new AdoptedProcess(pid);
  }

  /** Sends a signal without waiting (SIGKILL for a crash, SIGSTOP/SIGCONT for a freeze). */
  signal(signal: NodeJS.Signals): void {
    this.child?.kill(signal);
  }

  /** Kills redis with SIGKILL, as a crash, and resolves once it is gone. `start()` brings it back. */
  async crash(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child) await terminate(child, 'SIGKILL', 0);
  }

  /** Stops redis (SIGTERM, then SIGKILL after 5 s). Safe to call twice. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child) await terminate(child, 'SIGTERM', 5_000);
  }
}
