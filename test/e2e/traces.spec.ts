import path from 'node:path';
import { expect, test } from '@playwright/test';
import { artifacts, serveDashboard, type Served, fullPageShot } from './serve.js';

let served: Served;

test.beforeAll(async () => {
  // The replicas send traces to this control plane's receiver only when the user has no collector of their own.
  delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  served = await serveDashboard('scalelab-e2e-traces-');
});

test.afterAll(async () => {
  await served?.stop();
});

test('a user slows the database, clicks the latency spike and finds the slow query in a trace’s waterfall', async ({ page }) => {
  test.setTimeout(240_000);
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(served.dashboard);
  const panel = page.getByRole('region', { name: 'Slow requests' });

  // Before any traffic the panel says why it is empty.
  await expect(panel.getByText(/No traces yet/)).toBeVisible();

  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect(page.getByTestId('stack-state')).toHaveText('running', { timeout: 90_000 });

  const traffic = page.getByRole('region', { name: 'Traffic' });
  await traffic.getByLabel('req/s', { exact: true }).fill('50');
  await traffic.getByRole('button', { name: 'Fire traffic' }).click();
  await expect(traffic.getByTestId('traffic-state')).toHaveText(/firing/, { timeout: 30_000 });
  // Recent traces arrive (the slowest of the last 5 minutes).
  await expect(panel.getByRole('button', { name: /ms/ }).first()).toBeVisible({ timeout: 30_000 });

  // 200 ms on every database call of every api replica.
  const chaos = page.getByRole('region', { name: 'Chaos' });
  await chaos.getByLabel('latency db ms').fill('200');
  await chaos.getByLabel('latency cache ms').fill('0');
  await chaos.getByRole('button', { name: 'Latency on all api' }).click();

  // The spike: p99 above 200 ms in the newest second.
  const latencyChart = page.getByRole('figure', { name: 'Latency chart' });
  const plot = latencyChart.getByRole('img');
  await expect(plot).toHaveAttribute('aria-label', /p99 (2\d\d|[3-9]\d\d|\d{4,})\.\d/, { timeout: 30_000 });
  await page.waitForTimeout(3000);
  // Click the newest point (the plot ends 10 px before the svg's right edge); its spans arrive within a few seconds and the list refreshes.
  const box = (await plot.boundingBox())!;
  await plot.click({ position: { x: box.width - 11, y: box.height / 2 } });
  await expect(panel.getByText(/picked on the latency chart/)).toBeVisible();

  // The second's traces, slowest first: open the slowest.
  const slowest = panel.getByRole('list', { name: 'Traces, slowest first' }).getByRole('button').first();
  await expect(slowest).toHaveAccessibleName(/\d{3,} ms|\d+\.\d\d s/, { timeout: 20_000 });
  await slowest.click();

  const waterfall = panel.getByRole('region', { name: /^Trace / });
  await expect(waterfall).toBeVisible();
  // A database span of at least 200 ms (the instrumented query or the injected latency's own span).
  const dbRows = waterfall.locator('[role="row"][data-span]').filter({ hasText: /pg|postgres|db /i });
  await expect(dbRows.first()).toBeVisible();
  const durations = await dbRows.locator('.span-time').allTextContents();
  const ms = durations.map((d) => (d.endsWith(' s') ? parseFloat(d) * 1000 : d.endsWith('µs') ? parseFloat(d) / 1000 : parseFloat(d)));
  expect(Math.max(...ms)).toBeGreaterThanOrEqual(200);

  await page
    .getByRole('button', { name: 'Clear all' })
    .click()
    .catch(() => undefined);
  await panel.scrollIntoViewIfNeeded();
  await page.mouse.move(0, 0);
  await page.waitForTimeout(500);
  await panel.screenshot({ path: path.join(artifacts, 'traces-panel.png') });
  await fullPageShot(page, path.join(artifacts, 'traces-full.png'));
});
