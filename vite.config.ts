import { defineConfig } from 'vitest/config';

/**
 * Vitest projects mirror the source folders. The renderer's build has its own config
 * (renderer/vite.config.ts); the dashboard's end-to-end tests run under Playwright
 * (test/e2e/playwright.config.ts), except the Electron launch test, which runs here.
 */
export default defineConfig({
  test: {
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'backend',
          include: ['test/backend/**/*.test.ts'],
          environment: 'node',
          // Each file starts its own PostgreSQL and Redis; two at a time suits a 2-core machine.
          pool: 'forks',
          maxWorkers: 2,
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'renderer',
          include: ['test/renderer/**/*.test.ts'],
          environment: 'node',
          pool: 'forks',
          sequence: { groupOrder: 0 },
          maxWorkers: 2,
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'control',
          include: ['test/control/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          exclude: ['**/*.alone.test.ts', '**/node_modules/**'],
          environment: 'node',
          pool: 'forks',
          sequence: { groupOrder: 0 },
          maxWorkers: 2,
          testTimeout: 90_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'docker',
          include: ['test/docker/**/*.test.ts'],
          environment: 'node',
          pool: 'forks',
          sequence: { groupOrder: 0 },
          // One engine: its suites run one after another.
          maxWorkers: 1,
          testTimeout: 120_000,
          hookTimeout: 900_000,
        },
      },
      {
        test: {
          name: 'kubernetes',
          // Against a fake API server (no cluster can run here) and offline manifest validation.
          include: ['test/kubernetes/**/*.test.ts'],
          environment: 'node',
          pool: 'forks',
          sequence: { groupOrder: 0 },
          maxWorkers: 2,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'alone',
          // Measurements against real timers (the capacity search finds a rate within 5 %): they run
          // after every other project, one file at a time, so no other test shares the cores.
          include: ['test/**/*.alone.test.ts'],
          environment: 'node',
          pool: 'forks',
          maxWorkers: 1,
          testTimeout: 90_000,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
