import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { terminate } from '../../electron/control/runtimes/local/child.js';
import { freePort } from '../../electron/control/runtimes/local/ports.js';

const run = promisify(execFile);

/** Where Debian's nginx-light installs the binary; PATH is tried first. */
const NGINX_CANDIDATES = ['nginx', '/usr/sbin/nginx'];

/** Options of {@link startNginx}. */
export interface StaticNginxOptions {
  /** Prefix folder for the config, pid, logs and document root; created if missing. */
  dir: string;
  /** `worker_processes`: a number, or 'auto' (one per CPU). */
  workers: number | 'auto';
  /** Body served for every GET /users/<anything>, as application/json. */
  body: string;
}

/** A running nginx: where it answers and how to stop it. */
export interface StaticNginx {
  url: string;
  /** the master's pid; the workers are its children */
  pid: number | undefined;
  stop(): Promise<void>;
}

/** nginx's version line ("nginx/1.22.1"), or undefined when nginx is not installed. */
export async function nginxVersion(): Promise<string | undefined> {
  for (const binary of NGINX_CANDIDATES) {
    try {
      const { stderr } = await run(binary, ['-v']);
      return stderr.trim().replace(/^nginx version: /, '');
    } catch {
      // try the next candidate
    }
  }
  return undefined;
}

async function nginxBinary(): Promise<string> {
  for (const binary of NGINX_CANDIDATES) {
    if (
      await run(binary, ['-v']).then(
        () => true,
        () => false,
      )
    )
      return binary;
  }
  throw new Error('nginx was not found: apt-get install nginx-light (scripts/setup.sh bench does it)');
}

/**
 * nginx serving one small JSON file on 127.0.0.1 with keep-alive: the HTTP ceiling of this
 * machine. Every /users/<id> path answers the same file, so wrk drives it with the very same Lua
 * script (and the same client-side cost) as the API's cached GET.
 */
export async function startNginx(options: StaticNginxOptions): Promise<StaticNginx> {
  const { dir } = options;
  const binary = await nginxBinary();
  const port = await freePort();
  // As root nginx's workers run as nobody: the prefix (and the folders above it) must be
  // readable by them.
  await mkdir(path.join(dir, 'www'), { recursive: true });
  await mkdir(path.join(dir, 'tmp'), { recursive: true });
  await chmod(dir, 0o755);
  await chmod(path.join(dir, 'www'), 0o755);
  await writeFile(path.join(dir, 'www', 'user.json'), options.body, { mode: 0o644 });
  const errorLog = path.join(dir, 'error.log');
  const tmp = (name: string) => `${name}_temp_path ${path.join(dir, 'tmp', name)};`;
  const conf = `daemon off;
worker_processes ${options.workers};
pid ${path.join(dir, 'nginx.pid')};
error_log ${errorLog} warn;
events { worker_connections 1024; }
http {
  access_log off;
  default_type application/json;
  ${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(tmp).join(' ')}
  keepalive_timeout 65s;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:${port};
    root ${path.join(dir, 'www')};
    location /users/ { rewrite ^ /user.json break; }
  }
}
`;
  const confFile = path.join(dir, 'nginx.conf');
  await writeFile(confFile, conf);
  const child = spawn(binary, ['-p', dir, '-c', confFile, '-e', errorLog], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntilServing(`${url}/users/1`, child, errorLog);
  } catch (err) {
    await terminate(child, 'SIGTERM', 5_000);
    throw err;
  }
  return { url, pid: child.pid, stop: () => terminate(child, 'SIGTERM', 5_000) };
}

async function waitUntilServing(url: string, child: ChildProcess, errorLog: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`nginx exited with code ${child.exitCode}: ${await readFile(errorLog, 'utf8').catch(() => '')}`);
    }
    if (
      await fetch(url).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`nginx did not serve ${url} within 10 s: ${await readFile(errorLog, 'utf8').catch(() => '')}`);
}
