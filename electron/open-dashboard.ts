import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The Electron binary when it was downloaded, and why not otherwise. */
export function electronBinary(): { path?: string; why?: string } {
  try {
    const binary = createRequire(import.meta.url)('electron') as unknown;
    if (typeof binary === 'string' && existsSync(binary)) return { path: binary };
    return { why: 'its binary was not downloaded (no route to GitHub when npm installed it)' };
  } catch (err) {
    return { why: `the electron package is not installed (${(err as Error).message.split('\n')[0]})` };
  }
}

function hasDisplay(): boolean {
  return process.platform !== 'linux' || Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
}

/**
 * Opens the dashboard the best way this machine allows: the desktop window (Electron, which
 * attaches to the running control plane by control.json: no URL on its command line), else the
 * default browser when there is a display. `url` goes on the browser's command line, where any
 * local user's `ps` sees it: pass a token-free one-time login URL (Headless.loginUrl,
 * requestLoginUrl), never the token's. Returns what it did, for the CLI to say.
 */
export function openDashboard(url: string): string {
  if (!hasDisplay()) return 'no display here: open the dashboard URL in a browser on this machine';
  const electron = electronBinary();
  if (electron.path) {
    const main = fileURLToPath(new URL('./main.js', import.meta.url));
    const env = { ...process.env };
    delete env.ELECTRON_RUN_AS_NODE;
    const child = spawn(electron.path, [main], { stdio: 'ignore', detached: true, env });
    child.unref();
    return 'opened the ScaleLab window';
  }
  const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  const child = spawn(opener, [url], { stdio: 'ignore', detached: true });
  child.on('error', () => undefined);
  child.unref();
  return `opened the dashboard in your browser (no desktop window: Electron ${electron.why})`;
}
