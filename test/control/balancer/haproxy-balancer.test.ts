import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HaproxyBalancer } from '../../../electron/control/balancer/haproxy/haproxy-balancer.js';
import { isAlive } from '../../../electron/control/runtimes/local/adopted-process.js';
import { attachBalancer, launchBalancer, superviseBalancer } from '../../../electron/control/runtimes/local/balancer-launcher.js';
import { findHaproxy } from '../../../electron/control/runtimes/local/haproxy-launcher.js';
import { isOurs } from '../../../electron/control/runtimes/local/leftovers.js';
import { freePort } from '../../../electron/control/runtimes/local/ports.js';
import { eventually } from '../../backend/support/api.js';
import { rawRequest } from '../support/raw-http.js';

/**
 * The HAProxy engine of the stack's balancer (issue 19), driven as the local runtime drives it,
 * in front of small real HTTP upstreams that say who answered: routing to ready upstreams only,
 * drain on removal, one retry elsewhere of an idempotent request, the refusals of request-guard,
 * the counts and latency of a snapshot, re-attaching and starting again after a crash.
 */
const found = await findHaproxy();
const skip = 'missing' in found ? `skipped: ${found.missing} (install haproxy to test the HAProxy balancer)` : '';
if (skip) console.log(`haproxy-balancer: ${skip}`);

let dir: string;
let balancer: HaproxyBalancer;
const upstreams: {
  name: string;
  server: Server;
  origin: string;
  hits: number;
  delayMs: number;
  headers?: Record<string, string | string[] | undefined>;
}[] = [];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function upstream(name: string): Promise<(typeof upstreams)[number]> {
  const entry: (typeof upstreams)[number] = { name, server: createServer(), origin: '', hits: 0, delayMs: 0 };
  entry.server.on('request', (req, res) => {
    entry.hits += 1;
    entry.headers = req.headers;
    req.resume();
    setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end(name), entry.delayMs);
  });
  await new Promise<void>((resolve) => entry.server.listen(0, '127.0.0.1', resolve));
  entry.origin = `http://127.0.0.1:${(entry.server.address() as AddressInfo).port}`;
  upstreams.push(entry);
  return entry;
}

async function get(pathname = '/users/1', init: RequestInit = {}): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${balancer.port}${pathname}`, init);
  return { status: res.status, body: await res.text() };
}

async function routable(id: string): Promise<void> {
  await eventually(`${id} is routable`, async () => (await balancer.list()).some((u) => u.id === id && u.ready));
}

describe.skipIf(skip !== '')('the HAProxy balancer', () => {
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'scalelab-haproxy-'));
    balancer = await launchBalancer({ engine: 'haproxy', port: await freePort(), logFile: path.join(dir, 'balancer.log'), dir }, {});
  }, 30_000);

  afterAll(async () => {
    await balancer?.close();
    for (const u of upstreams) await new Promise((resolve) => u.server.close(resolve));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('runs as its own process, its configuration 0600 and its secret on no command line', async () => {
    const { pid, secret } = balancer.record;
    expect(await isOurs('haproxy', pid)).toBe(true);
    expect(pid).not.toBe(process.pid);
    expect((await stat(path.join(dir, 'scalelab-balancer.cfg'))).mode & 0o077).toBe(0);
    expect(execFileSync('ps', ['-eo', 'args']).toString()).not.toContain(secret);
  });

  it('answers 503 with no ready upstream, then routes only to ready ones, spreading the load', async () => {
    expect((await get()).status).toBe(503);
    const [a, b] = [await upstream('a'), await upstream('b')];
    balancer.add('api-1', a.origin);
    balancer.add('api-2', b.origin);
    balancer.setReady('api-1', true);
    await routable('api-1');
    for (let i = 0; i < 20; i += 1) expect((await get()).body).toBe('a');
    expect(b.hits).toBe(0);
    balancer.setReady('api-2', true);
    await routable('api-2');
    // leastconn with concurrent requests: both get a share.
    const bodies = await Promise.all(Array.from({ length: 40 }, () => get().then((r) => r.body)));
    expect(new Set(bodies)).toEqual(new Set(['a', 'b']));
  });

  it('refuses what is not for the replicas, as the Node balancer does', async () => {
    const port = balancer.port;
    expect((await get('/admin/faults')).status).toBe(404);
    expect((await get('/%61dmin/faults')).status).toBe(404);
    expect((await get('/users/%zz')).status).toBe(400);
    expect((await rawRequest(port, 'GET /users/1 HTTP/1.1\r\nHost: evil.example\r\n\r\n')).status).toBe(421);
    expect((await rawRequest(port, 'GET http://127.0.0.1/users/1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')).status).toBe(400);
    expect((await rawRequest(port, 'GET /users/1 HTTP/1.1\r\n\r\n')).status).toBe(400);
    expect((await get()).status).toBe(200);
  });

  it("writes the forwarding headers afresh and keeps the dashboard's cookie from the replicas", async () => {
    const headersFor = async (headers: Record<string, string>) => {
      const { body } = await get('/users/1', { headers });
      return upstreams.find((u) => u.name === body)!.headers!;
    };
    const spoofed = await headersFor({
      'x-forwarded-for': '203.0.113.9',
      forwarded: 'for=203.0.113.9',
      'x-real-ip': '203.0.113.9',
      cookie: 'a=1; scalelab_token=secret; b=2',
    });
    expect(spoofed['x-forwarded-for']).toBe('127.0.0.1');
    expect(spoofed.forwarded).toBeUndefined();
    expect(spoofed['x-real-ip']).toBeUndefined();
    expect(spoofed.cookie).toBe('a=1; b=2');
    expect((await headersFor({ cookie: 'scalelab_token=secret; b=2' })).cookie).toBe('b=2');
    expect((await headersFor({ cookie: 'a=1; scalelab_token=secret' })).cookie).toBe('a=1');
    expect((await headersFor({ cookie: 'scalelab_token=secret' })).cookie).toBeUndefined();
    // Only that cookie: one whose name merely ends in it stays.
    expect((await headersFor({ cookie: 'my_scalelab_token=1' })).cookie).toBe('my_scalelab_token=1');
  });

  it('counts every request exactly, by upstream and status, with latency from the sampled log lines', async () => {
    await balancer.takeSnapshot();
    const results = await Promise.all(Array.from({ length: 60 }, () => get()));
    await get('/admin');
    // Log lines travel by UDP: give the last ones a moment.
    await sleep(200);
    const snap = (await balancer.takeSnapshot())!;
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(snap.requests).toBe(61);
    expect(snap.status['2xx']).toBe(60);
    expect(snap.status['4xx']).toBe(1);
    expect((snap.upstreams['api-1']?.requests ?? 0) + (snap.upstreams['api-2']?.requests ?? 0)).toBe(60);
    expect(snap.latency.p50).toBeGreaterThan(0);
    expect(snap.upstreams['api-1']?.latency.p99 ?? snap.upstreams['api-2']?.latency.p99).toBeGreaterThan(0);
    expect(snap.totals.requests).toBeGreaterThanOrEqual(61);
  });

  it('sends a request whose connection was refused to another upstream', async () => {
    const gone = await upstream('gone');
    await new Promise((resolve) => gone.server.close(resolve));
    balancer.add('api-3', gone.origin);
    balancer.setReady('api-3', true);
    await routable('api-3');
    const gets = await Promise.all(Array.from({ length: 30 }, () => get()));
    expect(gets.map((r) => r.status)).toEqual(Array(30).fill(200));
    await balancer.remove('api-3', 2_000);
    expect((await balancer.list()).some((u) => u.id === 'api-3')).toBe(false);
  });

  it('retries once elsewhere an idempotent request whose upstream closed without answering, never a POST with a body', async () => {
    let broken = 0;
    const breaker = createServer((req) => {
      broken += 1;
      req.socket.destroy();
    });
    await new Promise<void>((resolve) => breaker.listen(0, '127.0.0.1', resolve));
    try {
      balancer.add('api-4', `http://127.0.0.1:${(breaker.address() as AddressInfo).port}`);
      balancer.setReady('api-4', true);
      await routable('api-4');
      const gets = await Promise.all(Array.from({ length: 20 }, () => get()));
      expect(gets.map((r) => r.status)).toEqual(Array(20).fill(200));
      expect(broken).toBeGreaterThan(0);
      broken = 0;
      const served = () => upstreams.reduce((sum, u) => sum + u.hits, 0);
      const before = served();
      const post = () =>
        get('/users', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"x"}' }).then(
          (r) => r.status,
          () => 0,
        );
      const posts = await Promise.all(Array.from({ length: 20 }, post));
      // Each POST reached exactly one upstream: the breaker's were not sent again. Their clients got
      // a 502, or a closed connection where HAProxy's server connection was a reused one (0 here).
      expect(broken).toBeGreaterThan(0);
      expect(served() - before + broken).toBe(20);
      expect(posts.filter((s) => s !== 200)).toHaveLength(broken);
      expect(posts.every((s) => s === 200 || s === 502 || s === 0)).toBe(true);
    } finally {
      await balancer.remove('api-4', 2_000);
      await new Promise((resolve) => breaker.close(resolve));
    }
  });

  it('drains on removal: an in-flight request finishes, new ones go elsewhere', async () => {
    const [a] = upstreams;
    a!.delayMs = 800;
    const slow = Promise.all(Array.from({ length: 4 }, () => get()));
    await sleep(200);
    const started = Date.now();
    await balancer.remove('api-1', 10_000);
    const waited = Date.now() - started;
    a!.delayMs = 0;
    const results = await slow;
    expect(results.every((r) => r.status === 200)).toBe(true);
    // remove() waited for the slow ones that went to api-1 (if any did), and api-1 gets nothing now.
    if (results.some((r) => r.body === 'a')) expect(waited).toBeGreaterThan(300);
    const hits = a!.hits;
    for (let i = 0; i < 10; i += 1) expect((await get()).body).toBe('b');
    expect(a!.hits).toBe(hits);
  });

  it('a new control plane re-attaches and keeps the slots; a crashed HAProxy is started again with them', async () => {
    const record = balancer.record;
    await balancer.detach();
    const attached = (await attachBalancer(record, {})) as HaproxyBalancer;
    expect(attached.record.pid).toBe(record.pid);
    balancer = attached;
    const b = upstreams[1]!;
    balancer.add('api-2', b.origin);
    expect((await get()).body).toBe('b');
    const messages: string[] = [];
    const stop = superviseBalancer(balancer, { port: balancer.port, logFile: path.join(dir, 'balancer.log'), dir }, (m) =>
      messages.push(m),
    );
    try {
      process.kill(record.pid, 'SIGKILL');
      await eventually('HAProxy was started again', async () => messages.length > 0 && isAlive(balancer.record.pid), 15_000);
      expect(messages[0]).toMatch(/started it again/);
      expect(balancer.record.pid).not.toBe(record.pid);
      await eventually('the new HAProxy routes to api-2', async () => (await get().catch(() => ({ body: '' }))).body === 'b', 10_000);
    } finally {
      stop();
    }
  }, 40_000);
});
