import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { rm, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { asNode, nodeEntryCommand } from './backend-process.js';
import { isAlive } from './adopted-process.js';
import { isOurs } from './leftovers.js';

const LEASE_MS = 2_000;

/**
 * A control plane's lease on a local stack (`<stateDir>/lease`, touched every 2 s) and the stack's
 * watchdog, which stops the stack once the lease is stale and the control plane is gone
 * (see watchdog.ts). On adoption the running watchdog is kept, so one always watches.
 */
export class StackLease {
  /** The watchdog's pid, recorded in state.json. */
  watchdogPid: number | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly stateDir: string) {}

  private get file(): string {
    return path.join(this.stateDir, 'lease');
  }

  /**
   * Adoption, before anything writes state.json: renews the lease at once (the old control plane's
   * may be nearly stale) and keeps the previous watchdog when it still runs.
   */
  async takeOver(previousWatchdog: number | undefined): Promise<void> {
    await writeFile(this.file, String(process.pid));
    if (previousWatchdog && (await isOurs('watchdog', previousWatchdog))) this.watchdogPid = previousWatchdog;
  }

  /**
   * Renews the lease every 2 s (calling `onTick` each time) and makes sure a watchdog runs, also
   * after one was killed; `record` writes state.json once a new watchdog's pid is known.
   */
  async start(onTick: () => void, record: () => Promise<void>): Promise<void> {
    const file = this.file;
    await writeFile(file, String(process.pid));
    clearInterval(this.timer);
    let replacing = false;
    this.timer = setInterval(() => {
      const now = new Date();
      void utimes(file, now, now).catch(() => undefined);
      onTick();
      if (replacing || !this.timer || (this.watchdogPid && isAlive(this.watchdogPid))) return;
      replacing = true;
      void this.ensureWatchdog(record).finally(() => (replacing = false));
    }, LEASE_MS);
    this.timer.unref();
    await this.ensureWatchdog(record);
  }

  /** Keeps the recorded watchdog when it still runs, else starts one and records it. */
  private async ensureWatchdog(record: () => Promise<void>): Promise<void> {
    if (this.watchdogPid && (await isOurs('watchdog', this.watchdogPid))) return;
    // Released meanwhile (the stack is stopping): no new watchdog.
    if (!this.timer) return;
    const { command, args, cwd } = nodeEntryCommand('electron/control/runtimes/local/watchdog');
    const log = openSync(path.join(this.stateDir, 'logs', 'watchdog.log'), 'a');
    const watchdogMs = process.env.SCALELAB_WATCHDOG_MS;
    const child = spawn(command, [...args, this.stateDir], {
      cwd,
      stdio: ['ignore', log, log],
      detached: true,
      env: { PATH: process.env.PATH ?? '', ...asNode(), ...(watchdogMs ? { SCALELAB_WATCHDOG_MS: watchdogMs } : {}) },
    });
    closeSync(log);
    child.unref();
    this.watchdogPid = child.pid;
    await record();
  }

  /** Stops renewing, without stopping the watchdog (a restarting control plane lets go). Safe twice. */
  pause(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The stack stops: the watchdog leaves and the lease goes. A watchdog already gone is fine. */
  async release(): Promise<void> {
    this.pause();
    if (this.watchdogPid) signalIfAlive(this.watchdogPid, 'SIGTERM');
    this.watchdogPid = undefined;
    await rm(this.file, { force: true });
  }
}

/** Signals `pid` if it still exists: a process already gone is stopped, not an error (ESRCH). */
export function signalIfAlive(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}
