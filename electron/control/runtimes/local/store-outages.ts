import type { StoreId } from '../runtime.js';

/** A store chaos can take down: how to kill it and how to bring it back with its data. */
export interface OutageTarget {
  crash(): Promise<void>;
  bringBack(): Promise<void>;
}

/**
 * Store outages in progress (chaos kill-cache, kill-db, kill-replica): each store is held down
 * for a while, then brought back; at most one outage per store.
 */
export class StoreOutages {
  private readonly running = new Map<StoreId, { timer: NodeJS.Timeout; back: () => void }>();

  /** @param onChange - called when a store went down or came back (instances changed). */
  constructor(private readonly onChange: () => void) {}

  /** Kills `target` and schedules its return in `forMs`; resolves once it is down. */
  async begin(id: StoreId, target: OutageTarget, forMs: number, onBack: (err?: Error) => void): Promise<void> {
    if (this.running.has(id)) throw new RangeError(`${id} is already down; it comes back on its own, or with \`scalelab chaos clear\``);
    await target.crash();
    this.onChange();
    const back = () => {
      clearTimeout(timer);
      if (!this.running.delete(id)) return;
      void target.bringBack().then(
        () => {
          this.onChange();
          onBack();
        },
        (err: Error) => onBack(err),
      );
    };
    const timer = setTimeout(back, forMs);
    this.running.set(id, { timer, back });
  }

  /** Ends a store's outage now (chaos `clear`); nothing when none is in progress. */
  end(id: StoreId): void {
    this.running.get(id)?.back();
  }

  /** Stopping the stack: a store held down stays down (nothing to bring back). Safe to call twice. */
  cancel(): void {
    for (const { timer } of this.running.values()) clearTimeout(timer);
    this.running.clear();
  }
}
