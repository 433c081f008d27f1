import path from 'node:path';
import { expect, test } from '@playwright/test';
import { artifacts, serveDashboard, type Served } from './serve.js';

let served: Served;

test.beforeAll(async () => {
  served = await serveDashboard('scalelab-e2e-capacity-');
});

test.afterAll(async () => {
  await served?.stop();
});

test('a user finds the capacity at 1 and 2 replicas and reads the curve, the table and the fit', async ({ page }) => {
  test.setTimeout(240_000);
  await page.goto(served.dashboard);
  const panel = page.getByRole('region', { name: 'Capacity' });
  const find = panel.getByRole('button', { name: 'Find capacity' });
  await expect(find).toBeDisabled();
  await expect(panel.getByTestId('capacity-message')).toContainText('Start the stack first');

  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect(page.getByTestId('stack-state')).toHaveText('running', { timeout: 90_000 });
  // A bad list keeps the button disabled and says what it takes.
  await panel.getByLabel('Replica counts to measure').fill('1, 0');
  await expect(panel.getByTestId('capacity-message')).toContainText('whole numbers from 1 to 20');
  await expect(find).toBeDisabled();
  await panel.getByLabel('Replica counts to measure').fill('1, 2');
  await panel.getByLabel('step (s)').fill('2');
  await find.click();

  await expect(panel.getByTestId('capacity-state')).toHaveText('running', { timeout: 10_000 });
  await expect(panel.getByRole('button', { name: 'Stop search' })).toBeVisible();
  // Steps stream in as they end; the form shows the search's own settings, fixed while it runs.
  await expect(panel.getByTestId('capacity-last-step')).toContainText(/last step: 1 replica at \d+ req\/s — (pass|fail|invalid)/, {
    timeout: 60_000,
  });
  await expect(panel.getByLabel('step (s)')).toBeDisabled();
  const table = panel.getByTestId('capacity-table');
  await expect(table.getByRole('row').nth(1)).toContainText(/searching…|req\/s/);
  await panel.screenshot({ path: path.join(artifacts, 'capacity-running.png') });

  await expect(panel.getByTestId('capacity-state')).toHaveText('done', { timeout: 200_000 });
  await expect(panel.getByTestId('capacity-message')).toHaveText(/^done in \d+ s: 2 of 2 replica counts, \d+ steps$/);
  // One row per replica count, each with its capacity; the chart draws both points, the law and the line.
  await expect(table.getByRole('row').nth(1)).toContainText(/^1\s*\d+ req\/s/);
  await expect(table.getByRole('row').nth(2)).toContainText(/^2\s*\d+ req\/s/);
  await expect(panel.getByTestId('capacity-point-1')).toBeVisible();
  await expect(panel.getByTestId('capacity-point-2')).toBeVisible();
  await expect(panel.getByTestId('capacity-ideal')).toHaveAttribute('d', /^M.+L/);
  await expect(panel.getByTestId('capacity-fit')).toContainText(
    /λ [\d.]+ req\/s per replica · σ [\d.]+ \(contention\) · κ [\d.]+ \(coherency\) · R² [\d.]+/,
  );
  await expect(panel.getByTestId('capacity-fitted')).toHaveAttribute('d', /^M.+L/);
  // The stack is back at the replica count it had (two, the spec's default).
  await expect(page.locator('[data-testid^="tile-api-"]')).toHaveCount(2, { timeout: 30_000 });
  await panel.screenshot({ path: path.join(artifacts, 'capacity-done.png') });

  // Saved as a baseline; a bad name is refused with what a name takes.
  const save = panel.getByRole('button', { name: 'Save baseline' });
  await panel.getByLabel('Baseline name').fill('my/run');
  await expect(save).toBeDisabled();
  await expect(panel.getByText('A baseline name is letters, digits')).toBeVisible();
  await panel.getByLabel('Baseline name').fill('first-run');
  await save.click();
  await expect(panel.getByTestId('capacity-saved')).toHaveText(/saved “first-run”/);
  // A later, shorter run (one replica) compares with it: the table gains its column and the change,
  // and the chart draws the baseline's points and law beside the run's.
  await panel.getByLabel('Baseline to compare with').selectOption('first-run');
  await panel.getByLabel('Replica counts to measure').fill('1');
  await find.click();
  await expect(panel.getByTestId('capacity-state')).toHaveText('done', { timeout: 120_000 });
  await expect(table.getByRole('columnheader', { name: 'first-run' })).toBeVisible();
  await expect(panel.getByTestId('capacity-delta-1')).toHaveText(/^([+−]\d+(\.\d)? %|±0 %)$/);
  await expect(panel.getByTestId('capacity-delta-2')).toHaveText('–');
  await expect(panel.getByTestId('capacity-baseline-point-1')).toBeVisible();
  await expect(panel.getByTestId('capacity-baseline-point-2')).toBeVisible();
  await expect(panel.getByTestId('capacity-baseline-fitted')).toHaveAttribute('d', /^M.+L/);
  await panel.screenshot({ path: path.join(artifacts, 'capacity-compared.png') });
  // The light theme and projector mode, for the room: the panel as it is projected.
  await page.getByRole('button', { name: 'Switch to light theme' }).click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  await panel.screenshot({ path: path.join(artifacts, 'capacity-light.png') });
  await page.getByRole('button', { name: 'Projector' }).click();
  await panel.screenshot({ path: path.join(artifacts, 'capacity-projector.png') });
  await page.getByRole('button', { name: 'Projector' }).click();
  await page.getByRole('button', { name: 'Switch to dark theme' }).click();
});
