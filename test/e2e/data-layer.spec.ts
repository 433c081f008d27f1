import path from 'node:path';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { artifacts, serveDashboard, type Served, fullPageShot, lookAt } from './serve.js';

let served: Served;

test.beforeAll(async () => {
  served = await serveDashboard('scalelab-e2e-data-');
});

test.afterAll(async () => {
  await served?.stop();
});

/**
 * A picture of one panel, cut from a full-page capture: the sticky stack bar stays at the top of
 * the page there instead of covering the panel's first lines.
 */
async function shootPanel(page: Page, panel: Locator, name: string): Promise<void> {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.mouse.move(0, 0);
  await page.waitForTimeout(800);
  const clip = await panel.evaluate((el) => {
    const r = el.getBoundingClientRect();
    return { x: r.left + window.scrollX, y: r.top + window.scrollY, width: r.width, height: r.height };
  });
  await fullPageShot(page, path.join(artifacts, `${name}.png`), clip);
}

test('a user starts a stack with a read replica and partitions, sees reads, events and rows spread, kills the replica and keeps reading', async ({
  page,
}) => {
  test.setTimeout(300_000);
  await page.goto(served.dashboard);
  const data = page.getByRole('region', { name: 'Data layer' });
  const chaos = page.getByRole('region', { name: 'Chaos' });
  const traffic = page.getByRole('region', { name: 'Traffic' });
  const topology = page.getByRole('region', { name: 'Topology' });

  // The patterns are picked beside Start.
  await expect(data.getByText(/Start the stack to see its data layer/)).toBeVisible();
  const patterns = page.getByRole('group', { name: 'Data layer patterns' });
  await patterns.getByRole('checkbox', { name: 'replica' }).check();
  await expect(patterns.getByRole('checkbox', { name: 'events' })).toBeChecked();
  await patterns.getByLabel('partitions').fill('4');
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect(page.getByTestId('stack-state')).toHaveText('running', { timeout: 150_000 });
  // While it runs, the patterns show what it runs with, locked.
  await expect(patterns.getByRole('checkbox', { name: 'replica' })).toBeDisabled();
  await lookAt(data);
  await expect(data.getByRole('list', { name: 'Data-layer patterns' })).toContainText(/read replica on.*events on.*4 partitions/);

  // The replica beside PostgreSQL, and the event path under the queue.
  const replicaNode = topology
    .getByRole('button', { name: /^Read replica, up/ })
    .or(topology.getByRole('group', { name: /^Read replica, up/ }));
  await expect(replicaNode).toBeVisible({ timeout: 30_000 });
  await expect(topology.getByRole('group', { name: 'Event path' })).toBeVisible();

  // Traffic with reads and writes (the default mix).
  await traffic.getByLabel('req/s', { exact: true }).fill('80');
  await traffic.getByRole('button', { name: 'Fire traffic' }).click();
  await expect(traffic.getByTestId('traffic-state')).toHaveText(/firing/, { timeout: 30_000 });

  // Cache misses and lists read from the replica; writes flow through the outbox into the stream; rows spread over the partitions.
  await lookAt(data);
  await expect(data.getByTestId('reads-replica')).toHaveText(/^[1-9]|^0\.[1-9]/, { timeout: 30_000 });
  await expect(data.getByTestId('replica-state')).toHaveText('up');
  await expect(data.getByTestId('stream-rate')).toHaveText(/^[1-9]|^0\.[1-9]/, { timeout: 30_000 });
  await expect(data.getByTestId('stream-length')).not.toHaveText(/^[0–]$/);
  await expect(data.getByTestId('partition-total')).toHaveText(/^[1-9][\d ]* rows in 4 partitions/, { timeout: 30_000 });
  const bars = data.getByRole('list', { name: 'Rows per partition' }).getByRole('listitem');
  await expect(bars).toHaveCount(4);
  for (let i = 0; i < 4; i++) await expect(bars.nth(i)).toHaveAttribute('aria-label', /^users_p\d+: [1-9]\d* rows$/, { timeout: 30_000 });
  await expect(data.getByRole('list', { name: 'Connection pools' }).getByRole('listitem').first()).toHaveAttribute(
    'aria-label',
    /^api-1: primary \d+ of \d+.*; replica \d+ of \d+/,
  );
  await expect(data.getByTestId('read-model-freshness')).not.toHaveText('–', { timeout: 30_000 });
  await page.waitForTimeout(4_000); // a few seconds of lines on the charts
  await shootPanel(page, data, 'data-layer');
  await shootPanel(page, topology, 'data-layer-topology');

  // Kill the replica for 8 s: it shows DOWN, reads go to the primary, and traffic keeps being served.
  await chaos.getByLabel('replica down for, seconds').fill('8');
  await chaos.getByRole('button', { name: 'Kill replica' }).click();
  await lookAt(data);
  await expect(data.getByTestId('replica-state')).toHaveText('DOWN', { timeout: 15_000 });
  await expect(
    topology.getByRole('button', { name: /^Read replica, down/ }).or(topology.getByRole('group', { name: /^Read replica, down/ })),
  ).toBeVisible();
  await expect(data.getByTestId('reads-primary')).toHaveText(/^[1-9]/, { timeout: 15_000 });
  await shootPanel(page, data, 'data-layer-replica-down');
  await shootPanel(page, topology, 'data-layer-topology-replica-down');
  await lookAt(data);
  await expect(data.getByTestId('replica-state')).toHaveText('up', { timeout: 60_000 });
  await expect(data.getByTestId('reads-replica')).toHaveText(/^[1-9]|^0\.[1-9]/, { timeout: 30_000 });

  // Slow the replica's replay: the lag shows in seconds, then the delay ends.
  await chaos.getByLabel('replica delay ms').fill('2000');
  await chaos.getByLabel('replica delay for, seconds').fill('10');
  await chaos.getByRole('button', { name: 'Replica delay' }).click();
  await lookAt(data);
  await expect(data.getByTestId('replica-lag')).toHaveText(/^[1-9]\.\d s$/, { timeout: 20_000 });
  // Soft: a failure here is reported at the end, after the run's error count and the pictures.
  await expect.soft(data.getByTestId('replica-delay')).toHaveText('2 s', { timeout: 10_000 });
  await shootPanel(page, data, 'data-layer-replica-delay');
  await lookAt(data);
  await expect(data.getByTestId('replica-lag')).toHaveText(/^0\.\d s$/, { timeout: 40_000 });
  await expect.soft(data.getByTestId('replica-delay')).toHaveText('none');

  // Kill the relay, then the projector, for a few seconds each: the outbox backs up and drains, the group lags and catches up.
  await chaos.getByLabel('relay down for, seconds').fill('6');
  await chaos.getByRole('button', { name: 'Kill relay' }).click();
  await lookAt(data);
  await expect(data.getByTestId('outbox-backlog')).toHaveText(/^[1-9]/, { timeout: 15_000 });
  await expect(data.getByTestId('outbox-backlog')).toHaveText('0', { timeout: 45_000 });
  await chaos.getByLabel('projection down for, seconds').fill('6');
  await chaos.getByRole('button', { name: 'Kill projection' }).click();
  await lookAt(data);
  await expect(data.getByTestId('stream-lag')).toHaveText(/^[1-9]/, { timeout: 15_000 });
  await expect(data.getByTestId('stream-lag')).toHaveText('0', { timeout: 45_000 });
  await expect(data.getByTestId('read-model-freshness')).toHaveText(/^0\.\d s$/, { timeout: 30_000 });
  await shootPanel(page, data, 'data-layer-stream-chaos');

  // The pictures in the other themes, while the traffic still runs.
  await page.getByRole('button', { name: 'Switch to light theme' }).click();
  await shootPanel(page, data, 'data-layer-light');
  await page.getByRole('button', { name: 'Projector', exact: true }).click();
  await shootPanel(page, data, 'data-layer-projector');
  await page.getByRole('button', { name: 'Projector', exact: true }).click();
  await page.getByRole('button', { name: 'Switch to dark theme' }).click();

  // Not one request failed for it: no timeouts, refusals or 5xx over the whole run.
  await traffic.getByRole('button', { name: 'Stop traffic' }).click();
  await expect(traffic.getByRole('region', { name: 'Last run summary' })).toBeVisible({ timeout: 30_000 });
  await expect(traffic.getByLabel(/^errors by kind/)).toHaveAttribute(
    'aria-label',
    /^errors by kind: 0 timeout, 0 refused, \d+ 4xx, 0 5xx$/,
  );
  await expect(traffic.getByTestId('traffic-summary-requests')).toHaveText(/^[1-9][\d,]*$/);

  await page.getByRole('button', { name: 'Stop', exact: true }).click();
  await expect(page.getByTestId('stack-state')).toHaveText('stopped', { timeout: 90_000 });
});
