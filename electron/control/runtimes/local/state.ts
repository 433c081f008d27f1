import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { StackSpec } from '../../../contract.js';
import type { StackBalancerRecord } from './balancer-launcher.js';
import type { RecordedProcess } from './leftovers.js';

/** A replica as recorded, so a restarted control plane can adopt it. */
export interface ReplicaRecord {
  id: string;
  service: 'api' | 'worker';
  pid: number | undefined;
  port: number;
  restarts: number;
  startedAt: number;
}

/**
 * `SCALELAB_HOME/stacks/<name>/state.json` (0600): what runs for a stack (pids, ports, the spec).
 * The stores' passwords are in secrets.json (0600); the one secret here is the balancer process's
 * control token, made per balancer process and needed to re-attach to it.
 */
export interface LocalState {
  version: 1;
  spec: StackSpec;
  /** The control plane supervising the stack. */
  controlPid: number;
  balancerPort: number;
  postgres: { pid: number | undefined; port: number };
  redis: { pid: number | undefined; port: number };
  /** The PostgreSQL read replica (spec `data.readReplica`); absent when none runs. */
  postgresReplica?: { pid: number | undefined; port: number };
  replicas: ReplicaRecord[];
  watchdogPid: number | undefined;
  /** The balancer: HAProxy (engine 'haproxy') or the Node process (no engine); absent in a state file of an older ScaleLab. */
  balancer?: StackBalancerRecord;
}

/** Passwords and tokens the stack's processes share. */
export interface Secrets {
  postgresPassword: string;
  adminToken: string;
  /** Redis `requirepass`; the replicas get it inside REDIS_URL. */
  redisPassword: string;
  /**
   * True when this load added a secret an older ScaleLab did not make (its Redis runs without a
   * password, so what runs cannot be adopted as it is). Not stored.
   */
  added?: boolean;
}

export function stateFile(stateDir: string): string {
  return path.join(stateDir, 'state.json');
}

export function readState(stateDir: string): Promise<LocalState | undefined> {
  return readStateFile<LocalState>(stateFile(stateDir));
}

/** Reads a state file (version 1); undefined when it is missing, unreadable or of another version. */
export async function readStateFile<T extends { version: number }>(file: string): Promise<T | undefined> {
  try {
    const state = JSON.parse(await readFile(file, 'utf8')) as T;
    return state.version === 1 ? state : undefined;
  } catch {
    return undefined;
  }
}

/** Writes atomically, so a control plane killed mid-write leaves the previous state. */
export async function writeState(stateDir: string, state: LocalState): Promise<void> {
  await writeJsonAtomic(stateFile(stateDir), state);
}

/** Writes `value` as JSON through a temporary file and a rename: readers see the old or the new file, never half. */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(value, null, 2), { mode: 0o600 });
  await rename(tmp, file);
}

export async function removeState(stateDir: string): Promise<void> {
  await rm(stateFile(stateDir), { force: true });
}

/** Every process the state records, by role. */
export function recordedProcesses(state: LocalState): RecordedProcess[] {
  const all: (RecordedProcess | undefined)[] = [
    state.watchdogPid ? { role: 'watchdog', pid: state.watchdogPid } : undefined,
    state.balancer?.pid
      ? { role: 'engine' in state.balancer && state.balancer.engine === 'haproxy' ? 'haproxy' : 'balancer', pid: state.balancer.pid }
      : undefined,
    ...state.replicas.map((r) => (r.pid ? { role: r.service, pid: r.pid } : undefined)),
    state.redis.pid ? { role: 'redis', pid: state.redis.pid } : undefined,
    state.postgresReplica?.pid ? { role: 'postgres-replica', pid: state.postgresReplica.pid } : undefined,
    state.postgres.pid ? { role: 'postgres', pid: state.postgres.pid } : undefined,
  ];
  return all.filter((p): p is RecordedProcess => p !== undefined);
}

/** The stack's secrets, created on first use (mode 0600); one an older file lacks is added to it. */
export async function loadSecrets(stateDir: string): Promise<Secrets> {
  const file = path.join(stateDir, 'secrets.json');
  const stored = existsSync(file) ? (JSON.parse(await readFile(file, 'utf8')) as Partial<Secrets>) : undefined;
  const secrets: Secrets = {
    postgresPassword: stored?.postgresPassword ?? randomBytes(18).toString('base64url'),
    adminToken: stored?.adminToken ?? randomBytes(24).toString('base64url'),
    redisPassword: stored?.redisPassword ?? randomBytes(24).toString('base64url'),
  };
  if (stored && stored.postgresPassword && stored.adminToken && stored.redisPassword) return secrets;
  await writeFile(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  await chmod(file, 0o600);
  return stored ? { ...secrets, added: true } : secrets;
}
