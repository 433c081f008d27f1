import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { artifacts, serveDashboard, type Served, fullPageShot } from './serve.js';

let served: Served;
let dashboard: string;

test.beforeAll(async () => {
  served = await serveDashboard('scalelab-e2e-autoscaler-');
  dashboard = served.dashboard;
});

test.afterAll(async () => {
  await served?.stop();
});

function autoscalerPanel(page: Page) {
  return page.getByRole('region', { name: 'Autoscaler' });
}

async function apiReplicas(page: Page): Promise<number> {
  return Number(await page.getByTestId('count-api').textContent());
}

/**
 * The 1280×800 window with the panel at rest near its top (it sits under the traffic, below the
 * sticky stack bar), and the whole page beside it.
 */
async function shoot(page: Page, name: string): Promise<void> {
  await page.evaluate(() => {
    const panel = document.querySelector('.panel.autoscaler')!;
    const bar = document.querySelector('.stack-bar')!;
    window.scrollTo(0, window.scrollY + panel.getBoundingClientRect().top - bar.getBoundingClientRect().height - 160);
  });
  await page.mouse.move(0, 0);
  await page.waitForTimeout(800);
  await page.screenshot({ path: path.join(artifacts, `${name}.png`) });
  await page.evaluate(() => window.scrollTo(0, 0));
  await fullPageShot(page, path.join(artifacts, `${name}-full.png`));
}

test('a user turns on the api autoscaler, fires traffic above its rps target and watches it scale up, decision by decision', async ({
  page,
}) => {
  await page.goto(dashboard);
  const panel = autoscalerPanel(page);
  // Outside Kubernetes the HPA algorithm runs in ScaleLab: the panel says so before anything runs.
  await expect(panel.getByTestId('autoscaler-mode')).toHaveText('emulated HPA');
  const api = panel.getByRole('region', { name: 'api', exact: true });
  const toggle = api.getByRole('switch', { name: 'Autoscale api' });
  await expect(toggle).toHaveAttribute('aria-checked', 'false');

  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect(page.getByTestId('stack-state')).toHaveText('running', { timeout: 90_000 });
  await expect(page.getByTestId('phase-api-2')).toHaveText('ready');

  // The form: demo preset (3 s syncs), 20 requests/s per replica, at most 4 replicas.
  await api.getByLabel('preset', { exact: true }).selectOption('demo');
  await api.getByLabel('metric', { exact: true }).selectOption('rps');
  await api.getByLabel('target', { exact: true }).fill('20');
  await api.getByLabel('max', { exact: true }).fill('4');
  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-checked', 'true');
  await expect(api.getByText('demo preset · sync 3 s')).toBeVisible();
  await expect(page.getByTestId('autoscaler-note')).toContainText('api 1–4');
  // The change is on the timeline.
  const events = page.getByRole('region', { name: 'Events' });
  await expect(events.getByText(/autoscaler api: rps 20\/replica.*\(demo preset\)/)).toBeVisible();

  // 150 requests/s through the balancer: several times the target per replica.
  const traffic = page.getByRole('region', { name: 'Traffic' });
  await traffic.getByLabel('req/s', { exact: true }).fill('150');
  await traffic.getByRole('button', { name: 'Fire traffic' }).click();
  await expect(traffic.getByTestId('traffic-state')).toHaveText(/firing/, { timeout: 30_000 });

  // The HPA asks for more and the replicas follow, within a few syncs.
  await expect.poll(() => apiReplicas(page), { timeout: 20_000, intervals: [500] }).toBeGreaterThanOrEqual(3);
  const decisions = api.getByRole('list', { name: 'api decisions' });
  await expect(decisions.locator('.decision-change.up').first()).toBeVisible();
  await expect(decisions.locator('.decision-explanation').first()).toContainText('rps');
  await expect(api.getByRole('img', { name: /rps per replica: [\d.]+ rps against target 20 rps ±10 %/ })).toBeVisible();
  // Every decision keeps its inputs: open the one that scaled up.
  const up = decisions.locator('details', { has: page.locator('.decision-change.up') }).first();
  await up.locator('summary').click();
  await expect(up.getByText('set aside')).toBeVisible();
  await expect(up.getByText(/vs target 20 rps/).first()).toBeVisible();
  await expect(up.getByText('cap', { exact: true })).toBeVisible();
  // Decisions that scale are events, and marks on the charts.
  await expect(events.getByText(/^api \d+ → \d+: rps/).first()).toBeVisible();
  await expect(
    page.getByRole('figure', { name: 'Replicas chart' }).locator('line.mark[stroke="var(--mark-autoscaler)"]').first(),
  ).toBeAttached();
  await expect.poll(() => apiReplicas(page), { timeout: 20_000, intervals: [500] }).toBe(4);
  await expect(page.getByTestId('as-desired-api')).toHaveText('4');

  await traffic.getByRole('button', { name: 'Stop traffic' }).click();
  await expect(traffic.getByRole('button', { name: 'Fire traffic' })).toBeVisible({ timeout: 30_000 });
  await page.mouse.move(0, 0);
  await api.screenshot({ path: path.join(artifacts, 'autoscaler-inputs.png') });
  await up.locator('summary').click();

  // Both themes, and projector mode, at 1280×800.
  await shoot(page, 'autoscaler-dark');
  await page.getByRole('button', { name: 'Switch to light theme' }).click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  await shoot(page, 'autoscaler-light');
  await page.getByRole('button', { name: 'Projector' }).click();
  await shoot(page, 'autoscaler-projector');
  await page.getByRole('button', { name: 'Projector' }).click();
  await page.getByRole('button', { name: 'Switch to dark theme' }).click();

  // Off keeps the settings; the stack stops.
  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-checked', 'false');
  await page.getByRole('button', { name: 'Stop', exact: true }).click();
  await expect(page.getByTestId('stack-state')).toHaveText('stopped', { timeout: 60_000 });
});
