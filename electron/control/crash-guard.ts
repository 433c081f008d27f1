/**
 * The process-level last resort of a control plane (`scalelab serve`, the background one the CLI
 * starts, the desktop app's main process): an exception nothing caught, or a rejected promise
 * nobody awaited, is written to the log with its stack instead of ending the process silently.
 *
 * - uncaughtException: logged, then the process exits with code 70 (EX_SOFTWARE). After an
 *   exception unwound an unknown part of the stack, no invariant of the control plane can be
 *   trusted (a half-applied scale, a queue that never settles), and Node documents resuming as
 *   unsafe. Exiting is recoverable: the stack's processes keep running under their watchdog, and
 *   the next `scalelab` command starts a control plane that adopts them.
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
    write(`${options.who}: uncaught exception, exiting (code ${CRASH_EXIT_CODE}); the stack's processes outlive it for the watchdog's lease, so run \`scalelab status\` to adopt them:\n${describe(err)}`);
    exit(CRASH_EXIT_CODE);
  });
  process.on('unhandledRejection', (reason) => {
    write(`${options.who}: unhandled promise rejection (logged; the control plane keeps running):\n${describe(reason)}`);
  });
}
