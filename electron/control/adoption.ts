/**
 * Taking over a stack a killed control plane left behind, and saying truthfully what happened:
 * "adopted" only when something of it was still running and is now supervised again; "restarted"
 * when everything of it had already stopped (its watchdog's lease ran out) and it was started
 * afresh. A stack whose `down` was asked for (and failed half-way) is never brought back by
 * adoption: the user wanted it stopped, so a later `scalelab status` must not start it again.
 */
import { existsSync } from 'node:fs';
import { readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Envelope, StackStatus, TimelineEvent } from '../contract.js';
import type { RecordedStack, RuntimeDriver } from './runtimes/registry.js';
import { isOurs } from './runtimes/local/leftovers.js';
import { stackDir } from './runtimes/local/stack-dir.js';

/** What became of a stack a previous control plane left behind. */
export interface Adoption {
  name: string;
  /** True when some of its processes, containers or pods survived and were taken over; false when it was started afresh. */
  adopted: boolean;
}

/** Options of {@link adoptOrphans}. */
export interface AdoptionOptions {
  home: string;
  /** The runtimes, in the registry's order: the first that recorded a stack in its folder adopts it. */
  drivers: readonly RuntimeDriver[];
  /** The control plane's command door (`stack:up` with the orphan's spec). */
  handle: (command: 'stack:up', payload: unknown) => Promise<Envelope<unknown>>;
  record: (event: Omit<TimelineEvent, 't'>) => void;
}

const STOP_REQUESTED = 'down-requested';

/** Notes that the user asked the stack in `dir` to stop (before `down` runs, so a failed one still counts). */
export async function markStopRequested(dir: string): Promise<void> {
  if (existsSync(dir)) await writeFile(path.join(dir, STOP_REQUESTED), `${new Date().toISOString()}\n`, { mode: 0o600 });
}

/** Forgets that note: the stack is being started again. */
export async function clearStopRequested(dir: string): Promise<void> {
  await rm(path.join(dir, STOP_REQUESTED), { force: true });
}

/** True when the stack now runs something that existed before `since` (or a process the old state recorded, still alive). */
export function isTakeover(status: StackStatus, since: number, recorded: Set<number>): boolean {
  return status.instances.some((i) => (i.startedAt > 0 && i.startedAt < since) || (i.pid !== undefined && recorded.has(i.pid)));
}

/** Looks for a stack a killed control plane left running and takes it over; see the file's comment. */
export async function adoptOrphans(options: AdoptionOptions): Promise<Adoption | undefined> {
  const names = await readdir(path.join(options.home, 'stacks')).catch(() => [] as string[]);
  for (const name of names) {
    const dir = stackDir(options.home, name);
    const found = await recordedIn(options.drivers, dir);
    const state = found?.stack;
    // A Docker or Kubernetes stack stopped with its data kept has controlPid 0: nothing to adopt.
    if (!state || state.controlPid === 0 || state.controlPid === process.pid || (await isOurs('control', state.controlPid))) continue;
    if (existsSync(path.join(dir, STOP_REQUESTED))) {
      options.record({
        kind: 'lifecycle',
        level: 'info',
        message: `stack "${name}" was being stopped when its control plane went: not started again (\`scalelab up\` starts it)`,
      });
      continue;
    }
    // Alive now, before `stack:up` looks: what the old state recorded and still runs.
    const recorded = new Set(await state.livePids());
    const since = Date.now();
    const result = await options.handle('stack:up', { ...state.spec, runtime: found.runtime });
    if (result.ok) return { name, adopted: isTakeover(result.value as StackStatus, since, recorded) };
    options.record({ kind: 'lifecycle', level: 'error', message: `could not adopt stack "${name}": ${result.error.message}` });
  }
  return undefined;
}

/** The first runtime that recorded a stack in `dir`, and what it recorded. */
async function recordedIn(drivers: readonly RuntimeDriver[], dir: string): Promise<{ runtime: string; stack: RecordedStack } | undefined> {
  for (const driver of drivers) {
    const stack = await driver.recorded?.(dir);
    if (stack) return { runtime: driver.name, stack };
  }
  return undefined;
}

/** The line to print about an {@link Adoption}. */
export function adoptionMessage(adoption: Adoption): string {
  return adoption.adopted
    ? `adopted the running stack "${adoption.name}"`
    : `restarted the stack "${adoption.name}": everything it had left running had already stopped`;
}
