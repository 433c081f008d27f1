import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { artifacts, serveDashboard, type Served, fullPageShot, lookAt } from './serve.js';

let served: Served;
let dashboard: string;

test.beforeAll(async () => {
  served = await serveDashboard('scalelab-e2e-chaos-');
  dashboard = served.dashboard;
});

test.afterAll(async () => {
  await served?.stop();
});

function chaosPanel(page: Page) {
  return page.getByRole('region', { name: 'Chaos' });
}

/** The 1280×800 window from the top (topology, chaos, the top of traffic), and the whole page. */
async function shoot(page: Page, name: string): Promise<void> {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.mouse.move(0, 0);
  await page.waitForTimeout(800);
  await page.screenshot({ path: path.join(artifacts, `${name}.png`) });
  await fullPageShot(page, path.join(artifacts, `${name}-full.png`));
}

test('a user kills replicas and the cache under traffic, slows every api replica, clears it all, and finds every acknowledged write', async ({
  page,
}) => {
  await page.goto(dashboard);
  const chaos = chaosPanel(page);
  const events = page.getByRole('region', { name: 'Events' });
  const faults = chaos.getByRole('list', { name: /active faults/ });

  // Nothing to break before a stack runs.
  await expect(chaos.getByRole('button', { name: 'Kill random api' })).toBeDisabled();
  await expect(chaos.getByText('start the stack to break it')).toBeVisible();

  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect(page.getByTestId('stack-state')).toHaveText('running', { timeout: 90_000 });
  await expect(page.getByTestId('phase-api-2')).toHaveText('ready');
  await expect(faults.getByRole('listitem')).toHaveCount(0);

  // Traffic with writes in its mix (the default mix: 10 % writes).
  const traffic = page.getByRole('region', { name: 'Traffic' });
  await traffic.getByLabel('req/s', { exact: true }).fill('100');
  await traffic.getByRole('button', { name: 'Fire traffic' }).click();
  await expect(traffic.getByTestId('traffic-state')).toHaveText(/firing/, { timeout: 30_000 });
  await expect(chaos.getByTestId('writes-acknowledged')).not.toHaveText('0', { timeout: 15_000 });

  // Kill a random api replica: the timeline names it, and the runtime brings it back ready.
  await chaos.getByRole('button', { name: 'Kill random api' }).click();
  const killed = events.getByText(/^kill api-\d+$/).first();
  await expect(killed).toBeVisible();
  const id = (await killed.textContent())!.replace('kill ', '');
  await expect(page.getByTestId(`restarts-${id}`)).toHaveText('1', { timeout: 30_000 });
  await expect(page.getByTestId(`phase-${id}`)).toHaveText('ready', { timeout: 30_000 });
  // Every chart marks the kill with its label at the moment it happened (the key three and the rest).
  const charts = page.getByRole('figure', { name: / chart$/ });
  expect(await charts.count()).toBeGreaterThanOrEqual(6);
  // Each looked at in turn: a chart out of view holds its last frame.
  for (const chart of await charts.all()) {
    await lookAt(chart);
    await expect(chart.locator(`text.mark-label[data-mark="kill ${id}"]`)).toHaveCount(1);
  }

  // The cache down for 3 s: the Redis tile says DOWN, the fault is listed with its end, then Redis is back.
  await chaos.getByLabel('cache down for, seconds').fill('3');
  await chaos.getByRole('button', { name: 'Kill cache' }).click();
  const redis = page.getByRole('button', { name: /^Redis cache, / });
  await expect(redis).toContainText('DOWN', { timeout: 10_000 });
  await expect(faults.getByRole('listitem').filter({ hasText: 'kill-cache' })).toContainText(/redis.*down for 3 s.*until/);
  await expect(redis).toContainText(/up ·/, { timeout: 20_000 });
  await expect(events.getByText('redis is back')).toBeVisible();
  // Its recovery is marked in green beside the red of the kill.
  await expect(page.getByRole('figure', { name: 'Latency chart' }).locator('text.mark-label[data-mark="redis back"]')).toHaveAttribute(
    'fill',
    'var(--ok)',
  );

  // 100 ms on every api replica's database calls: each replica lists it, until Clear all.
  await chaos.getByLabel('latency db ms').fill('100');
  await chaos.getByLabel('latency cache ms').fill('0');
  await chaos.getByRole('button', { name: 'Latency on all api' }).click();
  const latency = faults.getByRole('listitem').filter({ hasText: 'latency' });
  await expect(latency.first()).toContainText('db +100 ms');
  await expect(latency.first()).toContainText('until cleared');
  // One fault for every api replica (replicas that restart get it again).
  await expect(latency).toHaveCount(1);
  await expect(latency.first()).toContainText('all');
  await expect(events.getByText(/^latency on every api replica/)).toBeVisible();

  // A replica's own faults, from its drawer: a short cpu burn shows there and in the panel.
  await page.getByTestId('tile-api-1').click();
  const drawer = page.getByRole('dialog', { name: 'api-1' });
  await drawer.getByLabel('cpu seconds').fill('5');
  await drawer.getByRole('button', { name: 'Burn CPU' }).click();
  await expect(drawer.getByRole('list', { name: 'Faults in force on api-1' })).toContainText(/cpu.*1 thread for 5 s/);
  await expect(drawer.getByRole('list', { name: 'Faults in force on api-1' })).toContainText('db +100 ms');
  await expect(faults.getByRole('listitem').filter({ hasText: 'cpu' })).toHaveCount(1);
  await page.mouse.move(0, 0);
  await page.screenshot({ path: path.join(artifacts, 'chaos-drawer.png') });
  await drawer.getByRole('button', { name: 'Close details' }).click();

  await chaos.getByRole('button', { name: 'Clear all' }).click();
  await expect(faults.getByRole('listitem')).toHaveCount(0);
  await expect(events.getByText(/^chaos cleared/)).toBeVisible();

  // Traffic stops; the read-back finds every acknowledged write.
  await traffic.getByRole('button', { name: 'Stop traffic' }).click();
  await expect(traffic.getByRole('button', { name: 'Fire traffic' })).toBeVisible({ timeout: 30_000 });
  await chaos.getByRole('button', { name: 'Verify' }).click();
  const badge = chaos.getByRole('group', { name: 'writes' });
  await expect(badge.getByTestId('writes-lost')).toHaveText('0', { timeout: 60_000 });
  const acknowledged = Number(await badge.getByTestId('writes-acknowledged').textContent());
  expect(acknowledged).toBeGreaterThan(0);
  await expect(badge.getByTestId('writes-verified')).toHaveText(String(acknowledged));
  await expect(badge).toHaveClass(/\bok\b/);
  await expect(events.getByText(new RegExp(`^writes: ${acknowledged} acknowledged, ${acknowledged} verified, 0 lost`))).toBeVisible();

  // For the pictures: latency on again and the monkey loose (it kills, within its max down).
  await chaos.getByRole('button', { name: 'Latency on all api' }).click();
  await chaos.getByLabel('monkey interval, seconds').fill('3');
  const monkey = chaos.getByRole('switch', { name: 'Chaos Monkey' });
  await monkey.click();
  await expect(monkey).toHaveAttribute('aria-checked', 'true');
  await expect(events.getByText(/^Chaos Monkey on/)).toBeVisible();
  await expect(events.getByText(/^monkey killed (api|worker)-\d+$/).first()).toBeVisible({ timeout: 20_000 });
  await expect(chaos.getByTestId('monkey-summary')).toContainText(/[1-9]\d* kills?/);

  await shoot(page, 'chaos-dark');
  await page.getByRole('button', { name: 'Switch to light theme' }).click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  await shoot(page, 'chaos-light');
  await page.getByRole('button', { name: 'Projector' }).click();
  await shoot(page, 'chaos-projector');
  await page.getByRole('button', { name: 'Projector' }).click();
  await page.getByRole('button', { name: 'Switch to dark theme' }).click();

  // Reset lab, with traffic firing again: the faults, the monkey and the traffic all stop in one click.
  await traffic.getByRole('button', { name: 'Fire traffic' }).click();
  await expect(traffic.getByTestId('traffic-state')).toHaveText(/firing/, { timeout: 30_000 });
  await page.getByRole('button', { name: 'Reset lab' }).click();
  await expect(monkey).toHaveAttribute('aria-checked', 'false', { timeout: 15_000 });
  await expect(faults.getByRole('listitem')).toHaveCount(0);
  await expect(traffic.getByTestId('traffic-state')).toHaveText(/^idle/, { timeout: 15_000 });
  await expect(events.getByText(/^lab reset: stopped the traffic; cleared chaos \(\d+ faults?, the monkey\)/)).toBeVisible();

  // The safety guard, armed at 20 % for 2 s: errors on every replica under traffic trip it; it stops
  // the run and clears the fault, and a banner says why.
  await page.getByLabel('guard error limit, percent').fill('20');
  await page.getByLabel('guard seconds').fill('2');
  const guard = page.getByRole('switch', { name: 'Safety guard' });
  await guard.click();
  await expect(guard).toHaveAttribute('aria-checked', 'true');
  await expect(page.getByTestId('guard-state')).toHaveText(/^armed/);
  await traffic.getByRole('button', { name: 'Fire traffic' }).click();
  await expect(traffic.getByTestId('traffic-state')).toHaveText(/firing/, { timeout: 30_000 });
  await chaos.getByLabel('error rate %').fill('60');
  await chaos.getByRole('button', { name: 'Errors on all api' }).click();
  const banner = page.getByRole('alert', { name: 'Safety guard tripped' });
  await expect(banner).toContainText(/errors \d+(\.\d)? % on average .* for 2 s in a row; the limit is 20 % for 2 s/, { timeout: 30_000 });
  await expect(banner).toContainText('stopped the traffic');
  await expect(banner).toContainText('cleared chaos (1 fault)');
  await expect(traffic.getByTestId('traffic-state')).toHaveText(/^idle/, { timeout: 15_000 });
  await expect(faults.getByRole('listitem')).toHaveCount(0);
  await expect(events.getByText(/^safety guard tripped/)).toBeVisible();
  await page.mouse.move(0, 0);
  await page.screenshot({ path: path.join(artifacts, 'guard-tripped.png') });
  await banner.getByRole('button', { name: "Dismiss the guard's message" }).click();
  await expect(banner).toBeHidden();
  await guard.click();
  await expect(guard).toHaveAttribute('aria-checked', 'false');
  await page.getByRole('button', { name: 'Stop', exact: true }).click();
  await expect(page.getByTestId('stack-state')).toHaveText('stopped', { timeout: 60_000 });
});
