/**
 * The control plane's own process, `scalelab serve` (in the foreground, or started in the background
 * by the first command that needs one): its lock, dashboard identity, crash successor and shutdown.
 */
import path from 'node:path';
import type { StackStatus } from './contract.js';
import { attach, startDetached } from './control/client.js';
import { adoptionMessage } from './control/adoption.js';
import { installCrashGuard } from './control/crash-guard.js';
import { readControlFile, removeControlFile, writeControlFile } from './control/control-file.js';
import { acquireControlLock, ControlLockedError } from './control/control-lock.js';
import { newDashboardToken, readDashboardIdentity, writeDashboardIdentity } from './control/dashboard-identity.js';
import { ControlPlane } from './control/control-plane.js';
import { isAlive } from './control/runtimes/local/adopted-process.js';
import { isPortOpen } from './control/runtimes/local/ports.js';
import { startHeadless } from './headless.js';
import { openDashboard } from './open-dashboard.js';
import { UsageError } from './cli-usage.js';

const DEFAULT_DASHBOARD_PORT = 4750;

/** How many crashed background control planes in a row may start their successor. */
const MAX_CRASH_RESTARTS = 3;

/**
 * A crashed background control plane's successor: started before the crash's exit, it waits for
 * that process to go, then takes the lock and adopts the stack (see crash-guard.ts).
 */
function restartAfterCrash(home: string): boolean {
  const restarts = Number(process.env.SCALELAB_CRASH_RESTARTS) || 0;
  if (restarts >= MAX_CRASH_RESTARTS) return false;
  process.env.SCALELAB_CRASH_RESTARTS = String(restarts + 1);
  process.env.SCALELAB_REPLACES_PID = String(process.pid);
  startDetached(home, path.join(home, 'control.log'));
  return true;
}

/** A successor waits (up to 15 s) until the control plane it replaces has exited. */
async function waitForPredecessor(): Promise<void> {
  const pid = Number(process.env.SCALELAB_REPLACES_PID);
  delete process.env.SCALELAB_REPLACES_PID;
  if (!Number.isInteger(pid) || pid <= 0) return;
  for (const deadline = Date.now() + 15_000; isAlive(pid) && Date.now() < deadline;)
    await new Promise((resolve) => setTimeout(resolve, 50));
}

/**
 * Where the dashboard listens and its token: --port as asked; else where the last control plane for
 * this home did (so an open tab reconnects), else 4750, else any free port; the last token when
 * there is one to trust.
 */
async function dashboardIdentity(home: string, asked: number | undefined): Promise<{ port: number; token: string }> {
  const last = await readDashboardIdentity(home);
  const token = last?.token ?? newDashboardToken();
  if (asked !== undefined) return { port: asked, token };
  for (const port of [last?.port, DEFAULT_DASHBOARD_PORT]) if (port !== undefined && !(await isPortOpen(port))) return { port, token };
  return { port: 0, token };
}

/**
 * `scalelab serve`: the control plane and its headless server in this process, one per home (a
 * lock), adopting a stack a killed predecessor left running; with `detached` (a background start)
 * a crash starts a successor and `control:shutdown` may stop it.
 */
export async function serve(home: string, asked: number | undefined, open: boolean, detached: boolean): Promise<void> {
  await waitForPredecessor();
  const existing = await readControlFile(home);
  if (existing && isAlive(existing.pid) && (await attach(home))) {
    // No token here: this may be a background start whose output is control.log.
    throw new UsageError(
      `a control plane already runs for ${home} (pid ${existing.pid}); its dashboard: ${existing.url} (\`scalelab up --open\` opens it; the token is in ${home}/control.json)`,
    );
  }
  // One control plane per home: a second `serve` (two `scalelab up` at once) stops here, and its
  // client attaches to the lock's owner instead.
  const releaseLock = await acquireControlLock(home).catch((err: unknown) => {
    throw err instanceof ControlLockedError ? new UsageError(err.message) : err;
  });
  installCrashGuard({ who: `scalelab serve (pid ${process.pid})`, restart: detached ? () => restartAfterCrash(home) : undefined });
  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    // After `down` (with or without --purge) no stack runs: say what this stop really does.
    const status = await controlPlane.handle('stack:status', {});
    const running = status.ok && (status.value as StackStatus).state !== 'stopped';
    console.log(
      `${why}: ${running ? 'stopping the stack (data is kept) and the control plane' : 'no stack runs; stopping the control plane'}…`,
    );
    await headless.close();
    await controlPlane.close();
    await removeControlFile(home, process.pid);
    releaseLock();
    console.log('stopped.');
    process.exit(0);
  };
  const controlPlane = new ControlPlane({ home, onShutdownRequest: detached ? () => void stop('shutdown requested') : undefined });
  const identity = await dashboardIdentity(home, asked);
  const headless = await startHeadless({ controlPlane, port: identity.port, token: identity.token });
  await writeDashboardIdentity(home, { port: Number(new URL(headless.url).port), token: headless.token });
  controlPlane.dashboardUrl = headless.dashboardUrl;
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  console.log(`ScaleLab control plane (pid ${process.pid}) for ${home}`);
  // Adopt a stack a killed control plane left running before clients are told where we are,
  // so their first command already sees it.
  const adopted = await controlPlane.adoptOrphans();
  if (adopted) console.log(adoptionMessage(adopted));
  await writeControlFile(home, { pid: process.pid, url: headless.url, token: headless.token, startedAt: Date.now() });
  // A background control plane's output is control.log: the token never goes there.
  console.log(
    `  Dashboard  ${detached ? `${headless.url}/ (\`scalelab up --open\` opens it; the token is in control.json)` : headless.dashboardUrl}`,
  );
  console.log(`  Metrics    ${headless.url}/metrics (send the token as a Bearer header)`);
  // The browser gets a one-time code on its command line, never the token (see dashboard-login.ts).
  if (open) console.log(openDashboard(headless.loginUrl()));
  if (!detached) console.log('Press Ctrl-C to stop.');
}
