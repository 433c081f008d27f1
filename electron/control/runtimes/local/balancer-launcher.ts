import path from 'node:path';
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
import { HaproxyBalancer, type HaproxyRecord } from '../../balancer/haproxy/haproxy-balancer.js';
import { findHaproxy, launchHaproxy, spawnHaproxy } from './haproxy-launcher.js';
import { NamedError } from '../../../../backend/named-error.js';

/** A stack's balancer: HAProxy driven over its runtime API, or ScaleLab's Node balancer process. */
export type StackBalancer = HaproxyBalancer | RemoteBalancer;
/** What the state file records of either. */
export type StackBalancerRecord = HaproxyRecord | BalancerRecord;
/** True for HAProxy's record; a record without an engine is the Node process's (older state files too). */
export function isHaproxyRecord(record: StackBalancerRecord): record is HaproxyRecord {
  return 'engine' in record && record.engine === 'haproxy';
}
/** Which proxy carries the stack's traffic. */
export type BalancerEngine = 'haproxy' | 'node';

/** Thrown when SCALELAB_BALANCER names an engine that cannot run here. */
export class BalancerEngineError extends NamedError {}

/**
 * The engine a new stack gets: SCALELAB_BALANCER (`haproxy` or `node`) when set, else HAProxy
 * when a usable one (2.4+) is installed — it serves about what nginx does, where the Node process
 * serves about 0.6 of it (bench/results/path.md) — else the Node balancer, saying why.
 */
export async function chooseBalancerEngine(onProgress: (line: string) => void = () => undefined): Promise<BalancerEngine> {
  const asked = process.env.SCALELAB_BALANCER?.trim().toLowerCase();
  if (asked === 'node') return 'node';
  const haproxy = await findHaproxy();
  if (asked === 'haproxy') {
    if ('missing' in haproxy)
      throw new BalancerEngineError(
        `SCALELAB_BALANCER=haproxy, but ${haproxy.missing}: install it (apt-get install haproxy, brew install haproxy) or unset SCALELAB_BALANCER`,
      );
    return 'haproxy';
  }
  if (asked !== undefined && asked !== '') throw new BalancerEngineError(`SCALELAB_BALANCER must be "haproxy" or "node", not "${asked}"`);
  if ('missing' in haproxy) {
    onProgress(
      `${haproxy.missing}: the stack's balancer is ScaleLab's Node process (about 0.6× HAProxy's throughput; install haproxy for the full speed)`,
    );
    return 'node';
  }
  return 'haproxy';
}

/** Options of {@link launchBalancer}. */
export interface LaunchBalancerOptions {
  /** Public port on 127.0.0.1. */
  port: number;
  /** File receiving its output (refusals, errors). */
  logFile: string;
  /** The stack's folder (HAProxy's configuration and runtime socket go there). @defaultValue the log file's folder */
  dir?: string;
  /** The same control port and token again, when a balancer that died is started in its place. */
  previous?: BalancerRecord;
  /** Which proxy. @defaultValue 'node' */
  engine?: BalancerEngine;
  /** Where HAProxy's runtime API errors are reported. @defaultValue console.warn */
  onWarn?: (message: string) => void;
}

/** The balancer process did not start (its port is taken, it crashed on start). */
export class BalancerStartError extends NamedError {}

/**
 * Starts a balancer process (balancer/balancer-process.ts), detached in its own process group so
 * it outlives this control plane and a Ctrl-C meant for it; resolves once its control API answers.
 * The token goes in its environment (readable only by this user), never on its command line.
 */
export async function launchBalancer(
  options: LaunchBalancerOptions & { engine: 'haproxy' },
  remote: RemoteBalancerOptions,
): Promise<HaproxyBalancer>;
export async function launchBalancer(
  options: LaunchBalancerOptions & { engine?: 'node' },
  remote: RemoteBalancerOptions,
): Promise<RemoteBalancer>;
export async function launchBalancer(options: LaunchBalancerOptions, remote: RemoteBalancerOptions): Promise<StackBalancer>;
export async function launchBalancer(options: LaunchBalancerOptions, remote: RemoteBalancerOptions): Promise<StackBalancer> {
  if (options.engine === 'haproxy')
    return launchHaproxy({
      port: options.port,
      logFile: options.logFile,
      dir: options.dir ?? path.dirname(options.logFile),
      onWarn: options.onWarn,
    });
  const record = await spawnBalancer(options);
  try {
    return await RemoteBalancer.connect(record, remote);
  } catch (err) {
    const tail = (await tailFile(options.logFile, 5).catch(() => [])).join('\n');
    throw new BalancerStartError(
      `the balancer did not start on 127.0.0.1:${options.port}: ${(err as Error).message}${tail ? `\n${tail}` : ''}`,
    );
  }
}

/**
 * Attaches to the balancer a previous control plane started, when it is still alive and ours.
 * One that is alive but does not answer its control API is stopped, so a new one can take the port.
 */
export async function attachBalancer(
  record: StackBalancerRecord | undefined,
  remote: RemoteBalancerOptions,
  onWarn?: (message: string) => void,
): Promise<StackBalancer | undefined> {
  if (record && isHaproxyRecord(record)) {
    if (!(await isOurs('haproxy', record.pid))) return undefined;
    try {
      return await HaproxyBalancer.connect(record, onWarn, 5_000);
    } catch {
      await reapProcesses([{ role: 'haproxy', pid: record.pid }]);
      return undefined;
    }
  }
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
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'production',
    ...asNode(),
    BALANCER_PORT: String(options.port),
    BALANCER_CONTROL_PORT: String(controlPort),
    BALANCER_TOKEN: token,
    ...samplingEnv(),
  };
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
export function superviseBalancer(
  balancer: StackBalancer,
  options: Omit<LaunchBalancerOptions, 'previous' | 'engine'>,
  onRestart: (message: string) => void,
): () => void {
  let busy = false;
  const respawn = () => {
    if (balancer instanceof HaproxyBalancer) {
      return spawnHaproxy({ ...options, dir: options.dir ?? path.dirname(options.logFile), previous: balancer.record }).then((record) =>
        balancer.replace(record),
      );
    }
    return spawnBalancer({ ...options, previous: balancer.record }).then((record) => balancer.replace(record));
  };
  const timer = setInterval(() => {
    if (busy || isAlive(balancer.record.pid)) return;
    busy = true;
    const previous = balancer.record;
    respawn()
      .then(
        () => onRestart(`the balancer (pid ${previous.pid}) exited; started it again as pid ${balancer.record.pid}`),
        (err: Error) => onRestart(`the balancer (pid ${previous.pid}) exited and could not be started again: ${err.message}`),
      )
      .finally(() => (busy = false));
  }, 1_000);
  timer.unref();
  return () => clearInterval(timer);
}
