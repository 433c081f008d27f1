/**
 * A Docker stack while this runtime supervises it ({@link Running}), and what is kept about it:
 * docker.json (who supervises the stack, its ports and restart counts) and the containers whose
 * stats are read.
 */
import type { StackSpec } from '../../../contract.js';
import type { Balancer } from '../../balancer/balancer.js';
import { isOurs } from '../local/leftovers.js';
import type { ReplicaSet } from '../local/replica-set.js';
import { StackOwnedError } from '../local/stack-dir.js';
import type { StoreId } from '../runtime.js';
import type { StackLayout } from './container-specs.js';
import type { DockerEvents } from './docker-events.js';
import { readDockerState, type DockerState } from './docker-state.js';
import type { DockerStats } from './docker-stats.js';
import type { DockerEngine } from './engine.js';
import { LABELS, stackFilter } from './labels.js';
import type { StoreContainer } from './store-container.js';

/** A stack this runtime supervises. */
export type Running = {
  engine: DockerEngine;
  spec: StackSpec;
  layout: StackLayout;
  dir: string;
  events: DockerEvents;
  stats: DockerStats;
  balancer: Balancer;
  stores: StoreContainer[];
  replicas: ReplicaSet;
  statsTimer: NodeJS.Timeout;
  /** PostgreSQL (and its read replica, when it runs) and Redis as the host (telemetry) reaches them. */
  urls: { database: string; redis: string; replica?: string };
  adminToken: string;
};

/** docker.json of the stack; throws when another live control plane supervises it. */
export async function unsupervisedState(dir: string): Promise<DockerState | undefined> {
  const state = await readDockerState(dir);
  if (state && state.controlPid > 0 && state.controlPid !== process.pid && (await isOurs('control', state.controlPid))) {
    throw new StackOwnedError(
      `stack "${state.spec.name}" is supervised by another control plane (pid ${state.controlPid}); use \`scalelab status\` or stop it first`,
    );
  }
  return state;
}

/** What docker.json records of the running stack, with this process as its supervisor. */
export function dockerStateOf(running: Running): DockerState {
  const port = (id: StoreId) => running.stores.find((s) => s.id === id)?.port;
  const ports = {
    postgres: port('postgres')!,
    redis: port('redis')!,
    ...(port('postgres-replica') ? { replica: port('postgres-replica') } : {}),
  };
  const restarts = Object.fromEntries(running.replicas.records().map((r) => [r.id, r.restarts]));
  return {
    version: 1,
    spec: running.spec,
    controlPid: process.pid,
    balancerPort: running.spec.port,
    ports,
    restarts,
  };
}

/** Points the stats reader at the stack's running containers, by instance id. */
export async function trackStats(running: Running): Promise<void> {
  const ids = new Map<string, string>();
  const containers = await running.engine.docker.listContainers({ filters: stackFilter(running.spec.name) }).catch(() => []);
  for (const c of containers) if (c.State === 'running' && c.Labels[LABELS.instance]) ids.set(c.Labels[LABELS.instance]!, c.Id);
  running.stats.track(ids);
}
