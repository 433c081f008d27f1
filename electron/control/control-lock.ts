import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { rmSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isLivePid } from './runtimes/local/control-liveness.js';
import { NamedError } from '../../backend/named-error.js';

/** Another live process holds SCALELAB_HOME's control-plane lock. */
export class ControlLockedError extends NamedError {
  constructor(
    readonly ownerPid: number,
    home: string,
  ) {
    super(`a control plane already runs for ${home} (pid ${ownerPid})`);
  }
}

/** `SCALELAB_HOME/control.lock`: the pid of the one control plane that runs (or starts) for this home. */
export function controlLockPath(home: string): string {
  return path.join(home, 'control.lock');
}

async function readPid(file: string): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(file, 'utf8')).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Creates `file` holding our pid, atomically and only if it does not exist: the pid is written to a
 * private temporary file first and hard-linked into place (link fails with EEXIST like an O_EXCL
 * open), so no reader ever sees the lock empty or half-written. True when we created it.
 */
async function createExclusive(file: string): Promise<boolean> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, String(process.pid), { mode: 0o600 });
  try {
    await link(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await rm(tmp, { force: true });
  }
}

/**
 * Removes a lock whose owner `stalePid` is gone, under a short takeover guard, so two processes that
 * both found it stale cannot remove each other's fresh lock: only the guard's holder re-reads and
 * removes it, and only if it still names the dead owner.
 */
async function removeStale(file: string, stalePid: number | undefined): Promise<void> {
  const guard = `${file}.takeover`;
  if (!(await createExclusive(guard))) {
    const holder = await readPid(guard);
    // A taker-over that died holding the guard leaves it behind: clear it and try again later.
    if (holder === undefined || !(await isLivePid(holder))) await rm(guard, { force: true });
    return;
  }
  try {
    if ((await readPid(file)) === stalePid) await rm(file, { force: true });
  } finally {
    await rm(guard, { force: true });
  }
}

/** The live process that holds the lock of `home`, or undefined when it is free or stale. */
export async function controlLockOwner(home: string): Promise<number | undefined> {
  const pid = await readPid(controlLockPath(home));
  return pid !== undefined && (await isLivePid(pid)) ? pid : undefined;
}

/**
 * Takes SCALELAB_HOME's control-plane lock for this process, for as long as it runs: one control
 * plane per home, so two `scalelab up` at once start one and both attach to it. A lock whose owner is
 * gone (killed, crashed) is taken over. Returns the release (also run at exit); throws
 * {@link ControlLockedError} while another live process holds it.
 */
export async function acquireControlLock(home: string): Promise<() => void> {
  await mkdir(home, { recursive: true, mode: 0o700 });
  const file = controlLockPath(home);
  for (let attempt = 0; ; attempt++) {
    if (await createExclusive(file)) break;
    const owner = await readPid(file);
    if (owner === process.pid) break;
    if (owner !== undefined && (await isLivePid(owner))) throw new ControlLockedError(owner, home);
    if (attempt > 50) throw new ControlLockedError(owner ?? 0, home);
    await removeStale(file, owner);
    await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 30));
  }
  const release = () => {
    process.off('exit', release);
    try {
      if (readFileSync(file, 'utf8').trim() === String(process.pid)) rmSync(file, { force: true });
    } catch {
      // already gone
    }
  };
  process.on('exit', release);
  return release;
}
