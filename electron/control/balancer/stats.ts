import * as hdr from 'hdr-histogram-js';
import type { Percentiles } from '../../contract.js';

/** Requests by status class. */
export interface StatusCounts {
  '2xx': number;
  '3xx': number;
  '4xx': number;
  '5xx': number;
}

/** What one upstream served since the previous snapshot. */
export interface UpstreamSnapshot {
  requests: number;
  /** 5xx answers plus requests that failed to reach it. */
  errors: number;
  inFlight: number;
  latency: Percentiles;
}

/** What the balancer served since the previous snapshot (counts, not rates). */
export interface BalancerSnapshot {
  intervalMs: number;
  requests: number;
  status: StatusCounts;
  /** Requests the balancer answered itself with 502/503: no ready upstream, or it was unreachable. */
  proxyErrors: number;
  inFlight: number;
  /** Milliseconds, from the request's arrival to the end of its response. */
  latency: Percentiles;
  /** By instance id. */
  upstreams: Record<string, UpstreamSnapshot>;
  /** Totals since the balancer started. */
  totals: { requests: number; status: StatusCounts; proxyErrors: number };
}

/** A latency histogram in microseconds, as every balancer figure uses. */
export function histogram(): hdr.Histogram {
  // Microseconds, 2 significant digits: 1% precision from 1 µs to the auto-resized maximum.
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 2, autoResize: true });
}

/** p50/p95/p99 in milliseconds (two decimals); nulls when nothing was recorded. */
export function percentiles(h: hdr.Histogram): Percentiles {
  if (h.totalCount === 0) return { p50: null, p95: null, p99: null };
  const ms = (q: number) => Math.round(h.getValueAtPercentile(q) / 10) / 100;
  return { p50: ms(50), p95: ms(95), p99: ms(99) };
}

function statusClass(status: number): keyof StatusCounts {
  if (status >= 500) return '5xx';
  if (status >= 400) return '4xx';
  if (status >= 300) return '3xx';
  return '2xx';
}

class Interval {
  requests = 0;
  errors = 0;
  readonly latency = histogram();
}

/** Counts and latency histograms, per interval and per upstream. */
export class BalancerStats {
  private since = Date.now();
  private requests = 0;
  private proxyErrors = 0;
  private status: StatusCounts = { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 };
  private readonly latency = histogram();
  private readonly perUpstream = new Map<string, Interval>();
  private readonly totals = { requests: 0, status: { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 } as StatusCounts, proxyErrors: 0 };

  /** Records one finished request; `upstream` is the instance that answered, if any. */
  record(status: number, micros: number, upstream: string | undefined, proxyError: boolean): void {
    const cls = statusClass(status);
    this.requests += 1;
    this.status[cls] += 1;
    this.totals.requests += 1;
    this.totals.status[cls] += 1;
    if (proxyError) {
      this.proxyErrors += 1;
      this.totals.proxyErrors += 1;
    }
    const value = Math.max(1, Math.round(micros));
    this.latency.recordValue(value);
    if (upstream === undefined) return;
    let interval = this.perUpstream.get(upstream);
    if (!interval) {
      interval = new Interval();
      this.perUpstream.set(upstream, interval);
    }
    interval.requests += 1;
    if (cls === '5xx' || proxyError) interval.errors += 1;
    interval.latency.recordValue(value);
  }

  /** Figures since the previous call, then starts a new interval. */
  take(inFlight: number, upstreamInFlight: Map<string, number>): BalancerSnapshot {
    const now = Date.now();
    const upstreams: Record<string, UpstreamSnapshot> = {};
    for (const [id, count] of upstreamInFlight)
      upstreams[id] = { requests: 0, errors: 0, inFlight: count, latency: { p50: null, p95: null, p99: null } };
    for (const [id, interval] of this.perUpstream) {
      upstreams[id] = {
        requests: interval.requests,
        errors: interval.errors,
        inFlight: upstreamInFlight.get(id) ?? 0,
        latency: percentiles(interval.latency),
      };
      interval.latency.destroy();
    }
    const snapshot: BalancerSnapshot = {
      intervalMs: now - this.since,
      requests: this.requests,
      status: this.status,
      proxyErrors: this.proxyErrors,
      inFlight,
      latency: percentiles(this.latency),
      upstreams,
      totals: { requests: this.totals.requests, status: { ...this.totals.status }, proxyErrors: this.totals.proxyErrors },
    };
    this.since = now;
    this.requests = 0;
    this.proxyErrors = 0;
    this.status = { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 };
    this.latency.reset();
    this.perUpstream.clear();
    return snapshot;
  }
}
