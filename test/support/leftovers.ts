/**
 * What a test run may leave behind, read before and after the suite: the difference is what the
 * tests created and did not remove. test/run-suite.ts fails the run when it is not empty.
 *
 * Kept on purpose, and so not counted: caches the product and the tests reuse across runs (the
 * PostgreSQL binaries copied to /var/lib/scalelab/postgres-<version> as root, the Docker test
 * images labelled scalelab.test=images and their build cache in /var/cache/scalelab-test).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';

/** One thing that exists: its kind and a name a person can look up. */
export interface Leftover {
  kind:
    'tracked file' | 'untracked file' | 'data folder' | 'temp folder' | 'process' | 'container' | 'volume' | 'network' | 'cgroup' | 'home';
  name: string;
}

/** Everything of the kinds above that exists now. */
export interface Snapshot {
  items: Leftover[];
  /** Whether a Docker engine answered (containers, volumes and networks were read). */
  docker: boolean;
}

const ROOT_DATA = '/var/lib/scalelab';
/** Processes a test may start: the stores, the control plane and its helpers, replicas, browsers. */
const PROCESS_PATTERN = /redis-server|\bpostgres\b|dist\/electron\/|dist\/backend\/|scalelab|chromium|nginx: master|\bwrk\b/;
const CGROUP_ROOTS = ['/sys/fs/cgroup/cpu', '/sys/fs/cgroup/unified', '/sys/fs/cgroup'];

function gitStatus(root: string): Leftover[] {
  try {
    const out = execFileSync('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: root, encoding: 'utf8' });
    return out
      .split('\n')
      .filter(Boolean)
      .map((line) => ({ kind: line.startsWith('??') ? 'untracked file' : 'tracked file', name: line.slice(3) }));
  } catch {
    return [];
  }
}

function folders(): Leftover[] {
  const items: Leftover[] = [];
  const data = path.join(ROOT_DATA, 'data');
  if (existsSync(data)) for (const name of readdirSync(data)) items.push({ kind: 'data folder', name: path.join(data, name) });
  if (existsSync(ROOT_DATA)) {
    for (const name of readdirSync(ROOT_DATA)) {
      if (name !== 'data' && !/^postgres-\d+\.\d+\.\d+(-[\w.]+)?$/.test(name))
        items.push({ kind: 'data folder', name: path.join(ROOT_DATA, name) });
    }
  }
  for (const name of readdirSync(os.tmpdir())) {
    if (/scalelab/i.test(name)) items.push({ kind: 'temp folder', name: path.join(os.tmpdir(), name) });
  }
  const home = path.join(os.homedir(), '.scalelab');
  if (existsSync(home)) items.push({ kind: 'home', name: home });
  return items;
}

function processes(): Leftover[] {
  if (!existsSync('/proc')) return [];
  const items: Leftover[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    if (Number(pid) === process.pid || Number(pid) === process.ppid) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      if (!cmdline || !PROCESS_PATTERN.test(cmdline) || /run-suite|dockerd|containerd/.test(cmdline)) continue;
      // Zombies are gone already; only their parent has not read their status.
      if (/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))) continue;
      items.push({ kind: 'process', name: `${pid} ${cmdline.slice(0, 160)}` });
    } catch {
      // It exited while being read.
    }
  }
  return items;
}

function cgroups(): Leftover[] {
  const items: Leftover[] = [];
  for (const root of CGROUP_ROOTS) {
    if (!existsSync(root)) continue;
    try {
      for (const name of readdirSync(root)) if (/scalelab/i.test(name)) items.push({ kind: 'cgroup', name: path.join(root, name) });
    } catch {
      // Not readable here: nothing of ours can be there either.
    }
  }
  return items;
}

/** GET on the Docker engine's API over its socket; undefined when no engine answers. */
function dockerGet(apiPath: string): Promise<unknown> {
  const host = process.env.DOCKER_HOST;
  if (host && !host.startsWith('unix://')) return Promise.resolve(undefined);
  const socketPath = host ? host.slice('unix://'.length) : '/var/run/docker.sock';
  return new Promise((resolve) => {
    const req = request({ socketPath, path: apiPath, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        try {
          resolve(res.statusCode === 200 ? JSON.parse(body) : undefined);
        } catch {
          resolve(undefined);
        }
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

async function dockerObjects(): Promise<{ items: Leftover[]; docker: boolean }> {
  const filter = encodeURIComponent(JSON.stringify({ label: ['scalelab.stack'] }));
  const containers = (await dockerGet(`/containers/json?all=true&filters=${filter}`)) as { Names: string[] }[] | undefined;
  if (!containers) return { items: [], docker: false };
  const volumes = ((await dockerGet(`/volumes?filters=${filter}`)) as { Volumes: { Name: string }[] | null } | undefined)?.Volumes ?? [];
  const networks = ((await dockerGet(`/networks?filters=${filter}`)) as { Name: string }[] | undefined) ?? [];
  return {
    docker: true,
    items: [
      ...containers.map((c) => ({ kind: 'container' as const, name: c.Names.join(',') })),
      ...volumes.map((v) => ({ kind: 'volume' as const, name: v.Name })),
      ...networks.map((n) => ({ kind: 'network' as const, name: n.Name })),
    ],
  };
}

/** Reads everything of the kinds a test may create. */
export async function takeSnapshot(root: string): Promise<Snapshot> {
  const docker = await dockerObjects();
  return { items: [...gitStatus(root), ...folders(), ...processes(), ...cgroups(), ...docker.items], docker: docker.docker };
}

/** What is in `after` and was not in `before`. */
export function leftOver(before: Snapshot, after: Snapshot): Leftover[] {
  const seen = new Set(before.items.map((i) => `${i.kind}\0${i.name}`));
  // A process is the same process by pid and command line; a reused pid with another command is new.
  return after.items.filter((i) => !seen.has(`${i.kind}\0${i.name}`));
}
