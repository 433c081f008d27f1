import type { Locator, Page } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { postgresDataDir } from '../../electron/control/runtimes/local/postgres.js';
import { removeTempHome } from '../support/temp-home.js';

export const root = fileURLToPath(new URL('../../', import.meta.url));
/** Screenshots and other artifacts of the e2e run. */
export const artifacts = path.join(root, 'test-results', 'e2e');

/** A `scalelab serve` (the build under dist/) on a fresh SCALELAB_HOME. */
export interface Served {
  home: string;
  dashboard: string;
  stop(): Promise<void>;
}

/** Starts `scalelab serve` (with `env` added to this process's) and reads the dashboard URL it prints. */
export async function serveDashboard(prefix: string, env: Record<string, string> = {}): Promise<Served> {
  const home = await mkdtemp(path.join(os.tmpdir(), prefix));
  const serve: ChildProcess = spawn(process.execPath, ['dist/electron/cli.js', 'serve', '--port', '0'], {
    cwd: root,
    env: { ...process.env, ...env, SCALELAB_HOME: home },
  });
  const dashboard = await new Promise<string>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`scalelab serve printed no dashboard URL:\n${output}`)), 30_000);
    serve.stdout!.on('data', (d: Buffer) => {
      output += d.toString();
      const url = /Dashboard\s+(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(output)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve(url);
      }
    });
    serve.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  });
  await mkdir(artifacts, { recursive: true });
  return {
    home,
    dashboard,
    async stop() {
      if (serve.exitCode === null) {
        // SIGTERM stops the stack (data kept) and the control plane.
        const exited = new Promise((resolve) => serve.once('exit', resolve));
        serve.kill('SIGTERM');
        await exited;
      }
      // As root, PostgreSQL's data lives outside the home (see postgresDataDir): remove it too.
      await rm(postgresDataDir(path.join(home, 'stacks', 'default', 'postgres')), { recursive: true, force: true });
      await removeTempHome(home);
    },
  };
}

/**
 * A screenshot of the whole page as it looks with all of it on screen. Panels scrolled out of view
 * skip rendering (content-visibility) and hold their last frame, so the viewport first grows to the
 * page's height, the held panels redraw, and then it goes back. `clip` is in page coordinates.
 */
export async function fullPageShot(
  page: Page,
  file: string,
  clip?: { x: number; y: number; width: number; height: number },
): Promise<void> {
  const viewport = page.viewportSize()!;
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  await page.setViewportSize({ width: viewport.width, height });
  await page.evaluate(() => window.scrollTo(0, 0));
  // Intersection observers report on the next frame, the panels render on the one after.
  await page.evaluate(
    () => new Promise<void>((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => requestAnimationFrame(() => resolve())))),
  );
  await page.waitForTimeout(150);
  await page.screenshot({ path: file, fullPage: true, clip });
  await page.setViewportSize(viewport);
}

/** Scrolls `panel` into view, as a user would before reading it: a panel out of view holds its last frame. */
export async function lookAt(panel: Locator): Promise<void> {
  await panel.scrollIntoViewIfNeeded();
}
