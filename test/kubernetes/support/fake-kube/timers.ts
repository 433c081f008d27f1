/**
 * The fake cluster's clock: every timeout and interval its controllers start, so close() can stop
 * them all, and errors in them are logged instead of crashing the test process.
 */
export class Timers {
  private readonly pending = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(private readonly onError: (err: Error) => void) {}

  /** Runs `work` once after `ms`; nothing after stop(). */
  after(ms: number, work: () => void): void {
    if (this.stopped) return;
    const handle = setTimeout(() => {
      this.pending.delete(handle);
      this.run(work);
    }, ms);
    this.pending.add(handle);
  }

  /** Runs `work` every `ms` until stop(). */
  every(ms: number, work: () => void): void {
    if (this.stopped) return;
    const handle = setInterval(() => this.run(work), ms);
    this.pending.add(handle);
  }

  /** Clears everything; later after()/every() calls do nothing. Safe to call twice. */
  stop(): void {
    this.stopped = true;
    for (const handle of this.pending) clearTimeout(handle);
    this.pending.clear();
  }

  private run(work: () => void): void {
    if (this.stopped) return;
    try {
      work();
    } catch (err) {
      this.onError(err as Error);
    }
  }
}
