import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { artifacts, serveDashboard, type Served, lookAt } from './serve.js';

let served: Served;
let dashboard: string;

test.beforeAll(async () => {
  served = await serveDashboard('scalelab-e2e-traffic-');
  dashboard = served.dashboard;
});

test.afterAll(async () => {
  await served?.stop();
});

function trafficPanel(page: Page) {
  return page.getByRole('region', { name: 'Traffic' });
}

test('a user shapes a ramp, fires it, steers the rate live, and reads the summary after Stop', async ({ page }) => {
  await page.goto(dashboard);
  const panel = trafficPanel(page);
  const fire = panel.getByRole('button', { name: 'Fire traffic' });

  // Before a stack runs, Fire waits and says why.
  await expect(fire).toBeDisabled();
  await expect(panel.getByRole('status')).toContainText('Start the stack first');

  // The profile's shape shows before anything is sent.
  await panel.getByLabel('Profile', { exact: true }).selectOption('ramp');
  await panel.getByLabel('from rps', { exact: true }).fill('20');
  await panel.getByLabel('to rps', { exact: true }).fill('150');
  await panel.getByLabel('over s', { exact: true }).fill('10');
  await panel.getByLabel('duration s', { exact: true }).fill('120');
  await expect(panel.getByRole('img', { name: /Rate preview: ramp, up to 150 requests\/s over 2 min/ })).toBeVisible();
  // A bad value is marked and keeps Fire disabled, naming the field.
  await panel.getByLabel('over s', { exact: true }).fill('0');
  await expect(panel.getByLabel('over s', { exact: true })).toHaveAttribute('aria-invalid', 'true');
  await panel.getByLabel('over s', { exact: true }).fill('10');
  await expect(panel.getByLabel('over s', { exact: true })).toHaveAttribute('aria-invalid', 'false');

  // Start the stack from the bar.
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect(page.getByTestId('stack-state')).toHaveText('running', { timeout: 90_000 });
  await expect(fire).toBeEnabled();

  // Fire: the panel shows the run and its live figures; the Requests chart draws offered and achieved.
  await fire.click();
  await expect(panel.getByTestId('traffic-state')).toHaveText(/firing · ramp/, { timeout: 60_000 });
  await expect(panel.getByTestId('traffic-live-achieved')).toHaveText(/^[1-9][\d,.]*\/s$/, { timeout: 20_000 });
  // Whose figures these are, and the generator's own cpu and lag (a slow ramp: it keeps up, so no warning).
  await expect(panel.getByTestId('traffic-generator')).toHaveText(
    /^client-observed · generator: \d+\.\d\d cpu · lag p99 [\d.]+ ms · 1 thread$/,
  );
  await expect(panel.getByTestId('traffic-generator-limit')).toHaveCount(0);
  await expect(page.getByRole('figure', { name: 'Requests chart' })).toContainText('server-side');
  const requests = page.getByRole('figure', { name: 'Requests chart' });
  await expect(requests.locator('path[data-series="achieved"]')).toHaveAttribute('d', /^M.+L/);
  await expect(requests.locator('path[data-series="offered"]')).toHaveAttribute('d', /^M.+L/);
  // Profile and duration are fixed for the run.
  await expect(panel.getByLabel('Profile', { exact: true })).toBeDisabled();

  // Steer it: the rate box during a run changes the generator's target (the run turns constant).
  await panel.getByLabel('req/s', { exact: true }).fill('60');
  await expect(panel.getByTestId('traffic-live-target')).toHaveText('60/s', { timeout: 15_000 });
  await expect(page.getByRole('region', { name: 'Events' }).getByText('traffic updated: 60 rps')).toBeVisible();
  // Per endpoint, server-side: the reads the mix sends are counted under their route, with a rate and p50/p95.
  const endpoints = page.getByRole('region', { name: 'Endpoints' });
  await lookAt(endpoints);
  const reads = endpoints.getByTestId('endpoint-GET /users/:id');
  await expect(reads.locator('td').nth(2)).toHaveText(/^[1-9][\d,]*$/, { timeout: 15_000 });
  await expect(reads.locator('td').nth(4)).not.toHaveText('0');
  await expect(reads.locator('td').nth(6)).toHaveText(/^\d/);
  await expect(endpoints.getByTestId('endpoint-POST /users')).toBeVisible();
  await endpoints.screenshot({ path: path.join(artifacts, 'endpoints.png') });
  await page.mouse.move(0, 0);
  await page.screenshot({ path: path.join(artifacts, 'traffic-running.png') });
  await panel.screenshot({ path: path.join(artifacts, 'traffic-panel-running.png') });

  // Stop: the summary replaces the live figures, and Fire is back.
  await panel.getByRole('button', { name: 'Stop traffic' }).click();
  await expect(panel.getByRole('region', { name: 'Last run summary' })).toBeVisible({ timeout: 30_000 });
  await expect(panel.getByTestId('traffic-summary-requests')).toHaveText(/^[1-9][\d,]*$/);
  await expect(panel.getByTestId('traffic-generator')).toHaveText(/^client-observed · generator: .+ · 1 thread$/);
  await expect(panel.getByTestId('traffic-state')).toHaveText(/idle · last run: ramp/);
  await expect(fire).toBeEnabled();
  await page.screenshot({ path: path.join(artifacts, 'traffic-summary.png') });
  await panel.screenshot({ path: path.join(artifacts, 'traffic-panel-summary.png') });

  await page.getByRole('button', { name: 'Stop', exact: true }).click();
  await expect(page.getByTestId('stack-state')).toHaveText('stopped', { timeout: 60_000 });
});
