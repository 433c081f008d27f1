import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../electron/control/runtimes/local/ports.js';
import { postgresDataDir } from '../../electron/control/runtimes/local/postgres.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
let home: string;

function cli(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'electron/cli.ts', ...args], { cwd: root, env: { ...process.env, SCALELAB_HOME: home } });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'scalelab-cli-'));
});
afterAll(async () => {
  await rm(postgresDataDir(path.join(home, 'stacks', 'clitest', 'postgres')), { recursive: true, force: true });
  await rm(home, { recursive: true, force: true });
});

describe('scalelab up', () => {
  it('starts the api and worker, prints the URL, serves users, and stops on Ctrl-C keeping the data', async () => {
    const port = await freePort();
    const up = cli(['up', '--name', 'clitest', '--port', String(port)]);
    const deadline = Date.now() + 60_000;
    while (!up.output().includes('Press Ctrl-C') && Date.now() < deadline) {
      if (up.child.exitCode !== null) throw new Error(`scalelab up exited:\n${up.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(up.output()).toContain(`API     http://127.0.0.1:${port}`);
    expect(up.output()).toContain('starting PostgreSQL');

    const created = await fetch(`http://127.0.0.1:${port}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Cli', email: 'cli@example.com' }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: number };
    expect((await fetch(`http://127.0.0.1:${port}/users/${id}`)).status).toBe(200);

    // While it runs, purging is refused.
    const purgeWhileUp = cli(['down', '--purge', '--name', 'clitest']);
    expect(await purgeWhileUp.exited).toBe(2);
    expect(purgeWhileUp.output()).toContain('is running');

    up.child.kill('SIGINT');
    expect(await up.exited).toBe(0);
    expect(up.output()).toContain('stopped.');
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    expect(existsSync(path.join(home, 'stacks', 'clitest', 'secrets.json'))).toBe(true);

    const purge = cli(['down', '--purge', '--name', 'clitest']);
    expect(await purge.exited).toBe(0);
    expect(existsSync(path.join(home, 'stacks', 'clitest'))).toBe(false);
  });

  it('stops what a killed run left behind before starting again', async () => {
    const waitUp = async (run: ReturnType<typeof cli>) => {
      const deadline = Date.now() + 60_000;
      while (!run.output().includes('Press Ctrl-C') && Date.now() < deadline) {
        if (run.child.exitCode !== null) throw new Error(`scalelab up exited:\n${run.output()}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    };
    const first = cli(['up', '--name', 'clitest', '--port', String(await freePort())]);
    await waitUp(first);
    first.child.kill('SIGKILL'); // its PostgreSQL, Redis, api and worker live on as orphans
    await first.exited;
    const second = cli(['up', '--name', 'clitest', '--port', String(await freePort())]);
    await waitUp(second);
    expect(second.output()).toContain('stopped processes a previous run left behind: api, worker, redis, postgres');
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
  });

  it('rejects a bad --name with a message that says what is allowed', async () => {
    const bad = cli(['up', '--name', 'Bad Name!']);
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toContain('--name must be lowercase letters, digits and dashes');
  });
});
