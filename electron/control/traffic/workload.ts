import type { Keys, Mix } from '../../traffic-spec.js';
import { DEFAULT_MIX } from '../../traffic-spec.js';

/** One request to send. */
export interface PlannedRequest {
  kind: keyof Mix;
  method: 'GET' | 'POST';
  path: string;
  body?: string;
}

/** Picks keys uniformly, or by Zipf's law with skew s (rank 1 is the hottest). */
export class KeyPicker {
  private readonly cdf: Float64Array | undefined;

  constructor(
    private readonly keys: number[],
    spec: Keys = { distribution: 'zipf', s: 1.1 },
  ) {
    if (spec.distribution === 'zipf' && keys.length > 1) {
      const s = spec.s ?? 1.1;
      this.cdf = new Float64Array(keys.length);
      let sum = 0;
      for (let i = 0; i < keys.length; i += 1) {
        sum += 1 / (i + 1) ** s;
        this.cdf[i] = sum;
      }
      for (let i = 0; i < keys.length; i += 1) this.cdf[i]! /= sum;
    }
  }

  pick(): number {
    if (this.keys.length === 0) return 1;
    if (!this.cdf) return this.keys[Math.floor(Math.random() * this.keys.length)]!;
    const r = Math.random();
    let lo = 0;
    let hi = this.cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cdf[mid]! < r) lo = mid + 1;
      else hi = mid;
    }
    return this.keys[lo]!;
  }
}

/** Turns a mix and a key picker into requests. */
export class Workload {
  private readonly kinds: (keyof Mix)[] = [];
  private readonly cumulative: number[] = [];
  private seq = 0;

  constructor(
    mix: Partial<Mix> | undefined,
    private readonly keys: KeyPicker,
    private readonly runId: string,
  ) {
    const full = { ...DEFAULT_MIX, ...(mix ? { read: 0, write: 0, list: 0, missing: 0, sendEmail: 0, ...mix } : {}) };
    const total = Object.values(full).reduce((a, b) => a + b, 0);
    let acc = 0;
    for (const [kind, share] of Object.entries(full) as [keyof Mix, number][]) {
      if (share <= 0) continue;
      acc += share / (total || 1);
      this.kinds.push(kind);
      this.cumulative.push(acc);
    }
    if (this.kinds.length === 0) {
      this.kinds.push('read');
      this.cumulative.push(1);
    }
  }

  next(): PlannedRequest {
    const r = Math.random();
    let i = 0;
    while (i < this.cumulative.length - 1 && this.cumulative[i]! < r) i += 1;
    const kind = this.kinds[i]!;
    switch (kind) {
      case 'read':
        return { kind, method: 'GET', path: `/users/${this.keys.pick()}` };
      case 'list':
        return { kind, method: 'GET', path: '/users?limit=20' };
      case 'missing':
        // Far beyond any id the stack will create: a real miss (and a cached "not found").
        return { kind, method: 'GET', path: `/users/${900_000_000_000 + Math.floor(Math.random() * 1_000_000)}` };
      case 'sendEmail':
        return { kind, method: 'POST', path: `/users/${this.keys.pick()}/send-email` };
      case 'write': {
        this.seq += 1;
        return {
          kind,
          method: 'POST',
          path: '/users',
          body: JSON.stringify({ name: `Load ${this.seq}`, email: `load-${this.runId}-${this.seq}@example.com` }),
        };
      }
    }
  }
}
