import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import path from 'node:path';
import { spawnBackend, type BackendProgram } from '../../electron/control/runtimes/local/backend-process.js';
import { hasExited, terminate } from '../../electron/control/runtimes/local/child.js';

/**
 * Backend processes spawned exactly as a Replica spawns them (same `spawnBackend`, same command,
 * same environment) but with no supervision: no probe timer, no balancer, no state file, no
 * restart. The control benchmark's floors are made of these.
 */

/** One bare api or worker process and the URL that says it is ready. */
export interface BareProcess {
  id: string;
  child: ChildProcess;
  port: number;
  /** api: /readyz; worker: its metrics server's /healthz (what Replica probes) */
  readyUrl: string;
  logFile: string;
}

/** Options of {@link startBare}. */
export interface StartBareOptions {
  program: BackendProgram;
  /** INSTANCE_ID, and the log file's name. */
  id: string;
  /** The api's PORT or the worker's METRICS_PORT. */
  port: number;
  /** What every replica gets (DATABASE_URL, REDIS_URL, …); PORT/METRICS_PORT and INSTANCE_ID are added. */
  env: Record<string, string>;
  logsDir: string;
  /** Another build's spawnBackend (e.g. the compiled one from loadBackendProcess). @defaultValue this source's */
  spawn?: typeof spawnBackend;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function tail(file: string, lines = 15): Promise<string> {
  return (await readFile(file, 'utf8').catch(() => '')).trim().split('\n').slice(-lines).join('\n');
}

/** Spawns the process with the environment Replica.start() builds. */
export function startBare(options: StartBareOptions): BareProcess {
  const { program, id, port, logsDir } = options;
  const env: Record<string, string> = { ...options.env, INSTANCE_ID: id, LOG_LEVEL: options.env.LOG_LEVEL ?? 'info' };
  env[program === 'api' ? 'PORT' : 'METRICS_PORT'] = String(port);
  const logFile = path.join(logsDir, `${id}.log`);
  const child = (options.spawn ?? spawnBackend)(program, { env, logFile });
  return { id, child, port, readyUrl: `http://127.0.0.1:${port}${program === 'api' ? '/readyz' : '/healthz'}`, logFile };
}

/** True when `url` answers 200 within a second. */
export async function answers200(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

/** True when something accepts a TCP connection on 127.0.0.1:port. */
export function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Polls every `intervalMs` until the ready URL answers 200; throws if the process exits first.
 * Until the port accepts connections it tries a bare TCP connect: a refused fetch() costs about
 * four times its CPU, and with nine processes polled every 20 ms that steals a third of a core
 * from the very start-ups being timed.
 */
export async function waitAnswering(bare: BareProcess, intervalMs = 20, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (hasExited(bare.child)) {
      throw new Error(
        `${bare.id} exited (${bare.child.signalCode ?? `code ${bare.child.exitCode}`}) before answering; its log ends:\n${await tail(bare.logFile)}`,
      );
    }
    if ((await acceptsConnections(bare.port)) && (await answers200(bare.readyUrl))) return;
    if (Date.now() > deadline)
      throw new Error(
        `${bare.id} did not answer ${bare.readyUrl} within ${timeoutMs / 1000} s; its log ends:\n${await tail(bare.logFile)}`,
      );
    await sleep(intervalMs);
  }
}

/** SIGTERM to each (SIGKILL after 15 s), in parallel; resolves once all have exited. Safe twice. */
export async function stopBare(processes: BareProcess[]): Promise<void> {
  await Promise.all(processes.map((p) => terminate(p.child, 'SIGTERM', 15_000)));
}
