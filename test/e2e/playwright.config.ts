import { fileURLToPath } from 'node:url';
import { defineConfig } from '@playwright/test';

/**
 * End-to-end tests of the dashboard in Debian's Chromium (Playwright cannot download its own
 * browser here) against a real `scalelab serve` and a real local stack.
 */
export default defineConfig({
  testDir: '.',
  testMatch: /.*\.spec\.ts$/,
  timeout: 180_000,
  expect: { timeout: 30_000 },
  workers: 1,
  // One retry, reported as "flaky" in the output: a full stack on a shared 2-core machine now and
  // then misses a step's timing; a test that fails twice fails the run.
  retries: 1,
  // The JSON is read by test/run-suite.ts for the run's closing line and the README's figures.
  reporter: [['list'], ['json', { outputFile: fileURLToPath(new URL('../../test-results/playwright.json', import.meta.url)) }]],
  outputDir: '../../test-results/e2e',
  use: {
    viewport: { width: 1280, height: 800 },
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
    trace: 'retain-on-failure',
  },
});
