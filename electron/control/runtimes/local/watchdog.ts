/**
 * A stack's watchdog: a tiny detached process that stops the stack when its control plane is
 * gone for good (killed, crashed) and no other control plane adopted it, so no orphan keeps a
 * port or a data folder. The control plane touches `lease` every 2 s; when the lease is older
 * than SCALELAB_WATCHDOG_MS (default 15 s), the watchdog looks at the control plane's pid (in
 * state.json): paused (SIGSTOP, Ctrl-Z) or still running, it keeps waiting; gone (or a zombie, or
 * its pid reused by another program), every recorded process is stopped.
 *
 * Usage: node watchdog.js <stateDir>
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { removeStackGroups } from './cgroup-cpu.js';
import { controlLiveness, type ControlLiveness } from './control-liveness.js';
import { isOurs, reapProcesses } from './leftovers.js';
import { readState, recordedProcesses } from './state.js';

const stateDir = process.argv[2];
const staleMs = Number(process.env.SCALELAB_WATCHDOG_MS) || 15_000;
/** What the last stale tick found, so a long pause is logged once, not every 2 s. */
let lastSeen: ControlLiveness | undefined;

async function tick(): Promise<void> {
  if (!stateDir) process.exit(2);
  const state = await readState(stateDir);
  // The stack was stopped (state removed).
  if (!state) process.exit(0);
  // Another live watchdog took over. A state that names no watchdog, or a dead one, is a control
  // plane mid-adoption: this one keeps watching, so there is never a moment with none.
  if (state.watchdogPid !== undefined && state.watchdogPid !== process.pid && (await isOurs('watchdog', state.watchdogPid)))
    process.exit(0);
  let age: number;
  try {
    age = Date.now() - (await stat(path.join(stateDir, 'lease'))).mtimeMs;
  } catch {
    age = Infinity;
  }
  if (age < staleMs) {
    if (lastSeen) console.log(`${new Date().toISOString()} control plane (pid ${state.controlPid}) renews its lease again`);
    lastSeen = undefined;
    return;
  }
  const control = await controlLiveness(state.controlPid);
  if (control !== 'gone') {
    if (control !== lastSeen)
      console.log(
        `${new Date().toISOString()} lease ${Math.round(age / 1000)} s old, but the control plane (pid ${state.controlPid}) is ${control === 'paused' ? 'paused (stopped, not dead)' : 'still running'}; waiting`,
      );
    lastSeen = control;
    return;
  }
  const stopped = await reapProcesses(recordedProcesses(state).filter((p) => p.role !== 'watchdog'));
  // Their cpu-limit cgroups go with them (empty now), as `down` would remove them.
  await removeStackGroups(state.spec.name);
  console.log(
    `${new Date().toISOString()} control plane gone for ${Math.round(age / 1000)} s; stopped ${stopped.map((p) => p.role).join(', ') || 'nothing'}`,
  );
  process.exit(0);
}

process.on('SIGTERM', () => process.exit(0));
// One tick at a time: a reap can outlast the interval, and a second tick must not race it.
const loop = (): void => {
  setTimeout(() => {
    tick().then(loop, (err: unknown) => {
      console.error(err);
      loop();
    });
  }, 2_000);
};
loop();
