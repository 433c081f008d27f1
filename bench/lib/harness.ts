/**
 * What every benchmark script shares: timestamped progress lines, cleanup steps run last-in
 * first-out (each even when another throws), Ctrl-C / SIGTERM handling, and numeric env settings.
 */

import os from 'node:os';

/** Facts every benchmark report opens its "Machine" section with. */
export function machineFacts(): Record<string, string | number> {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
  };
}

/** A positive number from the environment, or `fallback` when unset. */
export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
}

/** One benchmark run's progress output and cleanup. */
export interface Harness {
  /** Prints `[bench  12s] message`. */
  say(message: string): void;
  /** Registers a cleanup step; steps run in reverse order. */
  onCleanup(step: () => Promise<unknown>): void;
  /** Runs every cleanup step. Safe to call twice. */
  cleanup(): Promise<void>;
  /** True once SIGINT or SIGTERM arrived (errors of the interrupted work are then expected). */
  readonly interrupted: boolean;
  /** Runs the benchmark's `main`: an error (not one of interrupted work) is printed and sets exit code 1; cleanup runs last. */
  run(main: () => Promise<void>): void;
}

/**
 * Starts the harness. On SIGINT/SIGTERM it runs `onInterrupt` (kill wrk, stop a run), then every
 * cleanup step, then exits 130/143.
 */
export function createHarness(onInterrupt: () => Promise<unknown> | void = () => undefined): Harness {
  const started = Date.now();
  const steps: Array<() => Promise<unknown>> = [];
  let interrupted = false;
  const harness: Harness = {
    say(message) {
      const t = ((Date.now() - started) / 1000).toFixed(0).padStart(4);
      process.stdout.write(`[bench ${t}s] ${message}\n`);
    },
    onCleanup(step) {
      steps.push(step);
    },
    async cleanup() {
      while (steps.length > 0) {
        try {
          await steps.pop()!();
        } catch (err) {
          harness.say(`cleanup: ${(err as Error).message}`);
        }
      }
    },
    get interrupted() {
      return interrupted;
    },
    run(main) {
      main()
        .catch((err: unknown) => {
          if (!interrupted) {
            console.error(err);
            process.exitCode = 1;
          }
        })
        .finally(() => void harness.cleanup());
    },
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      interrupted = true;
      harness.say(`${signal}: stopping everything`);
      void Promise.resolve()
        .then(onInterrupt)
        .catch(() => undefined)
        .then(() => harness.cleanup())
        .finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    });
  }
  return harness;
}
