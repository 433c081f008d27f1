/**
 * Resolves with what `work` resolves to, or with `fallback` when it rejects or takes longer than
 * `ms`. The work itself is not cancelled: callers pass work that ends on its own (timeouts of
 * their own), and must not let a late result change state.
 */
export function within<T>(work: Promise<T> | (() => Promise<T>), ms: number, fallback: T): Promise<T> {
  return new Promise<T>((resolve) => {
    const timer = setTimeout(() => resolve(fallback), ms);
    const promise = typeof work === 'function' ? Promise.resolve().then(work) : work;
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      () => {
        clearTimeout(timer);
        resolve(fallback);
      },
    );
  });
}

/** Calls `fn`, returning `fallback` when it throws: one broken source must not break a tick. */
export function attempt<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}
