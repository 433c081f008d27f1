import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';
import { findCgroupBase } from '../../electron/control/runtimes/local/cgroup-cpu.js';
import { artifacts, root, serveDashboard, type Served, fullPageShot, lookAt } from './serve.js';

const run = promisify(execFile);
const UNUSABLE_ROOT = '/nonexistent/scalelab-e2e-cgroup';

test('a user gives each api replica 100m, sees it throttled under a cpu fault, and raises it live', async ({ page }) => {
  const probe = await findCgroupBase();
  test.skip(!probe.ok, `cpu limits are not enforceable here (${probe.ok ? '' : probe.why})`);
  const served: Served = await serveDashboard('scalelab-e2e-cpu-');
  try {
    await page.goto(served.dashboard);
    const api = page.getByLabel('api cpu per replica');
    // Checked as typed, by the contract's own parser: Start says which box and why.
    await api.fill('250x');
    await expect(page.getByRole('button', { name: 'Start' })).toBeDisabled();
    await expect(page.getByRole('button', { name: 'Start' })).toHaveAttribute(
      'title',
      'api cpu "250x" is not a cpu quantity: write millicores such as "250m" or cores such as "0.5" or "1"',
    );
    await api.fill('100m');
    await page.getByRole('button', { name: 'Start' }).click();
    await expect(page.getByTestId('phase-api-1')).toHaveText('ready', { timeout: 90_000 });
    await expect(page.getByTestId('tile-api-1')).toContainText('/ 100m');
    await expect(page.getByTestId('cpu-not-enforced')).toHaveCount(0);

    // A cpu fault through the CLI, as a user would: the tile and the chart show the throttling.
    await run(process.execPath, ['dist/electron/cli.js', 'chaos', 'cpu', 'api-1', '--threads', '2', '--seconds', '30'], {
      cwd: root,
      env: { ...process.env, SCALELAB_HOME: served.home },
      timeout: 60_000,
    });
    await expect.poll(async () => Number(await page.getByTestId('throttled-api-1').textContent()), { timeout: 20_000 }).toBeGreaterThan(50);
    await lookAt(page.getByRole('region', { name: 'More metrics' }));
    await expect(page.getByRole('figure', { name: 'CPU throttling per replica chart' })).toBeVisible();
    await page.mouse.move(0, 0);
    await fullPageShot(page, path.join(artifacts, 'cpu-limits.png'));

    // Raised live: Apply sends it to the running stack, whose replicas keep running.
    await api.fill('0.5');
    // The stack bar wraps its settings for the Apply button rather than hide it under its own buttons.
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(artifacts, 'cpu-limits-apply.png'), clip: { x: 0, y: 0, width: 1280, height: 160 } });
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect(page.getByTestId('tile-api-1')).toContainText('/ 500m', { timeout: 30_000 });
    await expect(page.getByTestId('restarts-api-1')).toHaveText('0');

    await page.getByRole('button', { name: 'Stop' }).click();
    await expect(page.getByTestId('stack-state')).toHaveText('stopped', { timeout: 60_000 });
    if (probe.ok) expect(existsSync(`${probe.base.base}/scalelab/default`)).toBe(false);
  } finally {
    await served.stop();
  }
});

test('where the limit cannot be enforced, the stack bar says so and why', async ({ page }) => {
  const served = await serveDashboard('scalelab-e2e-cpu-off-', { SCALELAB_CGROUP_ROOT: UNUSABLE_ROOT });
  try {
    await page.goto(served.dashboard);
    await page.getByLabel('api cpu per replica').fill('100m');
    await page.getByRole('button', { name: 'Start' }).click();
    await expect(page.getByTestId('phase-api-1')).toHaveText('ready', { timeout: 90_000 });
    await expect(page.getByTestId('cpu-not-enforced')).toHaveText(
      `cpu limit not enforced here (SCALELAB_CGROUP_ROOT=${UNUSABLE_ROOT} is not a cgroup cpu directory)`,
    );
    await page.screenshot({ path: path.join(artifacts, 'cpu-not-enforced.png') });
    const { stdout } = await run(process.execPath, ['dist/electron/cli.js', 'status'], {
      cwd: root,
      env: { ...process.env, SCALELAB_HOME: served.home },
      timeout: 60_000,
    });
    expect(stdout).toContain(
      `CPU        api 100m per replica: cpu limit not enforced here (SCALELAB_CGROUP_ROOT=${UNUSABLE_ROOT} is not a cgroup cpu directory)`,
    );
    await page.getByRole('button', { name: 'Stop' }).click();
    await expect(page.getByTestId('stack-state')).toHaveText('stopped', { timeout: 60_000 });
  } finally {
    await served.stop();
  }
});
