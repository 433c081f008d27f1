import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import type { Probe } from '../../../contract.js';
import { NamedError } from '../../../../backend/named-error.js';

/** No Docker engine answers; the message says where ScaleLab looked and what to do. */
export class DockerUnavailableError extends NamedError {
  constructor(
    readonly reason: string,
    readonly fix: string,
  ) {
    super(`${reason}. ${fix}`);
  }
}

/** A reachable engine. */
export interface DockerEngine {
  docker: Docker;
  /** Where it answered: a socket path or DOCKER_HOST. */
  endpoint: string;
  /** e.g. `Docker Engine 20.10.24` or `Podman Engine 4.9.3`. */
  version: string;
}

/**
 * Sockets where Docker Engine, Docker Desktop, rootless Docker, Podman and Colima usually listen,
 * in the order they are tried (DOCKER_HOST, when set, is the only one tried).
 */
export function candidateSockets(env: NodeJS.ProcessEnv = process.env): string[] {
  const home = os.homedir();
  const runtimeDir = env.XDG_RUNTIME_DIR ?? (typeof process.getuid === 'function' ? `/run/user/${process.getuid()}` : undefined);
  if (process.platform === 'win32') return ['//./pipe/docker_engine', '//./pipe/podman-machine-default'];
  return [
    '/var/run/docker.sock',
    path.join(home, '.docker', 'run', 'docker.sock'),
    path.join(home, '.docker', 'desktop', 'docker.sock'),
    ...(runtimeDir ? [path.join(runtimeDir, 'docker.sock'), path.join(runtimeDir, 'podman', 'podman.sock')] : []),
    '/run/podman/podman.sock',
    path.join(home, '.local', 'share', 'containers', 'podman', 'machine', 'podman.sock'),
    path.join(home, '.colima', 'default', 'docker.sock'),
  ];
}

const PING_TIMEOUT_MS = 3_000;

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** Why a socket that exists did not answer, phrased with its fix. */
function explain(endpoint: string, err: NodeJS.ErrnoException): DockerUnavailableError {
  if (err.code === 'EACCES') {
    return new DockerUnavailableError(
      `permission denied on ${endpoint}`,
      'Add your user to the docker group (sudo usermod -aG docker $USER) and log in again, or set DOCKER_HOST',
    );
  }
  if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') {
    return new DockerUnavailableError(
      `${endpoint} exists but no engine answers on it`,
      'Start Docker Desktop or the engine (sudo systemctl start docker, or dockerd), then try again',
    );
  }
  return new DockerUnavailableError(
    `the engine at ${endpoint} did not answer: ${err.message}`,
    'Check that Docker is running (docker info), then try again',
  );
}

async function versionOf(docker: Docker): Promise<string> {
  const v = await withTimeout(docker.version(), PING_TIMEOUT_MS, 'the Docker engine');
  const name = v.Components?.find((c) => /engine/i.test(c.Name))?.Name;
  const product = !name || name === 'Engine' ? 'Docker Engine' : name;
  return `${product} ${v.Version}`;
}

/** A client for DOCKER_HOST: unix:// and npipe:// sockets, tcp:// (TLS as docker-modem reads it from DOCKER_TLS_VERIFY/DOCKER_CERT_PATH). */
function fromDockerHost(host: string, env: NodeJS.ProcessEnv): Docker {
  const socket = /^(?:unix|npipe):\/\/(.+)$/.exec(host);
  if (socket) return new Docker({ socketPath: socket[1] });
  if (env === process.env || env.DOCKER_TLS_VERIFY) return new Docker();
  const url = new URL(host.replace(/^tcp:/, 'http:'));
  return new Docker({ host: url.hostname, port: url.port || 2375, protocol: 'http' });
}

/**
 * Finds a reachable engine: DOCKER_HOST when set, else the first usual socket that answers a ping.
 * Throws {@link DockerUnavailableError} saying where it looked and how to fix it.
 */
export async function connectDocker(env: NodeJS.ProcessEnv = process.env): Promise<DockerEngine> {
  if (env.DOCKER_HOST) {
    const docker = fromDockerHost(env.DOCKER_HOST, env);
    try {
      await withTimeout(docker.ping(), PING_TIMEOUT_MS, `DOCKER_HOST (${env.DOCKER_HOST})`);
      return { docker, endpoint: env.DOCKER_HOST, version: await versionOf(docker) };
    } catch (err) {
      throw explain(`DOCKER_HOST (${env.DOCKER_HOST})`, err as NodeJS.ErrnoException);
    }
  }
  const sockets = candidateSockets(env).filter((s) => s.startsWith('//') || existsSync(s));
  let firstError: DockerUnavailableError | undefined;
  for (const socketPath of sockets) {
    const docker = new Docker({ socketPath });
    try {
      await withTimeout(docker.ping(), PING_TIMEOUT_MS, socketPath);
      return { docker, endpoint: socketPath, version: await versionOf(docker) };
    } catch (err) {
      firstError ??= explain(socketPath, err as NodeJS.ErrnoException);
    }
  }
  if (firstError) throw firstError;
  throw new DockerUnavailableError(
    'no Docker engine found (looked at DOCKER_HOST and /var/run/docker.sock, Docker Desktop, rootless Docker, Podman and Colima sockets)',
    'Install and start Docker Desktop or Docker Engine (or Podman with its Docker-compatible socket), or set DOCKER_HOST',
  );
}

/** The Docker runtime's probe: reachable or not, the version, and why not with the fix. */
export async function probeDocker(env: NodeJS.ProcessEnv = process.env): Promise<Probe> {
  try {
    const engine = await connectDocker(env);
    return { runtime: 'docker', available: true, version: engine.version };
  } catch (err) {
    if (err instanceof DockerUnavailableError) return { runtime: 'docker', available: false, reason: err.reason, fix: err.fix };
    return { runtime: 'docker', available: false, reason: (err as Error).message, fix: 'Check that Docker is running (docker info)' };
  }
}
