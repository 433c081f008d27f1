/**
 * A cap on how many of one kind of request the control plane works on at once. Heavy reads
 * (`telemetry:history` of 30 minutes is a few MB of JSON to build and send) share the event loop
 * with everything else the control plane does; past the cap a request is answered at once with
 * {@link BusyError} ("retry"), so a burst of them costs a few cheap refusals instead of a stall.
 */
import { NamedError } from '../../backend/named-error.js';

/** Too many requests of this kind are in flight: the client should retry shortly. */
export class BusyError extends NamedError {}

/** Options of {@link InFlightLimit}. */
export interface InFlightLimitOptions {
  /** What is limited, for the error (`telemetry:history`). */
  what: string;
  /** Requests at once. @defaultValue 4 */
  max?: number;
}

/** See the file's comment. */
export class InFlightLimit {
  private running = 0;
  readonly max: number;

  constructor(private readonly options: InFlightLimitOptions) {
    this.max = options.max ?? 4;
  }

  /** Requests in flight now. */
  get inFlight(): number {
    return this.running;
  }

  /**
   * Runs `work` in a slot, or throws {@link BusyError} when every slot is taken. The work starts
   * on the next turn of the event loop (waiting I/O goes first), and its slot is held one turn
   * past its end, so the answer is serialised and sent before another request takes the slot.
   */
  async run<T>(work: () => T | Promise<T>): Promise<T> {
    if (this.running >= this.max) {
      throw new BusyError(`${this.options.what}: ${this.max} requests are already being answered; retry in a moment`);
    }
    this.running += 1;
    try {
      await new Promise<void>((resolve) => setImmediate(resolve));
      return await work();
    } finally {
      setImmediate(() => {
        this.running -= 1;
      });
    }
  }
}
