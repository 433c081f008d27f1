/**
 * What a local stack's earlier runs left: whether the previous run can be adopted, the clean-up of
 * one that cannot, and the deletion of a stopped stack's data.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { OnProgress } from '../runtime.js';
import { isOurs, liveProcesses, reapProcesses } from './leftovers.js';
import { postgresDataDir } from './postgres.js';
import { replicaDataDir } from './read-replica.js';
import { StackOwnedError } from './stack-dir.js';
import { readState, recordedProcesses, type LocalState } from './state.js';

/**
 * The previous state, when it can be adopted: its control plane is gone and its stores are
 * alive. Otherwise whatever it left running is stopped and the stack starts afresh; so is a stack
 * an older ScaleLab started without a Redis password (`unsecured`), which a restart gives one.
 */
export async function adoptableState(dir: string, onProgress: OnProgress, unsecured: boolean): Promise<LocalState | undefined> {
  const state = await readState(dir);
  if (!state) return undefined;
  if (state.controlPid !== process.pid && (await isControlPlane(state.controlPid))) {
    throw new StackOwnedError(
      `stack "${state.spec.name}" is supervised by another control plane (pid ${state.controlPid}); use \`scalelab status\` or stop it first`,
    );
  }
  const storesAlive =
    state.postgres.pid !== undefined &&
    state.redis.pid !== undefined &&
    (await isOurs('postgres', state.postgres.pid)) &&
    (await isOurs('redis', state.redis.pid));
  if (storesAlive && !unsecured) return state;
  if (storesAlive) onProgress('restarting the stack: its Redis ran without a password');
  const stopped = await reapProcesses(recordedProcesses(state));
  if (stopped.length > 0) onProgress(`stopped what a broken previous run left behind: ${stopped.map((p) => p.role).join(', ')}`);
  return undefined;
}

/**
 * Deletes a stopped stack's data (PostgreSQL data, logs, secrets). Refuses while any of its
 * processes is alive, so data is never deleted under a running PostgreSQL.
 */
export async function purgeStack(dir: string, onProgress: OnProgress): Promise<void> {
  const state = await readState(dir);
  const live = state ? await liveProcesses(recordedProcesses(state)) : [];
  if (live.length > 0)
    throw new StackOwnedError(
      `the stack in ${dir} is running (${live.map((p) => p.role).join(', ')}); stop it first with \`scalelab down\``,
    );
  onProgress('deleting the stack data');
  await rm(postgresDataDir(path.join(dir, 'postgres')), { recursive: true, force: true });
  await rm(replicaDataDir(dir), { recursive: true, force: true });
  await rm(`${replicaDataDir(dir)}.seeding`, { recursive: true, force: true });
  await rm(dir, { recursive: true, force: true });
}

/** True when `pid` is a live ScaleLab control plane (not a reused pid). */
async function isControlPlane(pid: number): Promise<boolean> {
  return isOurs('control', pid);
}
