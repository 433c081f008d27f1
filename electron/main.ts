/**
 * Electron entry: one window over one control plane per SCALELAB_HOME. Thin by design: the
 * window's guards live in electron-window.ts, IPC in electron-ipc.ts, hosting in electron-host.ts.
 *
 * If a control plane already runs for SCALELAB_HOME (`scalelab serve`, or one the CLI started),
 * the window shows that one's dashboard over its WebSocket: two control planes never fight over
 * one stack. Otherwise this process hosts the control plane, with the headless server so the CLI
 * and browser tabs can attach, and the window loads the built renderer from disk over IPC.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { app, dialog, session, type BrowserWindow } from 'electron';
import type { StackStatus } from './contract.js';
import { adoptionMessage } from './control/adoption.js';
import { attach } from './control/client.js';
import { installCrashGuard } from './control/crash-guard.js';
import { requestLoginUrl } from './dashboard-login.js';
import { scalelabHome } from './control/control-file.js';
import { hostControlPlane, type HostedControlPlane } from './electron-host.js';
import { serveIpc, streamEvents } from './electron-ipc.js';
import { createWindow, hardenSession, isAppUrl, type AppPages } from './electron-window.js';

const home = scalelabHome();
// dist/electron/main.js → dist/; electron/main.ts (run from source) → ./dist/ as well.
const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.basename(path.dirname(here)) === 'dist' ? path.dirname(here) : path.resolve(here, '..', 'dist');
const rendererIndex = path.join(dist, 'renderer', 'index.html');
/** The preload bundled to one CommonJS file (scripts/bundle-preload.mjs): a sandboxed preload cannot import. */
const preload = path.join(dist, 'electron', 'preload.cjs');

let win: BrowserWindow | undefined;
let host: HostedControlPlane | undefined;
/** Set once the app really exits, so the close and quit guards below let it through. */
let exiting = false;
let quitting: Promise<void> | undefined;

function exit(code: number): void {
  exiting = true;
  app.exit(code);
}

/** What to do with the stack when the window closes: `undefined` means cancel. */
async function askAboutStack(): Promise<'none' | 'stop' | 'leave' | undefined> {
  // Attached to another control plane: nothing here to stop, the stack stays with its owner.
  if (!host) return 'none';
  const result = await host.controlPlane.handle('stack:status', {});
  const status = result.ok ? (result.value as StackStatus) : undefined;
  if (!status || status.state === 'stopped') return 'none';
  const options = {
    type: 'question' as const,
    title: 'Quit ScaleLab',
    message: `The stack "${status.spec?.name ?? 'default'}" is ${status.state}. Stop it before quitting?`,
    detail:
      'Stopping keeps its data. Left running, its processes keep going without a supervisor or a balancer. A control plane started by `scalelab` adopts it; otherwise it stops within 15 s.',
    buttons: ['Stop the stack', 'Leave it running', 'Cancel'],
    defaultId: 0,
    cancelId: 2,
    noLink: true,
  };
  const { response } = win && !win.isDestroyed() ? await dialog.showMessageBox(win, options) : await dialog.showMessageBox(options);
  return response === 0 ? 'stop' : response === 1 ? 'leave' : undefined;
}

/** Closing the window, Cmd-Q or a signal: ask about a running stack, then let go of it and exit. */
function quit(ask = true): Promise<void> {
  quitting ??= (async () => {
    const how = ask ? await askAboutStack() : 'stop';
    if (!how) return;
    win?.setTitle(how === 'stop' ? 'ScaleLab — stopping the stack…' : 'ScaleLab — quitting…');
    // host.stop() also closes the control plane when no stack runs ('none').
    await (how === 'leave' ? host?.leave() : host?.stop());
    exit(0);
  })()
    .catch((err: unknown) => {
      console.error('scalelab: quitting failed:', err);
      exit(1);
    })
    .finally(() => {
      quitting = undefined;
    });
  return quitting;
}

async function start(): Promise<void> {
  const running = await attach(home);
  if (running) {
    const { url } = running.control;
    running.close();
    const pages: AppPages = { origin: new URL(url).origin };
    hardenSession(session.defaultSession);
    win = createWindow({ pages });
    win.on('close', onClose);
    // A one-time code, traded for the cookie: the token never sits in the page's URL or history.
    await win.loadURL(await requestLoginUrl(running.control));
    return;
  }
  host = await hostControlPlane(home);
  if (host.adopted) console.log(`scalelab: ${adoptionMessage(host.adopted)}`);
  const pages: AppPages = { fileBase: pathToFileURL(path.dirname(rendererIndex) + path.sep).href, origin: host.headless.url };
  hardenSession(session.defaultSession);
  serveIpc(host.controlPlane, (url) => isAppUrl(url, pages));
  win = createWindow({ pages, preload });
  win.on('close', onClose);
  streamEvents(host.controlPlane, win.webContents);
  if (existsSync(rendererIndex)) {
    await win.loadFile(rendererIndex);
  } else {
    // Not built yet: the headless server's status page says how to build it (IPC still works there).
    console.warn(`scalelab: ${rendererIndex} is missing; run \`npm run build\`. Showing the status page.`);
    await win.loadURL(host.headless.dashboardUrl);
  }
}

function onClose(event: Electron.Event): void {
  if (exiting) return;
  event.preventDefault();
  void quit();
}

// This process may host the control plane: a crash is logged with its stack, never silent (see crash-guard.ts).
installCrashGuard({ who: `scalelab desktop (pid ${process.pid})`, exit });

// One app per SCALELAB_HOME: the single-instance lock is per userData folder, so keep that there.
app.setPath('userData', path.join(home, 'electron'));
if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    if (!win || win.isDestroyed()) return;
    if (win.isMinimized()) win.restore();
    win.focus();
  });
  app.on('before-quit', (event) => {
    if (exiting) return;
    event.preventDefault();
    void quit();
  });
  // A terminal's Ctrl-C or a service manager: stop the stack as `scalelab serve` does, no dialog.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void quit(false));
  app
    .whenReady()
    .then(start)
    .catch(async (err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      console.error(`scalelab: could not start: ${message}`);
      dialog.showErrorBox('ScaleLab could not start', message);
      await host?.stop();
      exit(1);
    });
}
