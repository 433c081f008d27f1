import { spawn } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { terminate } from '../../electron/control/runtimes/local/child.js';
import { freePort } from '../../electron/control/runtimes/local/ports.js';
import { nginxVersion } from './nginx.js';

/** A running nginx reverse proxy: where it answers and how to stop it. */
export interface NginxProxy {
  url: string;
  pid: number | undefined;
  stop(): Promise<void>;
}

/**
 * nginx as the trusted peer of ScaleLab's balancer: `proxy_pass` to one upstream over a keep-alive
 * pool (HTTP/1.1, `keepalive 64`), `worker_processes` as given, logs off: how an operator would
 * front a Node service with it.
 */
export async function startNginxProxy(dir: string, upstream: string, workers: number | 'auto' = 1): Promise<NginxProxy> {
  if (!(await nginxVersion())) throw new Error('nginx was not found: apt-get install nginx-light (scripts/setup.sh bench does it)');
  const port = await freePort();
  await mkdir(path.join(dir, 'tmp'), { recursive: true });
  await chmod(dir, 0o755);
  const errorLog = path.join(dir, 'error.log');
  const tmp = (name: string) => `${name}_temp_path ${path.join(dir, 'tmp', name)};`;
  const conf = `daemon off;
worker_processes ${workers};
pid ${path.join(dir, 'nginx.pid')};
error_log ${errorLog} warn;
events { worker_connections 4096; }
http {
  access_log off;
  ${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(tmp).join(' ')}
  keepalive_timeout 65s;
  keepalive_requests 1000000;
  upstream api { server ${new URL(upstream).host}; keepalive 64; keepalive_requests 1000000; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://api;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $remote_addr;
    }
  }
}
`;
  const confFile = path.join(dir, 'nginx.conf');
  await writeFile(confFile, conf);
  const binary = (await nginxVersion()) ? 'nginx' : '/usr/sbin/nginx';
  const child = spawn(binary, ['-p', dir, '-c', confFile, '-e', errorLog], {
    stdio: 'ignore',
    env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin` },
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`nginx exited with code ${child.exitCode}: ${await readFile(errorLog, 'utf8').catch(() => '')}`);
    if (
      await fetch(`${url}/readyz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return { url, pid: child.pid, stop: () => terminate(child, 'SIGTERM', 5_000) };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await terminate(child, 'SIGTERM', 5_000);
  throw new Error(`nginx did not proxy ${url}/readyz within 10 s: ${await readFile(errorLog, 'utf8').catch(() => '')}`);
}
