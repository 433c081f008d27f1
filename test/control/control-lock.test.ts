import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireControlLock, controlLockOwner, controlLockPath, ControlLockedError } from '../../electron/control/control-lock.js';
import { readControlFile } from '../../electron/control/control-file.js';
import { freePort } from '../../electron/control/runtimes/local/ports.js';
import { makeTempHome, removeTempHome } from '../support/temp-home.js';
import { commandLines } from './support/control-plane-process.js';
import { root, runScalelab } from './support/scalelab-cli.js';

const run = promisify(execFile);
let home: string;

/** A pid that existed and is gone now. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

beforeAll(async () => {
  home = await makeTempHome('scalelab-lock-');
});
afterAll(async () => {
  await runScalelab(path.join(home, 'twins'), ['down', '--purge', '--name', 'twin']);
  // The control plane the two `up` started: stop it, then check nothing of this home is left.
  const control = await readControlFile(path.join(home, 'twins'));
  if (control) process.kill(control.pid, 'SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  await removeTempHome(home);
}, 120_000);

describe('control-plane lock', () => {
  it("is refused while its owner lives, and a dead owner's lock is taken over", async () => {
    const dir = path.join(home, 'unit');
    const release = await acquireControlLock(dir);
    expect(await readFile(controlLockPath(dir), 'utf8')).toBe(String(process.pid));
    // Taken again by its owner: no error (one process, one lock).
    await acquireControlLock(dir);
    release();
    expect(await controlLockOwner(dir)).toBeUndefined();

    // Held by another live process: refused with its pid.
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    try {
      await writeFile(controlLockPath(dir), String(holder.pid));
      await expect(acquireControlLock(dir)).rejects.toThrow(new ControlLockedError(holder.pid!, dir));
      expect(await controlLockOwner(dir)).toBe(holder.pid);
    } finally {
      holder.kill('SIGKILL');
      await new Promise((resolve) => holder.once('exit', resolve));
    }
    // Its owner gone: the lock is stale and taken over.
    await writeFile(controlLockPath(dir), String(await deadPid()));
    const again = await acquireControlLock(dir);
    expect(await controlLockOwner(dir)).toBe(process.pid);
    again();
    expect((await readdir(dir)).filter((f) => f.startsWith('control.lock'))).toEqual([]);
  });

  it('of 6 processes racing for one stale lock, exactly one wins', async () => {
    const dir = path.join(home, 'race');
    await acquireControlLock(dir).then((release) => release());
    await writeFile(controlLockPath(dir), String(await deadPid()));
    const script = `import { acquireControlLock } from './electron/control/control-lock.ts';
      acquireControlLock(process.argv[1]).then(() => { console.log('won'); setTimeout(() => process.exit(0), 10000); }, (e) => { console.log(e.name); process.exit(0); });`;
    // The winner holds on for 10 s, so a racer that starts late still finds it alive.
    const racers = Array.from({ length: 6 }, () =>
      run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, dir], { cwd: root, timeout: 60_000 }),
    );
    const outcomes = (await Promise.all(racers)).map((r) => r.stdout.trim()).sort();
    expect(outcomes).toEqual([
      'ControlLockedError',
      'ControlLockedError',
      'ControlLockedError',
      'ControlLockedError',
      'ControlLockedError',
      'won',
    ]);
  }, 90_000);

  it('two `scalelab up` at once on a fresh SCALELAB_HOME both succeed, attached to one control plane', async () => {
    const twins = path.join(home, 'twins');
    const port = String(await freePort());
    const up = () => runScalelab(twins, ['up', '--name', 'twin', '--api', '1', '--workers', '0', '--port', port, '--json'], 180_000);
    const [a, b] = await Promise.all([up(), up()]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const dashboards = [a, b].map((r) => (JSON.parse(r.stdout) as { endpoints: { dashboard: string } }).endpoints.dashboard.split('?')[0]);
    expect(dashboards[0]).toBe(dashboards[1]);
    const control = await readControlFile(twins);
    expect(await controlLockOwner(twins)).toBe(control?.pid);
    // One control plane serves this home: every `serve` process started for it but the owner has exited.
    const serves = [...commandLines()].filter(
      ([pid, line]) => line.includes('serve --detached') && environ(pid).includes(`SCALELAB_HOME=${twins}`),
    );
    expect(serves.map(([pid]) => pid)).toEqual([control?.pid]);
  }, 200_000);
});

function environ(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8');
  } catch {
    return '';
  }
}
