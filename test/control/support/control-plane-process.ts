import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isAlive } from '../../../electron/control/runtimes/local/adopted-process.js';
import { readControlFile } from '../../../electron/control/control-file.js';
import { eventually } from '../../backend/support/api.js';
import { root } from './scalelab-cli.js';

/** `scalelab serve` for `home` as a child of the test, resolved once its control.json names it. */
export async function startServe(home: string, env: NodeJS.ProcessEnv = {}): Promise<ChildProcess> {
  const serve = spawn(process.execPath, ['electron/scalelab.mjs', 'serve', '--port', '0'], {
    cwd: root,
    env: { ...process.env, ...env, SCALELAB_HOME: home },
    stdio: 'ignore',
  });
  await eventually('control.json names the new control plane', async () => (await readControlFile(home))?.pid === serve.pid, 60_000);
  return serve;
}

/** Kills `child` with `signal` and resolves once it is gone (reaped, not a zombie). */
export async function killAndWait(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGCONT');
  child.kill(signal);
  await exited;
  await eventually('process gone', async () => !isAlive(child.pid!), 5_000);
}

/** The command lines of every process on the machine, by pid (from /proc). */
export function commandLines(): Map<number, string> {
  const lines = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      lines.set(
        Number(entry),
        readFileSync(path.join('/proc', entry, 'cmdline'), 'utf8')
          .split('\0')
          .join(' '),
      );
    } catch {
      // exited meanwhile
    }
  }
  return lines;
}

/** Pids of the watchdogs watching the stack folder `stateDir`. */
export function watchdogsOf(stateDir: string): number[] {
  return [...commandLines()]
    .filter(([, line]) => line.includes('runtimes/local/watchdog') && line.trimEnd().endsWith(stateDir))
    .map(([pid]) => pid);
}
