/**
 * The control plane as the desktop app hosts it: the same pieces `scalelab serve` runs (control
 * plane, headless server for the CLI and browser tabs, control.json), with the two ways out the
 * quit dialog offers. Plain Node: no 'electron' import.
 */
import { removeControlFile, writeControlFile } from './control/control-file.js';
import { acquireControlLock } from './control/control-lock.js';
import type { Adoption } from './control/adoption.js';
import { ControlPlane } from './control/control-plane.js';
import { startHeadless, type Headless } from './headless.js';

/** A control plane running in this process, reachable by the CLI and browsers too. */
export interface HostedControlPlane {
  controlPlane: ControlPlane;
  headless: Headless;
  /** A stack a killed control plane had left behind, and whether it was adopted or restarted. */
  adopted: Adoption | undefined;
  /**
   * Stops the stack (data kept; `stack:down` first so the window shows its progress), then the
   * headless server and the control plane, and removes control.json. Every step runs even if one
   * fails. Safe to call twice.
   */
  stop(): Promise<void>;
  /**
   * Leaves the stack running and lets go of it: closes the headless server and the telemetry and
   * removes control.json, so the next `scalelab` command starts a control plane that adopts the
   * stack. The caller must exit right after: the stack's watchdog stops it 15 s after this
   * process stops renewing its lease, unless another control plane adopted it.
   */
  leave(): Promise<void>;
}

async function runAll(steps: (() => Promise<unknown>)[]): Promise<void> {
  for (const step of steps) await step().catch(() => undefined);
}

/**
 * Starts a control plane for `home` with its headless server on a free port, adopts a stack a
 * killed control plane left behind, then writes control.json (as `scalelab serve` does: adopt
 * first, so the first client already sees the adopted stack).
 */
export async function hostControlPlane(home: string): Promise<HostedControlPlane> {
  // One control plane per home (throws ControlLockedError while another runs: attach to it instead).
  const releaseLock = await acquireControlLock(home);
  const controlPlane = new ControlPlane({ home });
  const headless = await startHeadless({ controlPlane, port: 0 });
  controlPlane.dashboardUrl = headless.dashboardUrl;
  const adopted = await controlPlane.adoptOrphans();
  await writeControlFile(home, { pid: process.pid, url: headless.url, token: headless.token, startedAt: Date.now() });
  let done: Promise<void> | undefined;
  return {
    controlPlane,
    headless,
    adopted,
    stop() {
      done ??= runAll([
        () => controlPlane.handle('stack:down', {}),
        () => headless.close(),
        () => controlPlane.close(),
        () => removeControlFile(home, process.pid),
        async () => releaseLock(),
      ]);
      return done;
    },
    leave() {
      // ControlPlane has no "let go without stopping" (its local runtime's dispose() is private);
      // exiting ends the lease and the in-process balancer just the same.
      done ??= runAll([
        () => headless.close(),
        () => controlPlane.telemetry.close(),
        () => removeControlFile(home, process.pid),
        async () => releaseLock(),
      ]);
      return done;
    },
  };
}
