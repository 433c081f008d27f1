import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { RemoteBalancer, type BalancerRecord, type RemoteBalancerOptions } from '../../balancer/remote-balancer.js';
import { isAlive } from './adopted-process.js';
import { asNode, NODE_FLAGS, nodeEntryCommand } from './backend-process.js';
import { tailFile } from './log-files.js';
import { isOurs, reapProcesses } from './leftovers.js';
import { freePort } from './ports.js';
import { samplingEnv } from '../../traces/trace-env.js';

/** Options of {@link launchBalancer}. */
export interface LaunchBalancerOptions {
  /** Public port on 127.0.0.1. */
  port: number;
  /** File receiving its output (refusals, errors). */
  logFile: string;
  /** The same control port and token again, when a balancer that died is started in its place. */
  previous?: BalancerRecord;
}

/** The balancer process did not start (its port is taken, it crashed on start). */
export class BalancerStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = this.constructor.name;
  }
}

/**
 * Starts a balancer process (balancer/balancer-process.ts), detached in its own process group so
 * it outlives this control plane and a Ctrl-C meant for it; resolves once its control API answers.
 * The token goes in its environment (readable only by this user), never on its command line.
 */
export async function launchBalancer(options: LaunchBalancerOptions, remote: RemoteBalancerOptions): Promise<RemoteBalancer> {
  const record = await spawnBalancer(options);
  try {
    return await RemoteBalancer.connect(record, remote);
  } catch (err) {
    const tail = (await tailFile(options.logFile, 5).catch(() => [])).join('\n');
    throw new BalancerStartError(`the balancer did not start on 127.0.0.1:${options.port}: ${(err as Error).message}${tail ? `\n${tail}` : ''}`);
  }
}

/**
 * Attaches to the balancer a previous control plane started, when it is still alive and ours.
 * One that is alive but does not answer its control API is stopped, so a new one can take the port.
 */
export async function attachBalancer(record: BalancerRecord | undefined, remote: RemoteBalancerOptions): Promise<RemoteBalancer | undefined> {
  if (!record || !(await isOurs('balancer', record.pid))) return undefined;
  try {
    return await RemoteBalancer.connect(record, remote, 5_000);
  } catch {
    await reapProcesses([{ role: 'balancer', pid: record.pid }]);
    return undefined;
  }
}

async function spawnBalancer(options: LaunchBalancerOptions): Promise<BalancerRecord> {
  const controlPort = options.previous?.controlPort ?? (await freePort());
  const token = options.previous?.token ?? randomBytes(24).toString('base64url');
  const { command, args, cwd } = nodeEntryCommand('electron/control/balancer/balancer-process', NODE_FLAGS);
  const log = openSync(options.logFile, 'a');
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', NODE_ENV: 'production', ...asNode(), BALANCER_PORT: String(options.port), BALANCER_CONTROL_PORT: String(controlPort), BALANCER_TOKEN: token, ...samplingEnv() };
  try {
    const child = spawn(command, args, { cwd, stdio: ['ignore', log, log], env, detached: true });
    child.unref();
    if (child.pid === undefined) throw new BalancerStartError(`could not start ${command}`);
    return { pid: child.pid, port: options.port, controlPort, token };
  } finally {
    closeSync(log);
  }
}

/**
 * Starts the balancer again, on the same ports, when its process dies under a running stack,
 * and sends it the wanted upstreams. Returns a function that stops watching.
 */
export function superviseBalancer(balancer: RemoteBalancer, options: Omit<LaunchBalancerOptions, 'previous'>, onRestart: (message: string) => void): () => void {
  let busy = false;
  const timer = setInterval(() => {
    if (busy || isAlive(balancer.record.pid)) return;
    busy = true;
    const previous = balancer.record;
    spawnBalancer({ ...options, previous })
      .then((record) => balancer.replace(record))
      .then(
        () => onRestart(`the balancer (pid ${previous.pid}) exited; started it again as pid ${balancer.record.pid}`),
        (err: Error) => onRestart(`the balancer (pid ${previous.pid}) exited and could not be started again: ${err.message}`),
      )
      .finally(() => (busy = false));
  }, 1_000);
  timer.unref();
  return () => clearInterval(timer);
}
