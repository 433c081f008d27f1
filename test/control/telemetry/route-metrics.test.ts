import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { DeltaTracker } from '../../../electron/control/telemetry/deltas.js';
import { parsePrometheusText } from '../../../electron/control/telemetry/prometheus-text.js';
import { bucketQuantile, RouteStats, routesOf } from '../../../electron/control/telemetry/route-metrics.js';

/** A replica's metrics as the api declares them (backend/api/metrics.ts), in a registry of its own. */
function replica() {
  const registry = new Registry();
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'h',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'h',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
    registers: [registry],
  });
  const serve = (method: string, route: string, status: number, seconds: number, n = 1) => {
    for (let i = 0; i < n; i += 1) {
      requests.inc({ method, route, status: String(status) });
      duration.observe({ method, route, status: String(status) }, seconds);
    }
  };
  return { serve, text: () => registry.metrics() };
}

describe('per-endpoint figures from the replicas', () => {
  it('sum each route over its status codes, 5xx as failures, with its cumulative latency buckets', async () => {
    const r = replica();
    r.serve('GET', '/users/:id', 200, 0.002, 8);
    r.serve('GET', '/users/:id', 404, 0.002, 1);
    r.serve('GET', '/users/:id', 500, 0.04, 1);
    r.serve('POST', '/users', 201, 0.02, 3);
    // The control plane's own probes and scrapes are not the users' endpoints.
    r.serve('HEAD', '/healthz', 200, 0.001, 5);
    r.serve('GET', '/metrics', 200, 0.003, 5);
    const routes = routesOf(parsePrometheusText(await r.text()));
    const get = routes.find((x) => x.route === '/users/:id')!;
    expect(get).toMatchObject({ method: 'GET', requests: 10, failures: 1 });
    expect(get.buckets.at(-1)).toEqual([Infinity, 10]);
    expect(get.buckets.find(([le]) => le === 2.5)).toEqual([2.5, 9]);
    expect(routes.find((x) => x.route === '/users')).toMatchObject({ method: 'POST', requests: 3, failures: 0 });
    expect(routes.map((x) => x.route).sort()).toEqual(['/users', '/users/:id']);
  });

  it('interpolate quantiles inside a bucket, as histogram_quantile does', () => {
    // 10 requests between 1 and 2.5 ms, 10 between 2.5 and 5 ms.
    const buckets: [number, number][] = [
      [1, 0],
      [2.5, 10],
      [5, 10],
      [Infinity, 0],
    ];
    expect(bucketQuantile(0.5, buckets)).toBeCloseTo(2.5);
    expect(bucketQuantile(0.25, buckets)).toBeCloseTo(1.75);
    expect(bucketQuantile(0.95, buckets)).toBeCloseTo(4.75);
    expect(bucketQuantile(0.5, [[1, 0]])).toBeNull();
    // Past the last finite bound the answer is that bound.
    expect(
      bucketQuantile(0.99, [
        [100, 1],
        [Infinity, 99],
      ]),
    ).toBe(100);
  });

  it('rate each route over the interval across replicas, with totals that keep growing', async () => {
    const [a, b] = [replica(), replica()];
    const deltas = new DeltaTracker();
    const stats = new RouteStats();
    const tick = async (t: number) => {
      deltas.beginTick(t);
      return stats.sample(
        [
          { id: 'api-1', startedAt: 0, routes: routesOf(parsePrometheusText(await a.text())) },
          { id: 'api-2', startedAt: 0, routes: routesOf(parsePrometheusText(await b.text())) },
        ],
        deltas,
        t,
        1,
      );
    };
    await tick(1_000); // baselines: the replicas ran before telemetry watched
    a.serve('GET', '/users/:id', 200, 0.002, 30);
    b.serve('GET', '/users/:id', 200, 0.02, 10);
    b.serve('GET', '/users/:id', 503, 0.002, 2);
    const first = await tick(2_000);
    expect(first[0]).toMatchObject({ method: 'GET', route: '/users/:id', rps: 42, failuresPerSec: 2, requests: 42, failures: 2 });
    // 32 of 42 between 1 and 2.5 ms: p50 inside that bucket; p95 among the slow ten (10–25 ms).
    expect(first[0]!.p50).toBeGreaterThan(1);
    expect(first[0]!.p50).toBeLessThanOrEqual(2.5);
    expect(first[0]!.p95).toBeGreaterThan(10);
    expect(first[0]!.p95).toBeLessThanOrEqual(25);
    a.serve('GET', '/users/:id', 200, 0.002, 5);
    const second = await tick(3_000);
    expect(second[0]).toMatchObject({ rps: 5, failuresPerSec: 0, requests: 47, failures: 2 });
    const idle = await tick(4_000);
    expect(idle[0]).toMatchObject({ rps: 0, p50: null, p95: null, requests: 47 });
  });
});
