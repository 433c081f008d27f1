import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';
import { postgresDataDir } from '../../electron/control/runtimes/local/postgres.js';
import { removeTempHome } from '../support/temp-home.js';
import { artifacts, root } from './serve.js';

const run = promisify(execFile);
let home: string;

/** The CLI as a user runs it, for this test's SCALELAB_HOME. */
async function scalelab(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, ['dist/electron/cli.js', ...args], {
    cwd: root,
    env: { ...process.env, SCALELAB_HOME: home },
    timeout: 150_000,
  });
  return stdout;
}

test.beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'scalelab-e2e-reconnect-'));
});
test.afterAll(async () => {
  await scalelab('down', '--purge').catch(() => undefined);
  await rm(postgresDataDir(path.join(home, 'stacks', 'default', 'postgres')), { recursive: true, force: true });
  await removeTempHome(home);
});

test('an open tab survives `scalelab down` and `up`: it says why it waits, then shows the new stack without a reload', async ({ page }) => {
  await scalelab('up', '--api', '1', '--workers', '0');
  const control = JSON.parse(await readFile(path.join(home, 'control.json'), 'utf8')) as { url: string; token: string; pid: number };
  // The port and token a new control plane for this home will reuse, kept owner-only.
  expect((await stat(path.join(home, 'dashboard.json'))).mode & 0o777).toBe(0o600);
  await page.goto(`${control.url}/?token=${control.token}`);
  const opened = page.url();
  await expect(page.getByTestId('stack-state')).toHaveText('running', { timeout: 60_000 });
  await expect(page.locator('[data-testid^="tile-api-"]')).toHaveCount(1);

  await scalelab('down');
  await expect(page.getByRole('alert').filter({ hasText: 'The control plane stopped' })).toBeVisible({ timeout: 20_000 });
  await expect(page.getByTestId('offline-reason')).toContainText('run `scalelab up`');
  // The last state known is stale once disconnected: no green "running".
  await expect(page.getByTestId('stack-state')).toHaveText('disconnected');
  for (const name of ['Stop', 'Start']) {
    const button = page.getByRole('button', { name, exact: true });
    if (await button.count()) await expect(button).toBeDisabled();
  }
  await page.screenshot({ path: path.join(artifacts, 'reconnect-waiting.png') });

  await scalelab('up', '--api', '2', '--workers', '0');
  const next = JSON.parse(await readFile(path.join(home, 'control.json'), 'utf8')) as { url: string; token: string; pid: number };
  expect(next.pid).not.toBe(control.pid);
  expect(next.url).toBe(control.url);
  // The same tab, never reloaded by hand: connected again, the new stack's two replicas shown.
  await expect(page.getByRole('alert').filter({ hasText: 'The control plane stopped' })).toBeHidden({ timeout: 20_000 });
  await expect(page.getByTestId('stack-state')).toHaveText('running');
  await expect(page.getByTestId('phase-api-2')).toHaveText('ready', { timeout: 30_000 });
  await expect(page.getByRole('region', { name: 'Live figures' }).getByTestId('stat-replicas')).toContainText('2/2');
  await expect(page.getByRole('button', { name: 'Stop', exact: true })).toBeEnabled();
  expect(page.url()).toBe(opened);
});
