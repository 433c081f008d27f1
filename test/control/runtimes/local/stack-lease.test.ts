import { spawn } from 'node:child_process';
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signalIfAlive, StackLease } from '../../../../electron/control/runtimes/local/stack-lease.js';
import { makeTempHome, removeTempHome } from '../../../support/temp-home.js';

let dir: string;

/** A pid that existed and is gone now. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

beforeAll(async () => {
  dir = await makeTempHome('scalelab-lease-');
  await mkdir(path.join(dir, 'logs'));
});
afterAll(() => removeTempHome(dir));

describe('stack lease', () => {
  it('a process already gone counts as stopped: signalling it or releasing its lease is no error (ESRCH)', async () => {
    const gone = await deadPid();
    expect(() => signalIfAlive(gone, 'SIGTERM')).not.toThrow();
    const lease = new StackLease(dir);
    await lease.takeOver(gone);
    // A dead watchdog is not kept: a new control plane starts its own.
    expect(lease.watchdogPid).toBeUndefined();
    lease.watchdogPid = gone;
    await expect(lease.release()).resolves.toBeUndefined();
    expect(await readdir(dir)).toEqual(['logs']);
  });
});
