import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect, test, type Download, type Page } from '@playwright/test';
import { artifacts, serveDashboard, type Served, fullPageShot } from './serve.js';

let served: Served;
let dashboard: string;
let files: string;

/** Twelve seconds on two, then three, api replicas under steady traffic. */
const SMOKE = `# The dashboard's end-to-end scenario.
name: e2e smoke
description: Steady traffic on two api replicas, a third added at 4 s, a note at 8 s.
stack:
  name: default
  replicas: { api: 2, worker: 0 }
durationS: 12
steps:
  - at: 0
    traffic: { profile: { kind: constant, rps: 30 } }
  - at: 4
    scale: { service: api, replicas: 3 }
  - at: 8
    note: three api replicas share the traffic now
assertions:
  - "error_rate<0.05"
  - "api_replicas>=3 eventually"
`;

/** The same, with a misspelt field on line 10. */
const BAD = `name: e2e bad
durationS: 12
steps:
  - at: 0
    traffic: { profile: { kind: constant, rps: 30 } }
  - at: 4
    scale:
      service: api
      replicas: 3
      replicaz: 4
`;

test.beforeAll(async () => {
  served = await serveDashboard('scalelab-e2e-scenario-');
  dashboard = served.dashboard;
  files = await mkdtemp(path.join(os.tmpdir(), 'scalelab-e2e-scenario-files-'));
  await writeFile(path.join(files, 'e2e-smoke.yaml'), SMOKE);
  await writeFile(path.join(files, 'e2e-bad.yaml'), BAD);
});

test.afterAll(async () => {
  await served?.stop();
  if (files) await rm(files, { recursive: true, force: true });
});

function scenarioPanel(page: Page) {
  return page.getByRole('region', { name: 'Scenario' });
}

/** The panel alone, with the pointer out of the way. */
async function shoot(page: Page, name: string): Promise<void> {
  const panel = scenarioPanel(page);
  await panel.scrollIntoViewIfNeeded();
  await page.mouse.move(0, 0);
  await panel.screenshot({ path: path.join(artifacts, `${name}.png`) });
}

test('a scenario file with a wrong field is refused, its error naming the line and the field', async ({ page }) => {
  await page.goto(dashboard);
  const panel = scenarioPanel(page);
  await expect(panel.getByLabel('Built-in')).toContainText('Black Friday');
  await panel.getByLabel('Scenario file').setInputFiles(path.join(files, 'e2e-bad.yaml'));

  // In the banner at the top, and repeated in the panel (the banner may be scrolled away).
  const banner = page.getByRole('alert').filter({ hasText: 'e2e-bad.yaml' });
  await expect(banner).toContainText(/e2e-bad\.yaml:10:\d+/);
  await expect(banner).toContainText('replicaz');
  await expect(panel.getByTestId('scenario-problem')).toContainText(/e2e-bad\.yaml:10:\d+.*replicaz/);
  // Nothing was loaded.
  await expect(panel.getByTestId('scenario-name')).toHaveText('none loaded');
  await expect(panel.getByRole('button', { name: 'Play' })).toBeDisabled();
  await shoot(page, 'scenario-bad-file');

  await page.getByRole('button', { name: 'Dismiss error' }).click();
  await expect(banner).toHaveCount(0);
  await expect(panel.getByTestId('scenario-problem')).toHaveCount(0);
});

test('a user loads a scenario file, plays it to a pass, and exports its report', async ({ page }) => {
  test.setTimeout(240_000);
  await page.goto(dashboard);
  const panel = scenarioPanel(page);
  const state = panel.getByTestId('scenario-state');
  const steps = panel.getByRole('list', { name: /^steps/ });
  const assertions = panel.getByRole('list', { name: /^assertions/ });

  await panel.getByLabel('Scenario file').setInputFiles(path.join(files, 'e2e-smoke.yaml'));
  await expect(panel.getByTestId('scenario-name')).toHaveText('e2e smoke');
  await expect(state).toHaveText('idle');
  // toHaveText, so a failure prints what the description held.
  await expect(panel.locator('#scenario-description')).toHaveText(
    'Steady traffic on two api replicas, a third added at 4 s, a note at 8 s.',
  );
  await expect(panel.getByLabel('Built-in')).toContainText('file: e2e-smoke.yaml');
  await expect(panel.getByTestId('scenario-clock')).toHaveText('0:00 / 0:12');

  // Its steps, each at its time, none run yet.
  const scale = steps.getByRole('listitem').filter({ hasText: 'scale api to 3' });
  // One assertion on all three rows, so a failure prints what the list held instead.
  await expect(steps.getByRole('listitem')).toHaveText([
    /0:00.*traffic constant 30 req\/s/,
    /0:04.*scale api to 3/,
    /0:08.*three api replicas share the traffic now/,
  ]);
  await expect(steps.locator('[data-state="pending"]')).toHaveCount(3);
  // Its assertions, and the lost-write check every scenario gets.
  await expect(assertions.getByRole('listitem')).toHaveCount(3);
  await expect(assertions.locator('[data-state="pending"]')).toHaveCount(3);
  await expect(panel.getByRole('button', { name: 'Pause' })).toBeDisabled();

  // Play: the stack starts (two api replicas, no worker), then the clock runs.
  await panel.getByRole('button', { name: 'Play' }).click();
  await expect(state).toHaveText(/starting|running/);
  await expect(page.getByTestId('stack-state')).toHaveText('running', { timeout: 90_000 });
  await expect(state).toHaveText('running', { timeout: 30_000 });
  await expect(panel.getByRole('button', { name: 'Pause' })).toBeEnabled();
  await expect(panel.getByRole('button', { name: 'Play' })).toBeDisabled();

  // The assertions go live, and the steps advance: scaling runs at 4 s and becomes the current step.
  await expect(assertions.locator('[data-state="passing"], [data-state="failing"]').first()).toBeVisible({ timeout: 10_000 });
  await expect(scale).toHaveAttribute('data-state', 'done', { timeout: 15_000 });
  await expect(steps.locator('[data-state="done"]').first()).toContainText('traffic constant');
  await expect(panel.getByRole('progressbar', { name: 'Scenario progress' })).not.toHaveAttribute('aria-valuenow', '0');
  await shoot(page, 'scenario-running');

  // The end: every step ran, the assertions are judged, the badge says passed.
  await expect(state).toHaveText('passed', { timeout: 90_000 });
  await expect(steps.locator('[data-state="done"]')).toHaveCount(3);
  await expect(steps.locator('[aria-current="step"]')).toContainText('three api replicas share the traffic now');
  await expect(assertions.locator('[data-state="held"]')).toHaveCount(3);
  await expect(assertions.getByRole('listitem').filter({ hasText: 'api_replicas' })).toContainText('3');
  await expect(panel.getByTestId('scenario-clock')).toHaveText('0:12 / 0:12');
  await expect(panel.getByRole('button', { name: 'Replay' })).toBeEnabled();
  await expect(page.getByTestId('count-api')).toHaveText('3');
  await shoot(page, 'scenario-passed');
  await fullPageShot(page, path.join(artifacts, 'scenario-passed-full.png'));

  // The report covers the scenario's window by default: an HTML report and the samples as JSON.
  await expect(panel.getByLabel('Report window')).toHaveValue('scenario');
  const downloads: Download[] = [];
  page.on('download', (d) => downloads.push(d));
  await panel.getByRole('button', { name: 'Export report' }).click();
  await expect.poll(() => downloads.length, { timeout: 30_000 }).toBe(2);
  const [html, json] = [
    downloads.find((d) => d.suggestedFilename().endsWith('.html')),
    downloads.find((d) => d.suggestedFilename().endsWith('.json')),
  ];
  expect(html, 'an .html download').toBeDefined();
  expect(json, 'a .json download').toBeDefined();
  expect(html!.suggestedFilename().replace(/\.html$/, '')).toBe(json!.suggestedFilename().replace(/\.json$/, ''));
  const report = await readFile((await html!.path())!, 'utf8');
  expect(report).toContain('e2e smoke');
  expect(report).toContain('api_replicas');
  const raw = JSON.parse(await readFile((await json!.path())!, 'utf8')) as unknown;
  expect(raw).toBeTruthy();

  // Both themes, and projector mode, at the end.
  await page.getByRole('button', { name: 'Switch to light theme' }).click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  await shoot(page, 'scenario-passed-light');
  await page.getByRole('button', { name: 'Projector' }).click();
  await shoot(page, 'scenario-passed-projector');
  await page.getByRole('button', { name: 'Projector' }).click();
  await page.getByRole('button', { name: 'Switch to dark theme' }).click();

  // A report of the last 5 minutes works too (with or without a scenario in it).
  downloads.length = 0;
  await panel.getByLabel('Report window').selectOption('5');
  await panel.getByRole('button', { name: 'Export report' }).click();
  await expect.poll(() => downloads.length, { timeout: 30_000 }).toBe(2);

  // Reset puts it back at its start; the stack keeps running.
  await panel.getByRole('button', { name: 'Reset' }).click();
  await expect(state).toHaveText('idle');
  await expect(steps.locator('[data-state="pending"]')).toHaveCount(3);
  await expect(panel.getByTestId('scenario-clock')).toHaveText('0:00 / 0:12');
});
