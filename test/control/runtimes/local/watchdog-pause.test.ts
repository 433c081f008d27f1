import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAlive } from '../../../../electron/control/runtimes/local/adopted-process.js';
import { freePort } from '../../../../electron/control/runtimes/local/ports.js';
import type { LocalState } from '../../../../electron/control/runtimes/local/state.js';
import { eventually } from '../../../backend/support/api.js';
import { makeTempHome, removeTempHome } from '../../../support/temp-home.js';
import { killAndWait, startServe } from '../../support/control-plane-process.js';
import { runScalelab } from '../../support/scalelab-cli.js';

let home: string;
let serve: ChildProcess | undefined;
let balancer: string;
// A 3 s lease: a 20 s pause is far past it, so only telling paused from dead keeps the stack.
const WATCHDOG_MS = '3000';
const scalelab = (...args: string[]) => runScalelab(home, args);
const stackDir = () => path.join(home, 'stacks', 'paused');
const state = async () => JSON.parse(await readFile(path.join(stackDir(), 'state.json'), 'utf8')) as LocalState;
const watchdogLog = () => readFile(path.join(stackDir(), 'logs', 'watchdog.log'), 'utf8');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface StatusJson {
  instances: { id: string; phase: string; pid?: number }[];
}

beforeAll(async () => {
  home = await makeTempHome('scalelab-pause-');
  process.env.SCALELAB_WATCHDOG_MS = WATCHDOG_MS;
  serve = await startServe(home, { SCALELAB_WATCHDOG_MS: WATCHDOG_MS });
  const port = await freePort();
  const up = await scalelab('up', '--name', 'paused', '--api', '1', '--workers', '1', '--port', String(port));
  expect(up.code, up.stderr).toBe(0);
  balancer = `http://127.0.0.1:${port}`;
}, 180_000);
afterAll(async () => {
  delete process.env.SCALELAB_WATCHDOG_MS;
  if (serve?.pid) serve.kill('SIGCONT');
  await scalelab('down', '--purge', '--name', 'paused');
  if (serve) await killAndWait(serve, 'SIGTERM');
  await removeTempHome(home);
}, 120_000);

describe('watchdog and a paused control plane', () => {
  it('a control plane paused for 20 s (SIGSTOP, then SIGCONT) keeps its stack: the watchdog waits, and the stack serves after', async () => {
    const created = await fetch(`${balancer}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Paula', email: 'paula@example.com' }),
    });
    expect(created.status).toBe(201);
    const user = (await created.json()) as { id: number };
    const recorded = await state();
    expect(recorded.controlPid).toBe(serve!.pid);
    const pids = [recorded.postgres.pid, recorded.redis.pid, recorded.watchdogPid, ...recorded.replicas.map((r) => r.pid)].filter(
      (p): p is number => p !== undefined,
    );
    expect(pids).toHaveLength(5);

    process.kill(serve!.pid!, 'SIGSTOP');
    const pausedAt = Date.now();
    // A client meanwhile is told the control plane is paused and how to continue it.
    const during = await scalelab('status');
    expect(during.code).not.toBe(0);
    expect(during.stderr).toContain(`the control plane (pid ${serve!.pid}) is paused; continue it with \`kill -CONT ${serve!.pid}\``);
    await sleep(Math.max(0, 20_000 - (Date.now() - pausedAt)));
    expect(
      pids.filter((p) => !isAlive(p)),
      await watchdogLog(),
    ).toEqual([]);
    expect(await watchdogLog()).toContain(`the control plane (pid ${serve!.pid}) is paused (stopped, not dead); waiting`);
    process.kill(serve!.pid!, 'SIGCONT');

    await eventually(
      'the balancer serves the row again',
      async () => {
        const res = await fetch(`${balancer}/users/${user.id}`);
        return res.status === 200 && ((await res.json()) as { name: string }).name === 'Paula';
      },
      30_000,
    );
    await eventually('the watchdog sees the lease renewed', async () => (await watchdogLog()).includes('renews its lease again'), 10_000);
    expect(pids.filter((p) => !isAlive(p))).toEqual([]);
    const status = await scalelab('status', '--json');
    expect(status.code, status.stderr).toBe(0);
    const instances = (JSON.parse(status.stdout) as StatusJson).instances;
    expect(instances.map((i) => `${i.id}:${i.phase}`).sort()).toEqual(['api-1:ready', 'postgres:ready', 'redis:ready', 'worker-1:ready']);
  }, 120_000);

  it('a store killed under the control plane is reported stopped, not ready', async () => {
    const redisPid = (await state()).redis.pid!;
    process.kill(redisPid, 'SIGKILL');
    await eventually(
      'status says Redis stopped',
      async () => {
        const status = await scalelab('status', '--json');
        return (JSON.parse(status.stdout) as StatusJson).instances.find((i) => i.id === 'redis')?.phase === 'stopped';
      },
      20_000,
    );
    await eventually('state.json no longer records its pid', async () => (await state()).redis.pid === undefined, 10_000);
  }, 60_000);

  it('a killed watchdog is replaced within a lease tick, and down stops the new one too', async () => {
    const recorded = await state();
    process.kill(recorded.watchdogPid!, 'SIGKILL');
    await eventually('watchdog gone', async () => !isAlive(recorded.watchdogPid!));
    await eventually(
      'a new watchdog, recorded',
      async () => {
        const now = (await state()).watchdogPid;
        return now !== undefined && now !== recorded.watchdogPid && isAlive(now);
      },
      15_000,
    );
    const replaced = (await state()).watchdogPid!;
    const down = await scalelab('down');
    expect(down.code, down.stderr).toBe(0);
    const pids = [replaced, recorded.postgres.pid, ...recorded.replicas.map((r) => r.pid)].filter((p): p is number => p !== undefined);
    await eventually('every stack process stopped', async () => pids.every((p) => !isAlive(p)), 20_000);
  }, 60_000);
});
