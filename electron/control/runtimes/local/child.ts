import type { ProcessLike } from './adopted-process.js';

/** True once the process has exited (with a code or a signal). */
export function hasExited(child: ProcessLike): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/**
 * Asks a child to stop with `signal`, escalates to SIGKILL after `forceAfterMs`, and resolves
 * once it has exited. A paused (SIGSTOP) child is continued first so it can see the signal.
 */
export function terminate(child: ProcessLike, signal: NodeJS.Signals, forceAfterMs: number): Promise<void> {
  if (hasExited(child)) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), forceAfterMs);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGCONT');
    child.kill(signal);
  });
}
