/**
 * The process-level last resort of a control plane (`scalelab serve`, the background one the CLI
 * starts, the desktop app's main process): an exception nothing caught, or a rejected promise
 * nobody awaited, is written to the log with its stack instead of ending the process silently.
 *
 * - uncaughtException: logged, then the process exits with code 70 (EX_SOFTWARE). After an
 *   exception unwound an unknown part of the stack, no invariant of the control plane can be
 *   trusted (a half-applied scale, a queue that never settles), and Node documents resuming as
 *   unsafe. Exiting is recoverable: the stack's processes (the balancer among them) keep serving
 *   under their watchdog, and a background control plane starts its own successor first
 *   (`restart`), which adopts them before the watchdog's lease runs out, so a crash never takes
 *   the stack's traffic down. A foreground one says to run `scalelab status`.
 * - unhandledRejection: logged, and the process keeps running. A rejection is one failed
 *   operation whose caller forgot to wait for it; the state it touched settled, and ending the
 *   whole control plane (and with it the stack's supervision) for it would turn a bug into an
 *   outage.
 */

/** Options of {@link installCrashGuard}. */
export interface CrashGuardOptions {
  /** Which process this is, at the start of each line (`scalelab serve`, `scalelab desktop`). */
  who: string;
  /** Where lines go. @defaultValue console.error (control.log for a background control plane) */
  write?: (line: string) => void;
  /** Ends the process after an uncaught exception. @defaultValue process.exit */
  exit?: (code: number) => void;
  /**
   * Starts a successor before the exit, which adopts the stack; returns false when it would not
   * (too many crashes in a row). @defaultValue none: the next `scalelab` command adopts the stack
   */
  restart?: () => boolean;
}

/** The exit code after an uncaught exception (sysexits' EX_SOFTWARE: an internal error). */
export const CRASH_EXIT_CODE = 70;

function describe(err: unknown): string {
  if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`;
  return String(err);
}

let installed = false;

/** Installs the handlers once per process (a second call does nothing); see the file's comment. */
export function installCrashGuard(options: CrashGuardOptions): void {
  if (installed) return;
  installed = true;
  const write = options.write ?? ((line: string) => console.error(line));
  const exit = options.exit ?? ((code: number) => process.exit(code));
  process.on('uncaughtException', (err) => {
    let restarted = false;
    try {
      restarted = options.restart?.() ?? false;
    } catch (restartErr) {
      write(`${options.who}: could not start a successor: ${describe(restartErr)}`);
    }
    const next = restarted
      ? 'a new control plane is starting and adopts the stack'
      : "the stack's processes outlive it for the watchdog's lease, so run `scalelab status` to adopt them";
    write(`${options.who}: uncaught exception, exiting (code ${CRASH_EXIT_CODE}); ${next}:\n${describe(err)}`);
    exit(CRASH_EXIT_CODE);
  });
  process.on('unhandledRejection', (reason) => {
    write(`${options.who}: unhandled promise rejection (logged; the control plane keeps running):\n${describe(reason)}`);
  });
}
