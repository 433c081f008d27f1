import { execFile } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RemoteBalancer } from '../../../electron/control/balancer/remote-balancer.js';
import { isOurs } from '../../../electron/control/runtimes/local/leftovers.js';
import { launchBalancer } from '../../../electron/control/runtimes/local/balancer-launcher.js';
import { freePort } from '../../../electron/control/runtimes/local/ports.js';
import { eventually } from '../../backend/support/api.js';
import { startApiProcess, type BackendChild } from '../../backend/support/process.js';
import { startStores, type Stores } from '../../backend/support/stores.js';
import { rawRequest } from '../support/raw-http.js';
import { steadyTraffic } from '../support/steady-traffic.js';

/**
 * Issue 20's balancer rows, replayed against the real balancer process (as the local runtime
 * starts it, driven through its control API): in front of a real api replica
 * (PostgreSQL, Redis) where the replica's own behaviour matters (its body limit, its /admin
 * hooks), in front of a small real HTTP upstream that reports what reached it elsewhere.
 */
const run = promisify(execFile);
const ADMIN_TOKEN = 'robustness-admin-token-0123456789';
const MiB = 1024 * 1024;

let stores: Stores;
let api: BackendChild & { url: string };
let echo: Server;
/** What the echo upstream received, newest last. */
const seen: { method: string; url: string; headers: IncomingHttpHeaders; bytes: number }[] = [];
let front: RemoteBalancer;
let frontPort: number;
let echoFront: RemoteBalancer;
let echoPort: number;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  stores = await startStores();
  api = await startApiProcess(stores.dir, { DATABASE_URL: stores.databaseUrl, REDIS_URL: stores.redisUrl, ADMIN_TOKEN });
  echo = createServer((req, res) => {
    let bytes = 0;
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, bytes });
      if (seen.length > 1_000) seen.shift();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, bytes }));
    });
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  front = await startFront('front', 'api-1', api.url);
  frontPort = front.port;
  echoFront = await startFront('echo-front', 'echo-1', `http://127.0.0.1:${(echo.address() as AddressInfo).port}`);
  echoPort = echoFront.port;
  const created = await fetch(`http://127.0.0.1:${frontPort}/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Ada', email: `ada-${Date.now()}@example.com` }),
  });
  expect(created.status).toBe(201);
}, 120_000);

afterAll(async () => {
  await front?.close();
  await echoFront?.close();
  await new Promise((resolve) => echo?.close(resolve));
  api?.child.kill('SIGTERM');
  await api?.exited;
  await stores?.stop();
});

/** A balancer process in front of one upstream, routable once this resolves. */
async function startFront(name: string, id: string, origin: string): Promise<RemoteBalancer> {
  const balancer = await launchBalancer({ port: await freePort(), logFile: `${stores.dir}/${name}.log` }, {});
  await addReady(balancer, id, origin);
  return balancer;
}

async function addReady(balancer: RemoteBalancer, id: string, origin: string): Promise<void> {
  balancer.add(id, origin);
  balancer.setReady(id, true);
  await eventually(`${id} is routable`, async () => (await balancer.list()).some((u) => u.id === id && u.ready));
}

/** An ordinary client's loops (GETs, a POST in five) through the balancer on `port`, every failure recorded. */
const clientLoop = (port: number, concurrency = 2) => steadyTraffic(`http://127.0.0.1:${port}`, concurrency);

/** The balancer process is still there (the same pid) and still routes. */
async function expectServing(port: number, path: string): Promise<void> {
  const balancer = port === frontPort ? front : echoFront;
  expect(await isOurs('balancer', balancer.record.pid)).toBe(true);
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  await res.arrayBuffer();
  expect(res.status).toBe(200);
}

describe('the balancer under hostile requests (issue 20)', () => {
  it("row 3: 2 MiB bodies the replica stops reading get the replica's own 4xx (or 502), and ordinary GETs never see a 503", async () => {
    const gets = clientLoop(frontPort);
    const body = Buffer.alloc(2 * MiB, 'a');
    const statuses: (number | string)[] = [];
    const dispatcher = new Agent({ connections: 4 });
    const postLoop = async () => {
      for (let i = 0; i < 10; i += 1) {
        try {
          const res = await request(`http://127.0.0.1:${frontPort}/users`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body,
            dispatcher,
          });
          await res.body.arrayBuffer();
          statuses.push(res.statusCode);
        } catch (err) {
          statuses.push((err as Error).message);
        }
      }
    };
    await Promise.all(Array.from({ length: 4 }, postLoop));
    await sleep(300);
    await gets.stop();
    await dispatcher.close();
    expect(statuses, statuses.join(', ')).toHaveLength(40);
    // The replica's answer when it arrived (this api says 400 "body must be at most 16 KiB"), 502
    // when the replica closed before its answer could be read; never a dropped client connection.
    const replicaAnswer = (s: number | string) => typeof s === 'number' && s >= 400 && s < 500;
    expect(
      statuses.every((s) => replicaAnswer(s) || s === 502),
      statuses.join(', '),
    ).toBe(true);
    expect(statuses.filter(replicaAnswer).length).toBeGreaterThan(0);
    expect(gets.failures).toEqual([]);
    expect(gets.ok()).toBeGreaterThan(20);
    await expectServing(frontPort, '/users/1');
  });

  it('row 3, the other case: a replica that refuses connections is skipped, and the requests it never saw go to the other', async () => {
    const dead = createServer();
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
    const deadPort = (dead.address() as AddressInfo).port;
    await new Promise((resolve) => dead.close(resolve));
    await addReady(echoFront, 'dead-1', `http://127.0.0.1:${deadPort}`);
    await echoFront.takeSnapshot();
    const gets = clientLoop(echoPort, 4);
    await sleep(1_000);
    await gets.stop();
    await echoFront.remove('dead-1');
    expect(gets.failures).toEqual([]);
    const snapshot = (await echoFront.takeSnapshot())!;
    // Ejected after its first refusal: only the first try or two in an eject window went to it.
    expect(snapshot.upstreams['dead-1']?.errors ?? 0).toBeLessThanOrEqual(4);
    expect(snapshot.upstreams['echo-1']!.requests).toBeGreaterThan(10);
  });

  it('row 11: Expect: 100-continue works as curl uses it, and a refused request is refused before its body', async () => {
    const gets = clientLoop(frontPort);
    const payload = JSON.stringify({ name: 'Curl', email: `curl-${Date.now()}@example.com`, pad: undefined });
    // curl sends Expect: 100-continue for bodies over 1 KiB; -H forces it for a small one too.
    const { stdout } = await run('curl', [
      '-s',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '-H',
      'Expect: 100-continue',
      '-H',
      'content-type: application/json',
      '--data-binary',
      payload,
      `http://127.0.0.1:${frontPort}/users`,
    ]);
    expect(stdout).toBe('201');
    const big = await run('curl', [
      '-s',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '-H',
      'content-type: application/json',
      '--data-binary',
      `{"name":"${'x'.repeat(4_000)}","email":"e@example.com"}`,
      `http://127.0.0.1:${frontPort}/users`,
    ]);
    expect(Number(big.stdout)).toBeGreaterThanOrEqual(400);
    expect(Number(big.stdout)).toBeLessThan(500);
    const refused = await rawRequest(
      frontPort,
      `POST /admin/faults/errors HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\ncontent-type: application/json\r\ncontent-length: 10\r\n\r\n`,
    );
    expect(refused.status).toBe(404);
    expect(refused.text).not.toContain('100 Continue');
    const other = await rawRequest(
      frontPort,
      `POST /users HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: something-else\r\ncontent-length: 0\r\n\r\n`,
    );
    expect(other.status).toBe(417);
    await gets.stop();
    expect(gets.failures).toEqual([]);
    await expectServing(frontPort, '/users/1');
  });

  it('row 12: /admin is not reachable through the balancer in any spelling, and a foreign Host is refused', async () => {
    const gets = clientLoop(frontPort);
    const auth = `Authorization: Bearer ${ADMIN_TOKEN}\r\n`;
    for (const target of [
      '/admin/faults',
      '//admin/faults',
      '/ADMIN/faults',
      '/%61dmin/faults',
      '/users/../admin/faults',
      '/./admin/faults',
      '/admin;x/faults',
      '/admin',
    ]) {
      const answer = await rawRequest(frontPort, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${frontPort}\r\n${auth}\r\n`);
      expect(answer.status, target).toBe(404);
    }
    const put = await rawRequest(
      frontPort,
      `PUT /admin/faults/errors HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth}content-type: application/json\r\ncontent-length: 10\r\n\r\n{"rate":1}`,
    );
    expect(put.status).toBe(404);
    // The hook is there on the replica's own port (where chaos calls it), and nothing was injected.
    const direct = await fetch(`${api.url}/admin/faults`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(direct.status).toBe(200);
    expect(((await direct.json()) as { errorRate: number }).errorRate).toBe(0);
    for (const host of ['evil.example', `evil.example:${frontPort}`, '127.0.0.1.nip.io', 'localhost.evil.example', '10.0.0.1']) {
      expect((await rawRequest(frontPort, `GET /users/1 HTTP/1.1\r\nHost: ${host}\r\n\r\n`)).status, host).toBe(421);
    }
    expect((await rawRequest(frontPort, 'GET /users/1 HTTP/1.0\r\n\r\n')).status).toBe(400);
    for (const host of ['127.0.0.1', `127.0.0.1:${frontPort}`, 'localhost', `LocalHost:${frontPort}`, `[::1]:${frontPort}`]) {
      expect((await rawRequest(frontPort, `GET /users/1 HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)).status, host).toBe(200);
    }
    await gets.stop();
    expect(gets.failures).toEqual([]);
    await expectServing(frontPort, '/users/1');
  });

  it("row 16 and row 8: X-Forwarded-For is the client's socket address, and the dashboard cookie never reaches a replica", async () => {
    seen.length = 0;
    await fetch(`http://127.0.0.1:${echoPort}/who`, {
      headers: {
        'x-forwarded-for': '203.0.113.9',
        forwarded: 'for=203.0.113.9',
        'x-real-ip': '203.0.113.9',
        cookie: 'theme=dark; scalelab_token=secret-dashboard-token; lang=en',
      },
    });
    await fetch(`http://127.0.0.1:${echoPort}/only-token`, { headers: { cookie: 'scalelab_token=secret-dashboard-token' } });
    const [who, only] = seen;
    expect(who!.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(who!.headers.forwarded).toBeUndefined();
    expect(who!.headers['x-real-ip']).toBeUndefined();
    expect(who!.headers.cookie).toBe('theme=dark; lang=en');
    expect(only!.headers.cookie).toBeUndefined();
    expect(JSON.stringify(seen)).not.toContain('secret-dashboard-token');
  });

  it('bad request lines, targets and headers get a 4xx, and the balancer keeps serving', async () => {
    const gets = clientLoop(frontPort);
    const host = 'Host: 127.0.0.1\r\n';
    const cases: [string, string][] = [
      ['GET //[ HTTP/1.1', `GET //[ HTTP/1.1\r\n${host}\r\n`],
      ['GET /%', `GET /% HTTP/1.1\r\n${host}\r\n`],
      ['GET /%E0%A4%A', `GET /%E0%A4%A HTTP/1.1\r\n${host}\r\n`],
      ['absolute-form', `GET http://127.0.0.1/users/1 HTTP/1.1\r\n${host}\r\n`],
      ['asterisk', `OPTIONS * HTTP/1.1\r\n${host}\r\n`],
      ['CONNECT', `CONNECT 127.0.0.1:22 HTTP/1.1\r\n${host}\r\n`],
      ['garbage method', `G@T /users/1 HTTP/1.1\r\n${host}\r\n`],
      ['header without colon', `GET /users/1 HTTP/1.1\r\n${host}bogus\r\n\r\n`],
      ['NUL in a header', `GET /users/1 HTTP/1.1\r\n${host}x-a: a\0b\r\n\r\n`],
      ['huge header', `GET /users/1 HTTP/1.1\r\n${host}x-big: ${'a'.repeat(20_000)}\r\n\r\n`],
      ['CL and TE', `POST /users HTTP/1.1\r\n${host}content-length: 4\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n`],
      ['two lengths', `POST /users HTTP/1.1\r\n${host}content-length: 4\r\ncontent-length: 5\r\n\r\nabcde`],
      [
        'bad chunk',
        `POST /users HTTP/1.1\r\n${host}transfer-encoding: chunked\r\ncontent-type: application/json\r\n\r\nzz\r\nabc\r\n0\r\n\r\n`,
      ],
      [
        'websocket upgrade to a bad target',
        `GET //[ HTTP/1.1\r\n${host}Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
      ],
      ['raw non-ASCII target', `GET /us\xe9rs HTTP/1.1\r\n${host}\r\n`],
    ];
    for (const [name, bytes] of cases) {
      const answer = await rawRequest(frontPort, Buffer.from(bytes, 'latin1'));
      expect(answer.status, `${name}: ${answer.text.slice(0, 80)}`).toBeGreaterThanOrEqual(400);
      expect(answer.status, name).toBeLessThan(500);
    }
    await gets.stop();
    expect(gets.failures).toEqual([]);
    await expectServing(frontPort, '/users/1');
  });

  it('a seeded fuzz of request lines, headers and bodies never gets a 5xx from the balancer nor ends it', async () => {
    const gets = clientLoop(echoPort);
    const token = fc.stringMatching(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,12}$/);
    const targetChar = fc.constantFrom(
      ...'abcAZ09/-._~!$&\'()*+,;=:@%?#[]{}<>\\^`|"'.split(''),
      '%41',
      '%2F',
      '%2e',
      '%00',
      '%ZZ',
      '%',
      ' ',
      '\t',
      '\xe9',
      '\x7f',
      'admin',
    );
    const target = fc.oneof(
      fc.array(targetChar, { maxLength: 24 }).map((parts) => `/${parts.join('')}`),
      fc.constantFrom('*', 'http://127.0.0.1/x', '//[', '', '/admin/faults'),
    );
    const headerValue = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom('100-continue', 'chunked', '0', '-1', '99999999999999999999', 'scalelab_token=x; a=b', '127.0.0.1', 'evil.example'),
    );
    const header = fc.tuple(
      fc.oneof(
        { weight: 3, arbitrary: token },
        {
          weight: 1,
          arbitrary: fc.constantFrom(
            'host',
            'expect',
            'content-length',
            'transfer-encoding',
            'connection',
            'cookie',
            'x-forwarded-for',
            'upgrade',
            'te',
            'trailer',
          ),
        },
      ),
      headerValue,
    );
    const requestCase = fc.record({
      method: fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'TRACE', 'CONNECT') },
        { weight: 1, arbitrary: token },
      ),
      target,
      version: fc.oneof(
        { weight: 4, arbitrary: fc.constant('HTTP/1.1') },
        { weight: 1, arbitrary: fc.constantFrom('HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1 x', '') },
      ),
      hostHeader: fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom('127.0.0.1', 'localhost') },
        { weight: 1, arbitrary: fc.constantFrom('evil.example', null) },
      ),
      headers: fc.array(header, { maxLength: 4 }),
      body: fc.uint8Array({ maxLength: 2_048 }),
      framing: fc.constantFrom('length', 'chunked', 'none'),
    });
    const answers: { status: number; text: string; sent: string }[] = [];
    await fc.assert(
      fc.asyncProperty(requestCase, async (c) => {
        const lines = [`${c.method} ${c.target} ${c.version}`.trimEnd()];
        if (c.hostHeader) lines.push(`Host: ${c.hostHeader}`);
        for (const [name, value] of c.headers) lines.push(`${name}: ${value.replace(/[\r\n]/g, ' ')}`);
        const body = Buffer.from(c.body);
        if (c.framing === 'length') lines.push(`Content-Length: ${body.length}`);
        if (c.framing === 'chunked') lines.push('Transfer-Encoding: chunked');
        lines.push('Connection: close');
        const framed =
          c.framing === 'chunked'
            ? Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')])
            : c.framing === 'length'
              ? body
              : Buffer.alloc(0);
        const bytes = Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), framed]);
        const answer = await rawRequest(echoPort, bytes, { timeoutMs: 3_000 });
        answers.push({ ...answer, sent: bytes.subarray(0, 200).toString('latin1') });
        // Every answer is the upstream's 200 or the balancer's 1xx–4xx; silence (a request Node
        // still waits on) is allowed only when the framing left it waiting for more.
        return answer.status < 500;
      }),
      { seed: 20_2026, numRuns: 200, endOnFailure: true },
    );
    await gets.stop();
    expect(gets.failures).toEqual([]);
    await expectServing(echoPort, '/after-fuzz');
    // The fuzz reached both sides: some requests passed to the upstream, some were refused.
    expect(answers.filter((a) => a.status === 200).length).toBeGreaterThan(10);
    expect(answers.filter((a) => a.status >= 400).length).toBeGreaterThan(10);
  }, 120_000);
});
