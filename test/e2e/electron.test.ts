import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeTempHome } from '../support/temp-home.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const main = path.join(root, 'dist', 'electron', 'main.js');

/** Why Electron cannot be launched here, or undefined when it can. */
function whyNoElectron(): string | undefined {
  let binary: unknown;
  try {
    // The electron package exports the path of its binary; it throws when the download was skipped.
    binary = createRequire(import.meta.url)('electron');
  } catch (err) {
    return `no Electron binary (require('electron') failed: ${(err as Error).message}; installed with ELECTRON_SKIP_BINARY_DOWNLOAD?)`;
  }
  if (typeof binary !== 'string' || !existsSync(binary)) return `no Electron binary (${String(binary)} does not exist)`;
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY)
    return 'no display for Electron (run the tests under xvfb-run)';
  return undefined;
}

/** What the page's global scope may hold; the renderer's own types are not visible from test/. */
interface Scope {
  scalelab?: { invoke(command: string, payload: object): Promise<unknown> };
  process?: unknown;
  require?: unknown;
}

const unavailable = whyNoElectron();
// Said at collection time, so a skipped run explains itself instead of looking green.
if (unavailable) console.log(`skipped: ${unavailable}`);

describe.skipIf(unavailable !== undefined)('the desktop app', () => {
  let home: string;
  let app: ElectronApplication;
  let page: Page;

  beforeAll(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'scalelab-electron-'));
    // No executablePath: Playwright then finds the same binary and adds its loader, which holds
    // the app's `ready` until it is attached, so the first window is never missed.
    app = await _electron.launch({
      args: [main],
      cwd: root,
      env: { ...process.env, SCALELAB_HOME: home },
    });
    page = await app.firstWindow();
    await page.waitForLoadState('domcontentloaded');
  }, 60_000);

  afterAll(async () => {
    // No stack runs, so closing quits without the "stop the stack?" dialog.
    await app?.close();
    await removeTempHome(home);
  }, 60_000);

  it('exposes window.scalelab to the page and no Node.js', async () => {
    expect(await page.evaluate(() => typeof (globalThis as unknown as Scope).scalelab?.invoke)).toBe('function');
    expect(await page.evaluate(() => typeof (globalThis as unknown as Scope).process)).toBe('undefined');
    expect(await page.evaluate(() => typeof (globalThis as unknown as Scope).require)).toBe('undefined');
  });

  it('answers stack:status over IPC from the control plane it hosts', async () => {
    const result = await page.evaluate(() => (globalThis as unknown as Scope).scalelab!.invoke('stack:status', {}));
    expect(result).toMatchObject({ ok: true, value: { state: 'stopped' } });
  });

  it('refuses a command the contract does not list, with an error envelope', async () => {
    const result = await page.evaluate(() => (globalThis as unknown as Scope).scalelab!.invoke('shell:exec', {}));
    expect(result).toMatchObject({ ok: false, error: { name: 'ContractError' } });
  });

  it('writes control.json so the CLI and browsers can attach', () => {
    expect(existsSync(path.join(home, 'control.json'))).toBe(true);
  });
});
