import type { TrafficErrors } from '../../traffic-spec.js';

/** The generator's running totals, summed over its threads, as they stand right now. */
export interface GeneratorCounts {
  scheduled: number;
  completed: number;
  dropped: number;
  errors: TrafficErrors;
}

const FIELDS = ['scheduled', 'completed', 'dropped', 'timeout', 'refused', 'http4xx', 'http5xx'] as const;
/** One running total of the generator's threads. */
export type CountedField = (typeof FIELDS)[number];

/**
 * Running totals every generator thread adds to as requests are scheduled and answered, in shared
 * memory, so the control plane reads them at the instant it reads the balancer's counters: both
 * rates then cover the same interval, where the threads' own one-second reports do not.
 */
export class SharedCounts {
  private readonly cells: BigInt64Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(FIELDS.length * BigInt64Array.BYTES_PER_ELEMENT)) {
    this.cells = new BigInt64Array(buffer);
  }

  add(field: CountedField): void {
    Atomics.add(this.cells, FIELDS.indexOf(field), 1n);
  }

  read(): GeneratorCounts {
    const at = (field: CountedField) => Number(Atomics.load(this.cells, FIELDS.indexOf(field)));
    return { scheduled: at('scheduled'), completed: at('completed'), dropped: at('dropped'), errors: { timeout: at('timeout'), refused: at('refused'), http4xx: at('http4xx'), http5xx: at('http5xx') } };
  }
}
