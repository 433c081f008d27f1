/** How far a counter moved since it was last seen, and over how long. */
export interface Delta {
  delta: number;
  ms: number;
}

interface Seen {
  value: number;
  t: number;
  epoch: number | undefined;
}

/**
 * Turns counters read at each tick into increases over the real time between reads.
 *
 * Counters of a process start again at 0 when it restarts: a changed `epoch` (the incarnation's
 * start time) or a value below the previous one means the counter was reset, and its whole value
 * is the increase. A counter seen for the first time is a baseline when its process was already
 * running before the tracker's first tick (its counts are history, not this second's traffic);
 * one whose process started since then (a new replica, or one whose first scrapes failed) has
 * counted nothing we saw, so its whole value is the increase.
 */
export class DeltaTracker {
  private readonly seen = new Map<string, Seen>();
  private firstTick: number | undefined;
  private previousTick: number | undefined;
  private currentTick: number | undefined;

  /** Starts a tick at `t`. */
  beginTick(t: number): void {
    this.firstTick ??= t;
    this.previousTick = this.currentTick;
    this.currentTick = t;
  }

  /**
   * Records `value` of counter `key` read at `t`. With `clamp`, a drop is an increase of 0 rather
   * than a reset: for counts that get trimmed, such as BullMQ's completed set.
   */
  observe(key: string, value: number, t: number, epoch?: number, clamp = false): Delta | undefined {
    if (!Number.isFinite(value)) return undefined;
    const prev = this.seen.get(key);
    this.seen.set(key, { value, t, epoch });
    if (!prev) {
      if (epoch === undefined || this.firstTick === undefined || epoch < this.firstTick) return undefined;
      return { delta: value, ms: Math.max(1, t - (this.previousTick ?? epoch)) };
    }
    const ms = Math.max(1, t - prev.t);
    if (prev.epoch !== epoch) return { delta: value, ms };
    if (value < prev.value) return { delta: clamp ? 0 : value, ms };
    return { delta: value - prev.value, ms };
  }

  /**
   * Forgets counters for which `keep` is false (instances that went away). A counter that could
   * not be read for a while is kept, so its next delta spans the whole gap.
   */
  retain(keep: (key: string) => boolean): void {
    for (const key of this.seen.keys()) if (!keep(key)) this.seen.delete(key);
  }

  clear(): void {
    this.seen.clear();
    this.firstTick = undefined;
    this.previousTick = undefined;
    this.currentTick = undefined;
  }
}

/** Per-second rate of a delta, or 0 when there is none. */
export function perSecond(d: Delta | undefined): number {
  return d ? d.delta / (d.ms / 1000) : 0;
}
