import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlFile } from '../../electron/control/control-file.js';
import { ControlClient, startDetached } from '../../electron/control/client.js';
import { isAlive } from '../../electron/control/runtimes/local/adopted-process.js';
import { freePort } from '../../electron/control/runtimes/local/ports.js';
import { postgresDataDir } from '../../electron/control/runtimes/local/postgres.js';
import type { LocalState } from '../../electron/control/runtimes/local/state.js';
import { eventually } from '../backend/support/api.js';
import { runScalelab } from './support/scalelab-cli.js';
import { removeTempHome } from '../support/temp-home.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
let home: string;

interface StatusJson {
  runtime: string;
  instances: { id: string; service: string; phase: string; restarts: number; pid?: number }[];
  endpoints: { balancer: string; dashboard: string } | null;
  sample: { traffic: { rps: number } } | null;
}

/** Runs `scalelab …` through the package's bin, as `npx scalelab` does. */
const scalelab = (...args: string[]) => runScalelab(home, args);

async function controlFile(): Promise<ControlFile> {
  return JSON.parse(await readFile(path.join(home, 'control.json'), 'utf8')) as ControlFile;
}

async function state(): Promise<LocalState> {
  return JSON.parse(await readFile(path.join(home, 'stacks', 'clitest', 'state.json'), 'utf8')) as LocalState;
}

beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'scalelab-cli-'));
});
afterAll(async () => {
  await scalelab('down', '--purge', '--name', 'clitest');
  await rm(postgresDataDir(path.join(home, 'stacks', 'clitest', 'postgres')), { recursive: true, force: true });
  await removeTempHome(home);
});

describe('scalelab CLI', () => {
  it('rejects bad arguments with exit code 2 and says what to do', async () => {
    const bad = await scalelab('up', '--api', 'lots');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--api must be a whole number from 1 to 20');
    const unknown = await scalelab('frobnicate');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
  });

  it('up starts a control plane in the background and returns once every replica is ready', async () => {
    const port = await freePort();
    const up = await scalelab('up', '--name', 'clitest', '--api', '2', '--port', String(port), '--json');
    expect(up.code, up.stderr).toBe(0);
    const status = JSON.parse(up.stdout) as StatusJson;
    expect(status.runtime).toBe('local');
    expect(status.instances.filter((i) => i.service === 'api' && i.phase === 'ready')).toHaveLength(2);
    expect(status.endpoints?.balancer).toBe(`http://127.0.0.1:${port}`);
    expect(status.endpoints?.dashboard).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=/);
    expect(up.stderr).toContain('api-2 is ready');
    // control.json: mode 0600, and its token opens the dashboard.
    expect((await stat(path.join(home, 'control.json'))).mode & 0o777).toBe(0o600);
    expect((await fetch(status.endpoints!.dashboard)).status).toBe(200);
    expect(
      (
        await fetch(`http://127.0.0.1:${port}/users`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'Cli', email: 'cli@example.com' }),
        })
      ).status,
    ).toBe(201);
  });

  it('status prints the instance table and the latest sample', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const status = await scalelab('status');
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/ID\s+SERVICE\s+PHASE\s+RESTARTS\s+CPU %\s+RSS MiB\s+RPS/);
    expect(status.stdout).toMatch(/api-1\s+api\s+ready/);
    expect(status.stdout).toMatch(/Database up/);
  });

  it('the control plane re-exports the telemetry in Prometheus format, behind the token', async () => {
    const control = await controlFile();
    expect((await fetch(`${control.url}/metrics`)).status).toBe(401);
    const metrics = await (await fetch(`${control.url}/metrics`, { headers: { authorization: `Bearer ${control.token}` } })).text();
    expect(metrics).toMatch(/^scalelab_instance_ready\{[^}]*instance="api-1"[^}]*\} 1$/m);
    expect(metrics).toMatch(/^scalelab_db_up\{[^}]*stack="clitest"[^}]*\} 1$/m);
    expect(metrics, metrics).toMatch(/^scalelab_balancer_requests_total\{[^}]*\} [1-9]/m);
  });

  it('logs -f follows new lines as the instance writes them', async () => {
    const { spawn } = await import('node:child_process');
    const follow = spawn(process.execPath, ['electron/scalelab.mjs', 'logs', 'api-1', '-f', '--lines', '1'], {
      cwd: root,
      env: { ...process.env, SCALELAB_HOME: home },
    });
    let output = '';
    follow.stdout.on('data', (d: Buffer) => (output += d.toString()));
    await eventually('the tail printed', async () => output.includes('"name":"api"'), 20_000);
    const before = output.length;
    // Make api-1 write: kill it (as chaos does); its next incarnation logs its start-up.
    const client = await ControlClient.connect(await controlFile());
    await client.call('instance:signal', { id: 'api-1', how: 'kill' });
    client.close();
    await eventually('a new line followed', async () => output.slice(before).includes('listening on'), 20_000);
    follow.kill('SIGINT');
  });

  it('scale api 4 waits until four are ready', async () => {
    const scaled = await scalelab('scale', 'api', '4', '--json');
    expect(scaled.code, scaled.stderr).toBe(0);
    const status = JSON.parse(scaled.stdout) as StatusJson;
    expect(status.instances.filter((i) => i.service === 'api' && i.phase === 'ready')).toHaveLength(4);
  });

  it('autoscale turns the emulated HPA on, explains its decisions in status, and turns it off', async () => {
    const on = await scalelab('autoscale', 'api', '--min', '4', '--max', '6', '--cpu', '60', '--preset', 'demo');
    expect(on.code, on.stderr).toBe(0);
    expect(on.stdout).toContain('api: on (emulated HPA, demo preset)');
    expect(on.stdout).toContain('4–6 · targets cpu 60 %');
    // configure makes a first decision at once; status explains it.
    await eventually(
      'a decision in status',
      async () => {
        const status = await scalelab('autoscale', 'status');
        return /\d\d:\d\d:\d\d {2}4 → \d+ {2}cpu /.test(status.stdout);
      },
      10_000,
    );
    const json = JSON.parse((await scalelab('autoscale', 'status', '--json')).stdout) as {
      mode: string;
      api: { config: { maxReplicas: number }; decisions: unknown[] };
    };
    expect(json.mode).toBe('emulated');
    expect(json.api.config.maxReplicas).toBe(6);
    expect(json.api.decisions.length).toBeGreaterThan(0);
    const bad = await scalelab('autoscale', 'api', '--min', '7', '--max', '3');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('minReplicas (7) is above maxReplicas (3)');
    const usage = await scalelab('autoscale', 'everything');
    expect(usage.code).toBe(2);
    const off = await scalelab('autoscale', 'off');
    expect(off.code).toBe(0);
    expect(off.stdout).toContain('api: off');
  });

  it('chaos injects a failure, shows it in force, clears it; verify reads the writes back', async () => {
    const killed = await scalelab('chaos', 'kill', 'random-worker');
    expect(killed.code, killed.stderr).toBe(0);
    expect(killed.stdout).toContain('kill worker-1');
    const latency = await scalelab('chaos', 'latency', 'api-1', '--db', '20ms');
    expect(latency.code, latency.stderr).toBe(0);
    expect(latency.stdout).toMatch(/latency\s+api-1\s+db \+20 ms/);
    const cleared = await scalelab('chaos', 'clear');
    expect(cleared.stdout).toContain('No fault in force.');
    const usage = await scalelab('chaos', 'errors', 'all', '--rate', '7');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--rate between 0 and 1');
    const verify = await scalelab('verify', '--json');
    expect(verify.code, verify.stderr).toBe(0);
    expect(JSON.parse(verify.stdout)).toEqual({ acknowledged: 0, verified: 0, lost: 0, duplicated: 0, lostIds: [] });
  });

  it('logs prints an instance output', async () => {
    const logs = await scalelab('logs', 'api-1', '--lines', '5');
    expect(logs.code).toBe(0);
    expect(logs.stdout).toContain('"name":"api"');
    const missing = await scalelab('logs', 'api-99');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no instance "api-99"');
  });

  it('a new control plane adopts the stack after the old one is killed with SIGKILL', async () => {
    const old = await controlFile();
    const before = await state();
    process.kill(old.pid, 'SIGKILL');
    await eventually('old control plane gone', async () => !isAlive(old.pid));
    const status = await scalelab('status', '--json');
    expect(status.code, status.stderr).toBe(0);
    const adopted = JSON.parse(status.stdout) as StatusJson;
    const now = await controlFile();
    expect(now.pid).not.toBe(old.pid);
    // Same processes, now supervised by the new control plane.
    const apiPids = (s: { replicas: { service: string; pid?: number }[] }) =>
      s.replicas
        .filter((r) => r.service === 'api')
        .map((r) => r.pid)
        .sort();
    expect(
      adopted.instances
        .filter((i) => i.service === 'api')
        .map((i) => i.pid)
        .sort(),
    ).toEqual(apiPids(before));
    expect(adopted.instances.find((i) => i.id === 'postgres')?.pid).toBe(before.postgres.pid);
    expect(adopted.endpoints?.balancer).toBe(`http://127.0.0.1:${before.balancerPort}`);
    await eventually('balancer serves again', async () => (await fetch(`http://127.0.0.1:${before.balancerPort}/users/1`)).status === 200);
  });

  it('the successor a crashed background control plane starts adopts the stack by itself while the balancer keeps serving', async () => {
    const old = await controlFile();
    const before = await state();
    const balancer = `http://127.0.0.1:${before.balancerPort}/users/1`;
    let failures = 0;
    let served = 0;
    let polling = true;
    const poll = (async () => {
      while (polling) {
        const ok = await fetch(balancer, { signal: AbortSignal.timeout(5_000) }).then(
          (r) => r.status === 200,
          () => false,
        );
        if (ok) served++;
        else failures++;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    // What the crash guard's restart does (crash-guard.ts, cli.ts restartAfterCrash): start the
    // successor naming the process it replaces, then the crashing process exits.
    const previous = { replaces: process.env.SCALELAB_REPLACES_PID, home: process.env.SCALELAB_HOME };
    process.env.SCALELAB_REPLACES_PID = String(old.pid);
    startDetached(home, path.join(home, 'control.log'));
    if (previous.replaces === undefined) delete process.env.SCALELAB_REPLACES_PID;
    else process.env.SCALELAB_REPLACES_PID = previous.replaces;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    process.kill(old.pid, 'SIGKILL');
    // No `scalelab` command from here on: the successor takes over by itself.
    await eventually('the successor wrote control.json', async () => (await controlFile().catch(() => old)).pid !== old.pid, 60_000);
    const now = await controlFile();
    const client = await ControlClient.connect(now);
    try {
      await eventually(
        'the successor supervises the stack',
        async () => {
          const status = await client.call('stack:status', {});
          return (
            status.state === 'running' &&
            status.instances.filter((i) => i.service === 'api' && i.phase === 'ready').length ===
              before.replicas.filter((r) => r.service === 'api').length
          );
        },
        30_000,
      );
    } finally {
      client.close();
    }
    polling = false;
    await poll;
    expect(served).toBeGreaterThan(10);
    expect(failures).toBe(0);
    expect((await state()).watchdogPid).toBe(before.watchdogPid);
  });

  it('down leaves no ScaleLab process behind', async () => {
    const control = await controlFile();
    const recorded = await state();
    const pids = [
      control.pid,
      recorded.postgres.pid,
      recorded.redis.pid,
      recorded.watchdogPid,
      ...recorded.replicas.map((r) => r.pid),
    ].filter((p): p is number => p !== undefined);
    expect(pids.length).toBeGreaterThanOrEqual(8);
    const down = await scalelab('down');
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).toContain('data is kept');
    await eventually('every ScaleLab process gone', async () => pids.every((p) => !isAlive(p)), 15_000);
  });
});
