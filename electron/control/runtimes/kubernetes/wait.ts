import type { Instance } from '../../../contract.js';
import { NamedError } from '../../../../backend/named-error.js';

/** The pods did not reach the wanted state in time. */
export class KubeTimeoutError extends NamedError {}

/** Options of {@link waitForInstances}. */
export interface WaitOptions {
  timeoutMs: number;
  /** What is awaited, for the timeout's message, e.g. "3 ready api pods". */
  what: string;
  /** True once the instances are as wanted. */
  done: (instances: Instance[]) => boolean;
  /** More for the timeout's message (e.g. which pods crash). */
  hint?: () => string;
}

/** Resolves once `done` holds for the runtime's instances, checking on every change. */
export function waitForInstances(
  source: { watch(onChange: (i: Instance[]) => void): () => void; currentInstances(): Instance[] },
  options: WaitOptions,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let finished = false;
    const finish = (err?: Error) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      clearInterval(tick);
      unwatch();
      if (err) reject(err);
      else resolve();
    };
    const check = (instances: Instance[]) => {
      if (options.done(instances)) finish();
    };
    const unwatch = source.watch(check);
    const timer = setTimeout(
      () => finish(new KubeTimeoutError(`waited ${Math.round(options.timeoutMs / 1000)} s for ${options.what}${options.hint?.() ?? ''}`)),
      options.timeoutMs,
    );
    // A change can land between two watch callbacks; look again now and then.
    const tick = setInterval(() => check(source.currentInstances()), 1000);
    check(source.currentInstances());
  });
}
