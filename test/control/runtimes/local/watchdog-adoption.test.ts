import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../../electron/control/runtimes/local/ports.js';
import type { LocalState } from '../../../../electron/control/runtimes/local/state.js';
import { eventually } from '../../../backend/support/api.js';
import { makeTempHome, removeTempHome } from '../../../support/temp-home.js';
import { killAndWait, startServe, watchdogsOf } from '../../support/control-plane-process.js';
import { runScalelab } from '../../support/scalelab-cli.js';

let home: string;
let serve: ChildProcess | undefined;
let port: number;
const scalelab = (...args: string[]) => runScalelab(home, args);
const stackDir = () => path.join(home, 'stacks', 'adopt');
const state = async () => JSON.parse(await readFile(path.join(stackDir(), 'state.json'), 'utf8')) as LocalState;

beforeAll(async () => {
  home = await makeTempHome('scalelab-adopt-');
  serve = await startServe(home);
  port = await freePort();
  const up = await scalelab('up', '--name', 'adopt', '--api', '1', '--workers', '1', '--port', String(port));
  expect(up.code, up.stderr).toBe(0);
}, 180_000);
afterAll(async () => {
  await scalelab('down', '--purge', '--name', 'adopt');
  if (serve) await killAndWait(serve, 'SIGTERM');
  await removeTempHome(home);
}, 120_000);

describe('watchdog handover on adoption', () => {
  it('across 10 control-plane restarts (kill -9, a new one adopts) there is always exactly one watchdog', async () => {
    const first = watchdogsOf(stackDir());
    expect(first).toHaveLength(1);
    // Counted every 20 ms through every kill and adoption, so a moment with none (or two) shows.
    const counts: number[] = [];
    const seen = new Set<number>();
    const sampler = setInterval(() => {
      const pids = watchdogsOf(stackDir());
      counts.push(pids.length);
      for (const pid of pids) seen.add(pid);
    }, 20);
    try {
      for (let restart = 1; restart <= 10; restart++) {
        await killAndWait(serve!);
        serve = await startServe(home);
        const recorded = await state();
        expect(recorded.controlPid, `restart ${restart}`).toBe(serve.pid);
        expect(watchdogsOf(stackDir()), `restart ${restart}`).toEqual([recorded.watchdogPid]);
      }
    } finally {
      clearInterval(sampler);
    }
    expect(counts.length).toBeGreaterThan(100);
    expect(counts.filter((n) => n !== 1)).toEqual([]);
    // The running watchdog is kept, never replaced: the handover needs no second one.
    expect([...seen]).toEqual(first);
    await eventually('the adopted stack serves', async () => (await fetch(`http://127.0.0.1:${port}/users/1`)).status !== 503, 30_000);
    const status = await scalelab('status', '--json');
    expect(status.code, status.stderr).toBe(0);
  }, 400_000);
});
