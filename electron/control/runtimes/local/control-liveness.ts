import { readFile } from 'node:fs/promises';
import { isAlive } from './adopted-process.js';
import { isOurs } from './leftovers.js';

/**
 * What a stack's control plane is, as its watchdog sees it when the lease went stale:
 * `running` (alive, busy or blocked), `paused` (stopped by SIGSTOP / Ctrl-Z, or traced), or
 * `gone` (exited, a zombie, or its pid now belongs to another program).
 */
export type ControlLiveness = 'running' | 'paused' | 'gone';

/**
 * The process state letter in /proc/<pid>/stat (R, S, D, T, t, Z, X, …); undefined where there is no
 * /proc (macOS) or the process does not exist. The command name in parentheses may itself hold spaces
 * and parentheses, so the state is the first field after the last ')'.
 */
export async function procState(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat
      .slice(stat.lastIndexOf(')') + 1)
      .trim()
      .split(' ')[0];
  } catch {
    return undefined;
  }
}

/** True while `pid` exists and is not a zombie (a killed child its parent has not reaped yet). */
export async function isLivePid(pid: number): Promise<boolean> {
  if (!pid || !isAlive(pid)) return false;
  const state = await procState(pid);
  return state !== 'Z' && state !== 'X' && state !== 'x';
}

/**
 * Tells a paused control plane from a dead one, so a Ctrl-Z on `scalelab serve` never costs the
 * stack. Where /proc is missing (macOS) a process that exists and is still a control plane counts as
 * running: pausing cannot be told there, and stopping a live control plane's stack is the worse error.
 */
export async function controlLiveness(pid: number): Promise<ControlLiveness> {
  if (!(await isLivePid(pid))) return 'gone';
  const state = await procState(pid);
  // A reused pid is not our control plane, whatever its state.
  if (!(await isOurs('control', pid))) return 'gone';
  return state === 'T' || state === 't' ? 'paused' : 'running';
}
