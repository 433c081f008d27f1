import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { isAlive } from '../../../../electron/control/runtimes/local/adopted-process.js';
import { findCgroupBase } from '../../../../electron/control/runtimes/local/cgroup-cpu.js';
import { freePort } from '../../../../electron/control/runtimes/local/ports.js';
import { postgresDataDir } from '../../../../electron/control/runtimes/local/postgres.js';
import type { LocalState } from '../../../../electron/control/runtimes/local/state.js';
import { eventually } from '../../../backend/support/api.js';
import { removeTempHome } from '../../../support/temp-home.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../../../', import.meta.url));
let home: string;
// A short lease, so the test need not wait the default 15 s.
const env = () => ({ ...process.env, SCALELAB_HOME: home, SCALELAB_WATCHDOG_MS: '3000' });

beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'scalelab-watchdog-'));
});
afterAll(async () => {
  await rm(postgresDataDir(path.join(home, 'stacks', 'orphan', 'postgres')), { recursive: true, force: true });
  await removeTempHome(home);
});

describe('watchdog', () => {
  it('stops a stack whose control plane was killed and that nobody adopted', async () => {
    const serve = spawn(process.execPath, ['electron/scalelab.mjs', 'serve', '--port', '0'], { cwd: root, env: env(), stdio: 'ignore' });
    await eventually(
      'control.json written',
      async () => (await readFile(path.join(home, 'control.json'), 'utf8')).includes(String(serve.pid)),
      30_000,
    );
    const port = await freePort();
    await run(
      process.execPath,
      ['electron/scalelab.mjs', 'up', '--name', 'orphan', '--api', '1', '--workers', '1', '--port', String(port), '--api-cpu', '500m'],
      { cwd: root, env: env(), timeout: 120_000 },
    );
    const state = JSON.parse(await readFile(path.join(home, 'stacks', 'orphan', 'state.json'), 'utf8')) as LocalState;
    const pids = [state.postgres.pid, state.redis.pid, state.watchdogPid, state.balancer?.pid, ...state.replicas.map((r) => r.pid)].filter(
      (p): p is number => p !== undefined,
    );
    expect(pids).toHaveLength(6);
    expect(pids.every(isAlive)).toBe(true);
    // The api replica's cpu-limit cgroup, where this machine has one, goes with the stack.
    const cgroups = await findCgroupBase();
    const group = cgroups.ok ? path.join(cgroups.base.base, 'scalelab', 'orphan') : undefined;
    if (group) expect(existsSync(path.join(group, 'api-1'))).toBe(true);

    serve.kill('SIGKILL');
    // Nothing adopts the stack: the watchdog notices the stale lease and stops every process.
    await eventually('every stack process stopped by the watchdog', async () => pids.every((p) => !isAlive(p)), 30_000);
    const log = await readFile(path.join(home, 'stacks', 'orphan', 'logs', 'watchdog.log'), 'utf8');
    expect(log, log).toMatch(/control plane gone for \d+ s; stopped api, worker, (haproxy|balancer), redis, postgres/);
    if (group) await eventually('the cgroups removed by the watchdog', async () => !existsSync(group), 10_000);
  });
});
