import type { BalancerSnapshot, StatusCounts, UpstreamSnapshot } from '../stats.js';
import { BACKEND, FRONTEND } from './haproxy-config.js';
import type { LatencyInterval } from './latency-receiver.js';

/** The counters of one `show stat` row this module reads (all cumulative since HAProxy started, but cur). */
interface Counters {
  status: StatusCounts;
  requests: number;
  /** Requests that failed to reach it or whose answer broke (econ + eresp). */
  failed: number;
  /** Sessions now, and requests waiting in its queue now. */
  cur: number;
}

/** Cumulative counters of one reading: the frontend, and each slot server by name. */
export interface StatReading {
  frontend: Counters;
  slots: Map<string, Counters>;
}

const n = (row: Record<string, string>, field: string) => {
  const v = Number(row[field]);
  return Number.isFinite(v) && v >= 0 ? v : 0;
};

function countersOf(row: Record<string, string>): Counters {
  return {
    status: {
      '2xx': n(row, 'hrsp_1xx') + n(row, 'hrsp_2xx'),
      '3xx': n(row, 'hrsp_3xx'),
      '4xx': n(row, 'hrsp_4xx'),
      '5xx': n(row, 'hrsp_5xx') + n(row, 'hrsp_other'),
    },
    requests: n(row, 'req_tot'),
    failed: n(row, 'econ') + n(row, 'eresp'),
    cur: n(row, 'scur') + n(row, 'qcur'),
  };
}

/** Picks the frontend and the backend's slot servers out of `show stat`'s rows. */
export function readingOf(rows: Record<string, string>[]): StatReading | undefined {
  const fe = rows.find((r) => r.pxname === FRONTEND && r.svname === 'FRONTEND');
  if (!fe) return undefined;
  const slots = new Map<string, Counters>();
  for (const row of rows) {
    const name = row.svname;
    if (row.pxname === BACKEND && name !== undefined && name !== 'BACKEND' && name !== 'FRONTEND') slots.set(name, countersOf(row));
  }
  return { frontend: countersOf(fe), slots };
}

const sumStatus = (s: StatusCounts) => s['2xx'] + s['3xx'] + s['4xx'] + s['5xx'];
const minus = (a: StatusCounts, b: StatusCounts): StatusCounts => ({
  '2xx': a['2xx'] - b['2xx'],
  '3xx': a['3xx'] - b['3xx'],
  '4xx': a['4xx'] - b['4xx'],
  '5xx': a['5xx'] - b['5xx'],
});
const ZERO: Counters = { status: { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 }, requests: 0, failed: 0, cur: 0 };

/**
 * Turns HAProxy's cumulative counters into the Node balancer's snapshot (stats.ts), so telemetry
 * and the dashboard read one shape whichever engine runs. Counts are HAProxy's exact counters;
 * latency comes from the sampled log lines (latency-receiver.ts).
 *
 * - requests and status: the frontend's answers, refusals (400/404/421) included.
 * - proxyErrors: 5xx the frontend sent beyond those its servers sent (no ready server: 503,
 *   a replica that could not be reached: 502/503, a timeout: 504).
 * - per upstream: its slot's answers; errors are its 5xx plus requests that failed to reach it.
 * - A counter that went backwards means a new HAProxy process: that reading starts from zero.
 */
export class HaproxyStats {
  private previous: StatReading | undefined;
  private since = Date.now();

  /** The snapshot since the previous call. `owners` maps slot names to instance ids. */
  take(reading: StatReading, latency: LatencyInterval, owners: Map<string, string>): BalancerSnapshot {
    const now = Date.now();
    let before = this.previous;
    if (
      before &&
      (reading.frontend.requests < before.frontend.requests || sumStatus(reading.frontend.status) < sumStatus(before.frontend.status))
    )
      before = undefined;
    const fe = minus(reading.frontend.status, before?.frontend.status ?? ZERO.status);
    const requests = sumStatus(fe);
    let server5xx = 0;
    let inFlight = 0;
    const upstreams: Record<string, UpstreamSnapshot> = {};
    for (const [slot, now1] of reading.slots) {
      const was = before?.slots.get(slot) ?? ZERO;
      const reset = now1.requests < was.requests;
      const base = reset ? ZERO : was;
      const status = minus(now1.status, base.status);
      server5xx += status['5xx'];
      inFlight += now1.cur;
      const id = owners.get(slot);
      if (id === undefined) continue;
      upstreams[id] = {
        requests: sumStatus(status),
        errors: status['5xx'] + Math.max(0, now1.failed - base.failed),
        inFlight: now1.cur,
        latency: latency.bySlot.get(slot) ?? { p50: null, p95: null, p99: null },
      };
    }
    const proxyErrors = Math.max(0, fe['5xx'] - server5xx);
    // Totals since HAProxy started, as the Node balancer's are since it started.
    const allServer5xx = [...reading.slots.values()].reduce((sum, c) => sum + c.status['5xx'], 0);
    const totals = {
      requests: sumStatus(reading.frontend.status),
      status: { ...reading.frontend.status },
      proxyErrors: Math.max(0, reading.frontend.status['5xx'] - allServer5xx),
    };
    const snapshot: BalancerSnapshot = {
      intervalMs: now - this.since,
      requests,
      status: fe,
      proxyErrors,
      inFlight,
      latency: latency.overall,
      upstreams,
      totals,
    };
    this.previous = reading;
    this.since = now;
    return snapshot;
  }
}
