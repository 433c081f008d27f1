import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RemoteBalancer } from '../../../electron/control/balancer/remote-balancer.js';
import { launchBalancer } from '../../../electron/control/runtimes/local/balancer-launcher.js';
import { freePort } from '../../../electron/control/runtimes/local/ports.js';
import type { StoredSpan } from '../../../electron/control/traces/otlp-json.js';
import { eventually } from '../../backend/support/api.js';
import { makeTempHome, removeTempHome } from '../../support/temp-home.js';
import { rawRequest } from '../support/raw-http.js';

/**
 * The balancer process as the control plane drives it: its token-guarded control API, the trace
 * hop's spans collected from it, drain, readiness and per-upstream counts, against real upstreams.
 */
let dir: string;
let balancer: RemoteBalancer;
let tracing = true;
const spans: StoredSpan[] = [];
const upstreams: Server[] = [];
const seen: { upstream: string; url: string; headers: IncomingHttpHeaders }[] = [];

async function upstream(name: string, delayMs = 0): Promise<string> {
  const server = createServer((req, res) => {
    seen.push({ upstream: name, url: req.url ?? '', headers: req.headers });
    setTimeout(
      () => res.writeHead(req.url === '/missing' ? 404 : 200, { 'content-type': 'application/json' }).end(JSON.stringify({ name })),
      req.url === '/slow' ? 1_500 : delayMs,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  upstreams.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const url = (path: string) => `http://127.0.0.1:${balancer.port}${path}`;

beforeAll(async () => {
  dir = await makeTempHome('scalelab-balancer-api-');
  balancer = await launchBalancer(
    { port: await freePort(), logFile: `${dir}/balancer.log` },
    { traceSink: () => (tracing ? (span) => spans.push(span) : undefined), spanPollMs: 200 },
  );
  balancer.add('api-1', await upstream('api-1'));
  balancer.add('api-2', await upstream('api-2'));
  balancer.setReady('api-1', true);
  balancer.setReady('api-2', true);
  await eventually('both upstreams routable', async () => (await balancer.list()).filter((u) => u.ready).length === 2);
}, 60_000);

afterAll(async () => {
  await balancer?.close();
  for (const server of upstreams) await new Promise((resolve) => server.close(resolve));
  await removeTempHome(dir);
});

describe('the balancer process and its control API', () => {
  it('refuses calls without the token or from a foreign Host', async () => {
    const { controlPort, token } = balancer.record;
    expect((await fetch(`http://127.0.0.1:${controlPort}/state`)).status).toBe(401);
    expect((await fetch(`http://127.0.0.1:${controlPort}/state`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect(
      (await rawRequest(controlPort, `GET /state HTTP/1.1\r\nHost: evil.example\r\nAuthorization: Bearer ${token}\r\n\r\n`)).status,
    ).toBe(421);
    const bad = await fetch(`http://127.0.0.1:${controlPort}/upstreams/api-9`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ origin: 'file:///etc/passwd', ready: true }),
    });
    expect(bad.status).toBe(400);
    expect((await balancer.list()).map((u) => u.id).sort()).toEqual(['api-1', 'api-2']);
  });

  it('routes to both ready upstreams and counts them, per upstream and per status', async () => {
    await balancer.takeSnapshot();
    for (let i = 0; i < 20; i += 1) await (await fetch(url('/users/1'))).arrayBuffer();
    await (await fetch(url('/missing'))).arrayBuffer();
    const snapshot = (await balancer.takeSnapshot())!;
    expect(snapshot.requests).toBe(21);
    expect(snapshot.status['4xx']).toBe(1);
    expect(snapshot.upstreams['api-1']!.requests).toBeGreaterThan(0);
    expect(snapshot.upstreams['api-2']!.requests).toBeGreaterThan(0);
    expect(snapshot.latency.p50).not.toBeNull();
  });

  it("hands its hop's spans to the control plane: the client's span is its parent, it is the replica's", async () => {
    seen.length = 0;
    await (await fetch(url('/users/7'), { headers: { traceparent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01` } })).arrayBuffer();
    const hop = () => spans.find((s) => s.traceId === '1'.repeat(32));
    await eventually('the hop span was collected', async () => hop() !== undefined, 5_000);
    expect(hop()).toMatchObject({ parentSpanId: '2'.repeat(16), service: 'scalelab-balancer', name: 'balancer GET' });
    expect(seen.at(-1)!.headers.traceparent).toBe(`00-${'1'.repeat(32)}-${hop()!.spanId}-01`);
    // Tracing off in the control plane: the next collection turns the hop off, headers pass untouched.
    tracing = false;
    await new Promise((resolve) => setTimeout(resolve, 600));
    await (await fetch(url('/users/8'), { headers: { traceparent: `00-${'3'.repeat(32)}-${'4'.repeat(16)}-01` } })).arrayBuffer();
    expect(seen.at(-1)!.headers.traceparent).toBe(`00-${'3'.repeat(32)}-${'4'.repeat(16)}-01`);
    tracing = true;
  });

  it('an unready upstream gets nothing; remove waits for its in-flight request, which completes', async () => {
    balancer.setReady('api-2', false);
    await eventually('api-2 unready', async () => (await balancer.list()).some((u) => u.id === 'api-2' && !u.ready));
    seen.length = 0;
    for (let i = 0; i < 6; i += 1) await (await fetch(url('/users/1'))).arrayBuffer();
    expect(seen.every((s) => s.upstream === 'api-1')).toBe(true);
    const slow = fetch(url('/slow'));
    await eventually(
      'the slow request is in flight',
      async () => (await balancer.list()).some((u) => u.id === 'api-1' && u.inFlight === 1),
      2_000,
    );
    const started = Date.now();
    balancer.setReady('api-2', true);
    await balancer.remove('api-1', 10_000);
    expect(Date.now() - started).toBeGreaterThan(800);
    expect((await slow).status).toBe(200);
    expect((await balancer.list()).map((u) => u.id)).toEqual(['api-2']);
    expect((await fetch(url('/users/1'))).status).toBe(200);
  });
});
