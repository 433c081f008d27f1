import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { HaproxyBalancer, type HaproxyRecord } from '../../balancer/haproxy/haproxy-balancer.js';
import { haproxyConfig } from '../../balancer/haproxy/haproxy-config.js';
import { tailFile } from './log-files.js';
import { freeUdpPort } from './ports.js';
import { NamedError } from '../../../../backend/named-error.js';

const run = promisify(execFile);

/** The configuration file's name: also how a leftover HAProxy of ours is told from any other (leftovers.ts). */
export const HAPROXY_CONFIG = 'scalelab-balancer.cfg';
/** The oldest HAProxy whose runtime API and sample fetches the configuration uses. */
const MIN_VERSION = 204;
/** Unix socket paths are at most 107 bytes on Linux. */
const MAX_SOCKET_PATH = 100;

/** Where HAProxy is looked for: PATH, then the sbin folders a user's PATH often lacks. */
const CANDIDATES = ['haproxy', '/usr/sbin/haproxy', '/usr/local/sbin/haproxy', '/opt/homebrew/sbin/haproxy', '/usr/local/bin/haproxy'];

/** The HAProxy that would run, or why none can. */
export type HaproxyFound = { binary: string; version: string } | { missing: string };

let found: Promise<HaproxyFound> | undefined;

/** Finds a usable HAProxy (2.4 or newer) once per process. */
export function findHaproxy(): Promise<HaproxyFound> {
  found ??= (async () => {
    let older: string | undefined;
    for (const binary of CANDIDATES) {
      if (binary.startsWith('/') && !existsSync(binary)) continue;
      const out = await run(binary, ['-v'], { timeout: 5_000 }).then(
        (r) => r.stdout,
        () => undefined,
      );
      const version = /HAProxy version (\d+)\.(\d+)[^\s]*/.exec(out ?? '');
      if (!version) continue;
      const [major, minor] = [Number(version[1]), Number(version[2])];
      if (major * 100 + minor >= MIN_VERSION) return { binary, version: version[0].slice('HAProxy version '.length) };
      older = version[0];
    }
    return { missing: older ? `${older} is older than 2.4` : 'haproxy is not installed' };
  })();
  return found;
}

/** The HAProxy did not start (its port is taken, its configuration was refused). */
export class HaproxyStartError extends NamedError {}

/** Options of {@link launchHaproxy}. */
export interface LaunchHaproxyOptions {
  /** Public port on 127.0.0.1. */
  port: number;
  /** File receiving HAProxy's own output (alerts, warnings). */
  logFile: string;
  /** The stack's folder: the configuration (0600) and the runtime API's socket go there. */
  dir: string;
  /** The same socket, log port and secret again, when an HAProxy that died is started in its place. */
  previous?: HaproxyRecord;
  onWarn?: (message: string) => void;
}

/**
 * Writes the configuration and starts HAProxy detached in its own process group, so it outlives
 * this control plane and a Ctrl-C meant for it. The log secret is in the configuration file
 * (0600), never on a command line.
 */
export async function spawnHaproxy(options: LaunchHaproxyOptions): Promise<HaproxyRecord> {
  const haproxy = await findHaproxy();
  if ('missing' in haproxy) throw new HaproxyStartError(`cannot start the HAProxy balancer: ${haproxy.missing}`);
  const socket = options.previous?.socket ?? path.join(options.dir, 'balancer.sock');
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH)
    throw new HaproxyStartError(`the stack folder's path is too long for a unix socket (${socket}); set SCALELAB_HOME to a shorter folder`);
  const logPort = options.previous?.logPort ?? (await freeUdpPort());
  const secret = options.previous?.secret ?? randomBytes(18).toString('hex');
  const config = path.join(options.dir, HAPROXY_CONFIG);
  await writeFile(config, haproxyConfig({ port: options.port, socket, logPort, secret }), { mode: 0o600 });
  // A socket an HAProxy that was killed left behind would make the new one fail to bind it.
  await rm(socket, { force: true });
  const log = openSync(options.logFile, 'a');
  try {
    const child = spawn(haproxy.binary, ['-f', config, '-db'], {
      cwd: options.dir,
      stdio: ['ignore', log, log],
      env: { PATH: process.env.PATH ?? '' },
      detached: true,
    });
    child.unref();
    if (child.pid === undefined) throw new HaproxyStartError(`could not start ${haproxy.binary}`);
    return { engine: 'haproxy', pid: child.pid, port: options.port, socket, logPort, secret };
  } finally {
    closeSync(log);
  }
}

/** Starts HAProxy and resolves once its runtime API answers. */
export async function launchHaproxy(options: LaunchHaproxyOptions): Promise<HaproxyBalancer> {
  const record = await spawnHaproxy(options);
  try {
    return await HaproxyBalancer.connect(record, options.onWarn);
  } catch (err) {
    try {
      process.kill(record.pid, 'SIGKILL');
    } catch {
      // it exited on its own: the log says why
    }
    const tail = (await tailFile(options.logFile, 5).catch(() => [])).join('\n');
    throw new HaproxyStartError(
      `the HAProxy balancer did not start on 127.0.0.1:${options.port}: ${(err as Error).message}${tail ? `\n${tail}` : ''}`,
    );
  }
}
