import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Balancer } from '../../../electron/control/balancer/balancer.js';
import { hopOf, hopSamplingFromEnv } from '../../../electron/control/balancer/trace-hop.js';
import type { StoredSpan } from '../../../electron/control/traces/otlp-json.js';
import { TraceStore } from '../../../electron/control/traces/trace-store.js';

/** The balancer's hop in a trace: a real balancer in front of a real upstream that reports the traceparent it got. */
describe('the balancer in a trace', () => {
  let upstream: Server;
  let balancer: Balancer;
  let url: string;
  let sink: ((span: StoredSpan) => void) | undefined;
  const spans: StoredSpan[] = [];

  beforeAll(async () => {
    upstream = createServer((req, res) => {
      setTimeout(
        () =>
          res
            .writeHead(req.url === '/missing' ? 404 : req.url === '/fail' ? 500 : 200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ traceparent: req.headers.traceparent ?? null })),
        20,
      );
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    balancer = new Balancer({ port: 0, traceSink: () => sink });
    const port = await balancer.listen();
    balancer.add('api-1', `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`);
    balancer.setReady('api-1', true);
    url = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await balancer.close();
    await new Promise((resolve) => upstream.close(resolve));
  });

  async function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; forwarded: string | null }> {
    const res = await fetch(`${url}${path}`, { headers });
    const body = (await res.json()) as { traceparent: string | null };
    // The span is recorded once the answer is sent; give the close event a moment.
    await new Promise((resolve) => setTimeout(resolve, 20));
    return { status: res.status, forwarded: body.traceparent };
  }

  it('passes headers through untouched when traces do not come to this control plane', async () => {
    sink = undefined;
    expect((await get('/users/1')).forwarded).toBeNull();
    expect((await get('/users/1', { traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01` })).forwarded).toBe(
      `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`,
    );
  });

  it("continues a client's trace: its span is the hop's parent, the hop the replica's parent", async () => {
    spans.length = 0;
    sink = (span) => spans.push(span);
    const { forwarded } = await get('/users/1', { traceparent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01` });
    expect(spans).toHaveLength(1);
    const [hop] = spans;
    expect(hop).toMatchObject({
      traceId: '1'.repeat(32),
      parentSpanId: '2'.repeat(16),
      service: 'scalelab-balancer',
      kind: 'server',
      name: 'balancer GET',
    });
    expect(hop!.attributes).toMatchObject({ 'url.path': '/users/1', 'http.response.status_code': '200', 'scalelab.upstream': 'api-1' });
    expect(forwarded).toBe(`00-${'1'.repeat(32)}-${hop!.spanId}-01`);
    expect(hop!.endMs - hop!.startMs).toBeGreaterThanOrEqual(15);
  });

  it('starts a sampled trace for a client without one, and records nothing for an unsampled one', async () => {
    spans.length = 0;
    const started = await get('/users/2');
    expect(spans).toHaveLength(1);
    expect(spans[0]!.parentSpanId).toBeNull();
    expect(started.forwarded).toBe(`00-${spans[0]!.traceId}-${spans[0]!.spanId}-01`);
    const unsampled = await get('/users/3', { traceparent: `00-${'3'.repeat(32)}-${'4'.repeat(16)}-00` });
    expect(spans).toHaveLength(1);
    expect(unsampled.forwarded).toMatch(new RegExp(`^00-${'3'.repeat(32)}-[0-9a-f]{16}-00$`));
    // A malformed header starts a new trace rather than passing garbage on.
    expect((await get('/users/4', { traceparent: 'garbage' })).forwarded).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it("a trace rooted at the balancer is listed under the api's route and status", () => {
    const store = new TraceStore();
    const hop = spans[0]!;
    store.add([
      hop,
      {
        traceId: hop.traceId,
        spanId: 'c'.repeat(16),
        parentSpanId: hop.spanId,
        name: 'GET /users/:id',
        service: 'scalelab-api',
        kind: 'server',
        startMs: hop.startMs + 1,
        endMs: hop.endMs - 1,
        attributes: { 'http.route': '/users/:id', 'http.request.method': 'GET', 'http.response.status_code': '200' },
        status: { code: 'unset' },
        links: [],
      },
    ]);
    const [summary] = store.list({ from: 0, to: Number.MAX_SAFE_INTEGER });
    expect(summary).toMatchObject({ name: 'GET /users/:id', route: '/users/:id', status: 200, service: 'scalelab-api', spanCount: 2 });
    expect(summary!.durationMs).toBeCloseTo(hop.endMs - hop.startMs, 1);
  });

  it('records an unsampled hop that failed, marked timing only, and not an unsampled one that went well', async () => {
    spans.length = 0;
    sink = (span) => spans.push(span);
    await get('/users/5', { traceparent: `00-${'5'.repeat(32)}-${'6'.repeat(16)}-00` });
    expect(spans).toHaveLength(0);
    const failed = await get('/fail', { traceparent: `00-${'7'.repeat(32)}-${'8'.repeat(16)}-00` });
    expect(failed.status).toBe(500);
    expect(spans).toHaveLength(1);
    expect(spans[0]).toMatchObject({ traceId: '7'.repeat(32), parentSpanId: '8'.repeat(16), status: { code: 'error' } });
    expect(spans[0]!.attributes).toMatchObject({
      'scalelab.sampling': 'unsampled: timing only',
      'scalelab.kept': 'error',
      'http.response.status_code': '500',
    });
    // The replica is told the trace is not sampled, so it records its own span of it the same way.
    expect(failed.forwarded).toMatch(new RegExp(`^00-${'7'.repeat(32)}-${spans[0]!.spanId}-00$`));
  });
});

describe('the balancer samples the traces it starts', () => {
  it("starts at most OTEL_TRACES_SAMPLER_ARG sampled traces a second, and follows a client's flag whatever the budget", () => {
    const sampling = hopSamplingFromEnv({ OTEL_TRACES_SAMPLER: 'parentbased_ratelimited', OTEL_TRACES_SAMPLER_ARG: '5' });
    const started = Date.now();
    const hops = Array.from({ length: 200 }, () => hopOf(undefined, sampling));
    const seconds = Math.floor(Date.now() / 1000) - Math.floor(started / 1000) + 1;
    const sampled = hops.filter((h) => h.sampled).length;
    expect(sampled).toBeGreaterThanOrEqual(5);
    expect(sampled).toBeLessThanOrEqual(5 * seconds);
    expect(hopOf(`00-${'9'.repeat(32)}-${'a'.repeat(16)}-01`, sampling).sampled).toBe(true);
    expect(hopOf(undefined, hopSamplingFromEnv({ OTEL_TRACES_SAMPLER: 'always_on' })).sampled).toBe(true);
    expect(hopOf(undefined, hopSamplingFromEnv({ OTEL_TRACES_SAMPLER: 'always_off' })).sampled).toBe(false);
  });
});
