import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { copyFile, mkdir } from 'node:fs/promises';
import { expect, test, type Page } from '@playwright/test';
import { artifacts, root, serveDashboard, type Served, fullPageShot, lookAt } from './serve.js';

let served: Served;
let dashboard: string;

test.beforeAll(async () => {
  served = await serveDashboard('scalelab-e2e-');
  dashboard = served.dashboard;
});

test.afterAll(async () => {
  await served?.stop();
});

/** The engine's version per the docker CLI, or undefined when no engine answers (or no CLI). */
function dockerServerVersion(): string | undefined {
  try {
    return (
      execFileSync('docker', ['version', '--format', '{{.Server.Version}}'], {
        encoding: 'utf8',
        timeout: 10_000,
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim() || undefined
    );
  } catch {
    return undefined;
  }
}

/** The stat row and the three key charts, each wholly inside the 1280×800 viewport without scrolling. */
async function expectAboveTheFold(page: Page): Promise<void> {
  await page.evaluate(() => window.scrollTo(0, 0));
  const viewport = page.viewportSize()!;
  const parts = [
    page.getByRole('region', { name: 'Live figures' }),
    ...['Requests', 'Latency', 'Replicas'].map((name) => page.getByRole('figure', { name: `${name} chart` })),
  ];
  for (const part of parts) {
    const box = (await part.boundingBox())!;
    expect(box, 'a key part of the dashboard is rendered').not.toBeNull();
    expect(box.y, 'it starts on screen').toBeGreaterThanOrEqual(0);
    expect(box.y + box.height, `it ends above the fold (${viewport.height} px)`).toBeLessThanOrEqual(viewport.height);
    expect(box.x + box.width).toBeLessThanOrEqual(viewport.width);
  }
}

/** Visible text smaller than `min` px: each as "size px: text", for the assertion's message. */
async function smallText(page: Page, min: number): Promise<string[]> {
  return page.evaluate((floor) => {
    const small: string[] = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.textContent?.trim();
      const el = node.parentElement;
      if (!text || !el) continue;
      const style = getComputedStyle(el);
      if (style.visibility === 'hidden' || style.display === 'none' || el.getClientRects().length === 0) continue;
      if (el.closest('title, option, [hidden], [aria-hidden="true"]')) continue;
      const size = parseFloat(style.fontSize);
      if (size < floor) small.push(`${size} px: ${text.slice(0, 40)}`);
    }
    return small;
  }, min);
}

async function requestsLine(page: Page): Promise<string> {
  return (await page.getByRole('figure', { name: 'Requests chart' }).locator('path[data-series="served"]').getAttribute('d')) ?? '';
}

test('a user starts the stack, scales it, kills a replica, sees traffic and stops it', async ({ page }) => {
  await page.goto(dashboard);
  await expect(page.getByText('No stack is running')).toBeVisible();
  // The runtime picker says why a runtime is unavailable, and Start waits for a usable one.
  await page.getByLabel('Runtime').selectOption('kubernetes');
  await expect(page.getByTestId('probe-reason')).toContainText('kubernetes is unavailable');
  await expect(page.getByRole('button', { name: 'Start' })).toBeDisabled();
  // Docker's entry tells the truth: the engine's version when one answers (checked here with the
  // docker CLI, independently of ScaleLab's probe), else why not.
  await page.getByLabel('Runtime').selectOption('docker');
  const engine = dockerServerVersion();
  if (engine) {
    await expect(page.getByLabel('Runtime').locator('option[value="docker"]')).toContainText(`Docker Engine ${engine}`);
    await expect(page.getByRole('button', { name: 'Start' })).toBeEnabled();
  } else {
    await expect(page.getByTestId('probe-reason')).toContainText('docker is unavailable');
    await expect(page.getByRole('button', { name: 'Start' })).toBeDisabled();
  }
  await page.getByLabel('Runtime').selectOption('local');
  await expect(page.getByRole('button', { name: 'Start' })).toBeEnabled();

  // 1. Start from the UI, with progress.
  await page.getByRole('button', { name: 'Start' }).click();
  await expect(page.getByRole('button', { name: 'Starting…' })).toBeVisible();
  // 2. Two api tiles become ready.
  await expect(page.getByTestId('phase-api-1')).toHaveText('ready', { timeout: 90_000 });
  await expect(page.getByTestId('phase-api-2')).toHaveText('ready');
  await expect(page.getByTestId('stack-state')).toHaveText('running');
  const balancer = await page.locator('a.balancer').textContent();
  expect(balancer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

  // 3. Scale to 4 with the stepper: four tiles, all ready.
  const add = page.getByRole('button', { name: 'Add one api replica' });
  await add.click();
  await expect(page.getByTestId('count-api')).toHaveText('3');
  await expect(add).toBeEnabled();
  await add.click();
  await expect(page.getByTestId('count-api')).toHaveText('4');
  for (const id of ['api-1', 'api-2', 'api-3', 'api-4']) await expect(page.getByTestId(`phase-${id}`)).toHaveText('ready');
  await expect(page.locator('[data-testid^="tile-api-"]')).toHaveCount(4);

  // 4. Kill one from its tile: it restarts, with its restart count at 1.
  await page.getByTestId('tile-api-2').click();
  const drawer = page.getByRole('dialog', { name: 'api-2' });
  await expect(drawer).toBeVisible();
  await expect(drawer.getByLabel('api-2 log')).toContainText('listening on');
  await drawer.getByRole('button', { name: 'Kill' }).click();
  await expect(page.getByTestId('restarts-api-2')).toHaveText('1');
  await expect(page.getByTestId('phase-api-2')).toHaveText('ready');
  await expect(page.getByRole('region', { name: 'Events' }).getByText(/api-2 exited \(SIGKILL\)/)).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(drawer).toBeHidden();

  // 5. The requests/s chart moves while requests are sent through the balancer.
  const created = await fetch(`${balancer}/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'E2E', email: 'e2e@example.com' }),
  });
  expect(created.status).toBe(201);
  const { id } = (await created.json()) as { id: number };
  const before = await requestsLine(page);
  // Steady traffic until the screenshots are taken, so they show the stack under load.
  let sending = true;
  const traffic = (async () => {
    while (sending) await Promise.all(Array.from({ length: 10 }, () => fetch(`${balancer}/users/${id}`).then((r) => r.arrayBuffer())));
  })();
  await expect.poll(() => requestsLine(page)).not.toBe(before);
  await expect(page.locator('.balancer-node .node-detail')).not.toHaveText(/^0 req\/s/);

  // Screenshots of both themes at 1280×800, kept as test artifacts (the dark one is the README's).
  await page.waitForTimeout(4_000);
  await page.mouse.move(0, 0);
  await expect(page.getByTestId('stat-replicas')).toContainText('4/4');
  await expect(page.getByTestId('stat-requests').locator('.stat-value')).not.toHaveText(/^[0–]$/);
  await expectAboveTheFold(page);
  await page.screenshot({ path: path.join(artifacts, 'dashboard-dark.png') });
  await page.getByRole('button', { name: 'Switch to light theme' }).click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  await page.mouse.move(0, 0);
  await page.waitForTimeout(1_000);
  await expectAboveTheFold(page);
  await page.screenshot({ path: path.join(artifacts, 'dashboard-light.png') });
  // One crosshair across the charts: pointing at a second of the queue chart (below the fold, in view) marks it on the others.
  const queue = page.getByRole('figure', { name: 'Queue chart' });
  await lookAt(queue);
  const queueBox = (await queue.locator('svg').boundingBox())!;
  await page.mouse.move(queueBox.x + queueBox.width * 0.9, queueBox.y + queueBox.height / 2);
  for (const name of ['Requests', 'Latency', 'Replicas', 'Queue'])
    await expect(page.getByRole('figure', { name: `${name} chart` }).getByTestId('crosshair')).toHaveCount(1);
  await page.mouse.move(0, 0);
  await expect(page.getByTestId('crosshair')).toHaveCount(0);
  // Folding the control panels to their header lines: their forms go, their state and main action
  // stay, the page is much shorter; the folds survive a reload, and each opens again.
  const pageHeight = () => page.evaluate(() => document.documentElement.scrollHeight);
  const unfolded = await pageHeight();
  const controls = ['chaos', 'traffic', 'autoscaler', 'scenario', 'capacity'];
  for (const name of controls) await page.getByRole('button', { name: `Fold ${name}` }).click();
  await expect(page.getByRole('button', { name: 'Kill random api' })).toBeHidden();
  await expect(page.getByLabel('Profile', { exact: true })).toBeHidden();
  await expect(page.getByRole('button', { name: 'Fire traffic' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Find capacity' })).toBeVisible();
  const folded = await pageHeight();
  expect(unfolded - folded, `page ${unfolded} px unfolded, ${folded} px folded`).toBeGreaterThan(1_000);
  await fullPageShot(page, path.join(artifacts, 'dashboard-folded-full.png'));
  await page.reload();
  await expect(page.getByTestId('stack-state')).toHaveText('running');
  await expect(page.getByRole('button', { name: 'Open chaos' })).toHaveAttribute('aria-expanded', 'false');
  await expect(page.getByRole('button', { name: 'Kill random api' })).toBeHidden();
  for (const name of controls) await page.getByRole('button', { name: `Open ${name}` }).click();
  await expect(page.getByRole('button', { name: 'Kill random api' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Fold traffic' })).toHaveAttribute('aria-expanded', 'true');
  await page.mouse.move(0, 0);
  await page.evaluate(() => window.scrollTo(0, 0));
  // Projector mode: the same screen, readable from the back of a room (no text under 18 px).
  await page.getByRole('button', { name: 'Projector' }).click();
  await expect(page.locator('html')).toHaveClass(/projector/);
  await page.waitForTimeout(1_000);
  await expectAboveTheFold(page);
  expect(await smallText(page, 18)).toEqual([]);
  await page.screenshot({ path: path.join(artifacts, 'dashboard-projector-light.png') });
  await page.getByRole('button', { name: 'Switch to dark theme' }).click();
  await page.mouse.move(0, 0);
  await page.waitForTimeout(500);
  await page.screenshot({ path: path.join(artifacts, 'dashboard-projector.png') });
  await fullPageShot(page, path.join(artifacts, 'dashboard-projector-full.png'));
  await page.getByRole('button', { name: 'Projector' }).click();
  sending = false;
  await traffic;
  // The README's picture is refreshed only when asked (npm run docs:images): a test run never
  // rewrites a tracked file.
  if (process.env.SCALELAB_REFRESH_DOCS === '1') {
    await mkdir(path.join(root, 'docs'), { recursive: true });
    await copyFile(path.join(artifacts, 'dashboard-dark.png'), path.join(root, 'docs', 'dashboard.png'));
  }

  // 6. Stop the stack.
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(page.getByTestId('stack-state')).toHaveText('stopped', { timeout: 60_000 });
  await expect(page.getByText('No stack is running')).toBeVisible();
});

test('the dashboard refuses to load without the token', async ({ page }) => {
  const response = await page.goto(dashboard.replace(/\?token=.*/, ''));
  expect(response?.status()).toBe(401);
});
