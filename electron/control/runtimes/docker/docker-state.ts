import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { StackSpec } from '../../../contract.js';
import { readStateFile, writeJsonAtomic } from '../local/state.js';

/**
 * `SCALELAB_HOME/stacks/<name>/docker.json`: which control plane supervises a Docker stack, its
 * spec and restart counts. The containers themselves are found by their labels; this file only
 * says who owns them and what was asked for, so a restarted control plane adopts the stack.
 */
export interface DockerState {
  version: 1;
  spec: StackSpec;
  /** The supervising control plane; 0 once the stack was stopped with its data kept. */
  controlPid: number;
  balancerPort: number;
  /** Ports on 127.0.0.1; `replica` only while the stack runs a read replica. */
  ports: { postgres: number; redis: number; replica?: number };
  restarts: Record<string, number>;
}

function file(stateDir: string): string {
  return path.join(stateDir, 'docker.json');
}

export function readDockerState(stateDir: string): Promise<DockerState | undefined> {
  return readStateFile<DockerState>(file(stateDir));
}

export function writeDockerState(stateDir: string, state: DockerState): Promise<void> {
  return writeJsonAtomic(file(stateDir), state);
}

export async function removeDockerState(stateDir: string): Promise<void> {
  await rm(file(stateDir), { force: true });
}
