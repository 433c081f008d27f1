/**
 * Per-endpoint figures, server-side, like Locust's statistics table: each api replica's
 * `http_requests_total{method,route,status}` and `http_request_duration_seconds` histogram (without
 * ScaleLab's own probes and scrapes),
 * turned into per-second rates and p50/p95 over the sample's interval (bucket deltas summed over
 * the replicas, then interpolated as Prometheus's histogram_quantile does), and running totals.
 */
import type { RouteSample } from '../../contract.js';
import type { DeltaTracker } from './deltas.js';
import type { MetricFamily } from './prometheus-text.js';

/** One route of one replica's /metrics: cumulative counts, and the latency histogram's cumulative buckets. */
export interface ScrapedRoute {
  method: string;
  route: string;
  requests: number;
  failures: number;
  /** [upper bound in ms, cumulative count], ascending, +Inf last. */
  buckets: [number, number][];
}

/** ScaleLab's own calls (probes, scrapes, faults) and the docs: not the users' traffic the table is about. */
const OPERATIONS = /^\/(healthz|readyz|metrics|admin|docs)(\/|$)/;

/** Routes longer than this, or more of them, are not kept: labels come from the replica, so they are bounded here. */
const MAX_ROUTES = 40;

/** The routes of a /metrics body (summing over status codes; 5xx are failures). */
export function routesOf(families: Map<string, MetricFamily>): ScrapedRoute[] {
  const byKey = new Map<string, ScrapedRoute & { bucketMap: Map<number, number> }>();
  const entry = (labels: Record<string, string>) => {
    const method = labels.method;
    const route = labels.route;
    if (!method || !route || method.length > 10 || route.length > 120 || OPERATIONS.test(route)) return undefined;
    const key = `${method} ${route}`;
    let e = byKey.get(key);
    if (!e) {
      if (byKey.size >= MAX_ROUTES) return undefined;
      e = { method, route, requests: 0, failures: 0, buckets: [], bucketMap: new Map() };
      byKey.set(key, e);
    }
    return e;
  };
  for (const sample of families.get('http_requests_total')?.samples ?? []) {
    if (sample.name !== 'http_requests_total' || !Number.isFinite(sample.value)) continue;
    const e = entry(sample.labels);
    if (!e) continue;
    e.requests += sample.value;
    if (/^5\d\d$/.test(sample.labels.status ?? '')) e.failures += sample.value;
  }
  for (const sample of families.get('http_request_duration_seconds')?.samples ?? []) {
    if (sample.name !== 'http_request_duration_seconds_bucket' || !Number.isFinite(sample.value)) continue;
    const le = sample.labels.le === '+Inf' ? Infinity : Number(sample.labels.le) * 1000;
    if (Number.isNaN(le)) continue;
    const e = entry(sample.labels);
    if (!e) continue;
    e.bucketMap.set(le, (e.bucketMap.get(le) ?? 0) + sample.value);
  }
  return [...byKey.values()].map(({ bucketMap, ...route }) => ({
    ...route,
    buckets: [...bucketMap.entries()].sort((a, b) => a[0] - b[0]),
  }));
}

/** The q-quantile of a histogram's bucket counts (per bucket, not cumulative), interpolated inside its bucket; null when empty. */
export function bucketQuantile(q: number, buckets: [number, number][]): number | null {
  const total = buckets.reduce((a, [, n]) => a + n, 0);
  if (!(total > 0)) return null;
  const rank = q * total;
  let seen = 0;
  let lower = 0;
  for (const [upper, n] of buckets) {
    if (seen + n >= rank && n > 0) {
      // Past the last finite bound there is no upper edge: the last finite bound is the answer.
      if (!Number.isFinite(upper)) return lower;
      return lower + ((rank - seen) / n) * (upper - lower);
    }
    seen += n;
    if (Number.isFinite(upper)) lower = upper;
  }
  return lower;
}

const round = (n: number) => Math.round(n * 10) / 10;

/** Per-route figures across the api replicas, over one interval; totals run from when telemetry first saw each route. */
export class RouteStats {
  private readonly totals = new Map<string, { requests: number; failures: number }>();
  /** The routes each replica has shown, and when it was last scraped. */
  private readonly known = new Map<string, { routes: Set<string>; t: number }>();

  sample(
    scrapes: { id: string; startedAt?: number; routes: ScrapedRoute[] }[],
    deltas: DeltaTracker,
    t: number,
    seconds: number,
  ): RouteSample[] {
    const sum = new Map<string, { method: string; route: string; requests: number; failures: number; buckets: Map<number, number> }>();
    for (const { id, startedAt, routes } of scrapes) {
      const known = this.known.get(id);
      for (const r of routes) {
        const key = `${r.method} ${r.route}`;
        // prom-client prints a labelled series only once it has counted: a route new on a replica
        // scraped before counted from 0 since then, not a history to take as a baseline.
        const seed = known !== undefined && !known.routes.has(key);
        const observe = (name: string, value: number) => {
          if (seed) deltas.observe(`${id}:route:${key}:${name}`, 0, known.t, startedAt);
          return deltas.observe(`${id}:route:${key}:${name}`, value, t, startedAt)?.delta ?? 0;
        };
        let acc = sum.get(key);
        if (!acc) {
          acc = { method: r.method, route: r.route, requests: 0, failures: 0, buckets: new Map() };
          sum.set(key, acc);
        }
        acc.requests += observe('n', r.requests);
        acc.failures += observe('5xx', r.failures);
        // Cumulative buckets: the delta of each bound, then per-bucket counts below.
        let below = 0;
        for (const [le, cumulative] of r.buckets) {
          const d = observe(`le:${le}`, cumulative);
          acc.buckets.set(le, (acc.buckets.get(le) ?? 0) + Math.max(0, d - below));
          below = Math.max(below, d);
        }
      }
      this.known.set(id, { routes: new Set([...(known?.routes ?? []), ...routes.map((r) => `${r.method} ${r.route}`)]), t });
    }
    // Replicas gone from the scrapes are forgotten (a new one with the same id starts afresh).
    for (const id of this.known.keys()) if (!scrapes.some((s) => s.id === id)) this.known.delete(id);
    const out: RouteSample[] = [];
    for (const [key, acc] of sum) {
      const total = this.totals.get(key) ?? { requests: 0, failures: 0 };
      total.requests += acc.requests;
      total.failures += acc.failures;
      this.totals.set(key, total);
      const buckets = [...acc.buckets.entries()].sort((a, b) => a[0] - b[0]);
      const p50 = bucketQuantile(0.5, buckets);
      const p95 = bucketQuantile(0.95, buckets);
      out.push({
        method: acc.method,
        route: acc.route,
        rps: round(acc.requests / seconds),
        failuresPerSec: round(acc.failures / seconds),
        p50: p50 === null ? null : round(p50),
        p95: p95 === null ? null : round(p95),
        requests: total.requests,
        failures: total.failures,
      });
    }
    return out.sort((a, b) => b.requests - a.requests || a.route.localeCompare(b.route));
  }
}
