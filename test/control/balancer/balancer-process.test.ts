import { execFileSync } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlFile } from '../../../electron/control/control-file.js';
import { isAlive } from '../../../electron/control/runtimes/local/adopted-process.js';
import { isHaproxyRecord } from '../../../electron/control/runtimes/local/balancer-launcher.js';
import { isOurs } from '../../../electron/control/runtimes/local/leftovers.js';
import { freePort } from '../../../electron/control/runtimes/local/ports.js';
import type { LocalState } from '../../../electron/control/runtimes/local/state.js';
import { eventually } from '../../backend/support/api.js';
import { makeTempHome, removeTempHome } from '../../support/temp-home.js';
import { runScalelab } from '../support/scalelab-cli.js';
import { steadyTraffic } from '../support/steady-traffic.js';

/**
 * The balancer as its own process (issue 19 item 1): requests keep flowing while the control plane
 * is paused or restarts, and a new control plane re-attaches to the same balancer process. The
 * stack runs the default engine: HAProxy where one is installed, else the Node process.
 */
// A control plane restarting on a loaded 2-core machine can take longer than the watchdog's default
// 15 s: the window is widened so the restart test measures re-attaching, not the watchdog's patience.
process.env.SCALELAB_WATCHDOG_MS = '90000';
let home: string;
let port: number;
const scalelab = (...args: string[]) => runScalelab(home, args);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const controlFile = async () => JSON.parse(await readFile(path.join(home, 'control.json'), 'utf8')) as ControlFile;
const state = async () => JSON.parse(await readFile(path.join(home, 'stacks', 'balproc', 'state.json'), 'utf8')) as LocalState;

/** `scalelab_balancer_requests_total` summed over status classes, from the control plane's /metrics. */
async function balancerTotal(): Promise<number> {
  const control = await controlFile();
  const text = await (await fetch(`${control.url}/metrics`, { headers: { authorization: `Bearer ${control.token}` } })).text();
  return [...text.matchAll(/^scalelab_balancer_requests_total\{[^}]*\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
}

beforeAll(async () => {
  home = await makeTempHome('scalelab-balproc-');
  port = await freePort();
  const up = await scalelab('up', '--name', 'balproc', '--api', '2', '--workers', '0', '--port', String(port));
  expect(up.code, up.stderr).toBe(0);
}, 180_000);

afterAll(async () => {
  const control = await controlFile().catch(() => undefined);
  if (control) process.kill(control.pid, 'SIGCONT');
  await scalelab('down', '--purge', '--name', 'balproc');
  await removeTempHome(home);
}, 60_000);

describe('the balancer process', () => {
  it('runs apart from the control plane, its secret never on a command line, its state file 0600', async () => {
    const recorded = await state();
    const control = await controlFile();
    const balancer = recorded.balancer!;
    const haproxy = isHaproxyRecord(balancer);
    console.log(`balancer engine: ${haproxy ? 'HAProxy' : 'Node (no usable haproxy here)'}`);
    expect(balancer.port).toBe(port);
    expect(balancer.pid).not.toBe(control.pid);
    expect(await isOurs(haproxy ? 'haproxy' : 'balancer', balancer.pid)).toBe(true);
    expect(execFileSync('ps', ['-eo', 'args']).toString()).not.toContain(haproxy ? balancer.secret : balancer.token);
    expect((await stat(path.join(home, 'stacks', 'balproc', 'state.json'))).mode & 0o077).toBe(0);
  });

  it('keeps serving while the control plane is stopped with SIGSTOP, and nothing is stopped after SIGCONT', async () => {
    const control = await controlFile();
    const before = await state();
    const traffic = steadyTraffic(`http://127.0.0.1:${port}`, 4);
    await sleep(500);
    process.kill(control.pid, 'SIGSTOP');
    const okBefore = traffic.ok();
    await sleep(4_000);
    const servedWhilePaused = traffic.ok() - okBefore;
    process.kill(control.pid, 'SIGCONT');
    await sleep(1_000);
    await traffic.stop();
    expect(traffic.failures).toEqual([]);
    expect(servedWhilePaused).toBeGreaterThan(100);
    const after = await state();
    expect(after.balancer?.pid).toBe(before.balancer?.pid);
    const pids = [before.balancer!.pid, before.postgres.pid!, before.redis.pid!, ...before.replicas.map((r) => r.pid!)];
    expect(pids.every(isAlive)).toBe(true);
  });

  it('a restarted control plane re-attaches to the same balancer process: same port, no failed request, stats keep counting', async () => {
    const old = await controlFile();
    const before = await state();
    const traffic = steadyTraffic(`http://127.0.0.1:${port}`, 4);
    await sleep(1_500);
    const totalBefore = await balancerTotal();
    expect(totalBefore).toBeGreaterThan(0);
    process.kill(old.pid, 'SIGKILL');
    await eventually('the old control plane is gone', async () => !isAlive(old.pid));
    const okWhileGone = traffic.ok();
    await sleep(1_000);
    expect(traffic.ok() - okWhileGone).toBeGreaterThan(20);
    const status = await scalelab('status', '--json');
    expect(status.code, status.stderr).toBe(0);
    const now = await controlFile();
    expect(now.pid).not.toBe(old.pid);
    const after = await state();
    expect(after.balancer?.pid).toBe(before.balancer?.pid);
    expect(after.balancer?.port).toBe(port);
    // The same process's totals: they went on counting across the restart, never back to zero.
    await eventually('the new control plane reads the balancer', async () => (await balancerTotal()) > totalBefore, 15_000);
    await traffic.stop();
    expect(traffic.failures).toEqual([]);
  });
});
