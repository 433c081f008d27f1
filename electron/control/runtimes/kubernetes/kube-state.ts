import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { StackSpec } from '../../../contract.js';
import { readStateFile, writeJsonAtomic } from '../local/state.js';

/**
 * `SCALELAB_HOME/stacks/<name>/kube.json`: the spec and context of a stack on Kubernetes, so a
 * restarted control plane finds it again. The cluster itself holds the objects; this file only
 * says where to look.
 */
export interface KubeState {
  version: 1;
  spec: StackSpec;
  context: string;
  /** The supervising control plane; 0 once the stack was stopped. */
  controlPid: number;
}

const file = (stateDir: string) => path.join(stateDir, 'kube.json');

export function readKubeState(stateDir: string): Promise<KubeState | undefined> {
  return readStateFile<KubeState>(file(stateDir));
}

export function writeKubeState(stateDir: string, state: KubeState): Promise<void> {
  return writeJsonAtomic(file(stateDir), state);
}

export async function removeKubeState(stateDir: string): Promise<void> {
  await rm(file(stateDir), { force: true });
}
