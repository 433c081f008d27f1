import { request } from 'node:http';
import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStores, type Stores } from './support/stores.js';
import { call, startApi, type RunningApi } from './support/api.js';

let stores: Stores;
let api: RunningApi;
let port: number;

beforeAll(async () => {
  stores = await startStores();
  api = await startApi({ DATABASE_URL: stores.databaseUrl, REDIS_URL: stores.redisUrl, ADMIN_TOKEN: 'fuzz-admin-token-0123456789' });
  port = Number(new URL(api.url).port);
  await call(`${api.url}/users`, 'POST', { name: 'Seed', email: 'seed@example.com' });
});

afterAll(async () => {
  await api?.close();
  await stores?.stop();
});

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
}

/** Sends one request as given, without a client library's opinions; resolves with the status. */
function send(req: FuzzRequest): Promise<number> {
  return new Promise((resolve, reject) => {
    let status: number | undefined;
    const r = request({ host: '127.0.0.1', port, method: req.method, path: req.path, headers: req.headers, agent: false }, (res) => {
      status = res.statusCode ?? 0;
      res.resume();
      res.on('end', () => resolve(status!));
    });
    // A server may answer a bad request before reading its body, then close: the status stands.
    r.on('error', (err) => (status === undefined ? reject(err) : resolve(status)));
    r.setTimeout(10_000, () => r.destroy(new Error('timeout')));
    r.end(req.body);
  });
}

const printable = fc.string({ unit: fc.constantFrom(...'abcXYZ019 -_.~!*()\'";:@&=+$,/?%#[]{}<>\\^`|'.split('')), maxLength: 40 });
const idLike = fc.oneof(
  fc.integer().map(String),
  fc.double().map(String),
  fc.bigInt().map(String),
  fc.constantFrom(
    '0',
    '-1',
    '1',
    '1e309',
    'NaN',
    'Infinity',
    '0x10',
    '%00',
    '..%2f..',
    '99999999999999999999999',
    '9007199254740993',
    '%201',
  ),
  fc.string({ maxLength: 30 }).map(encodeURIComponent),
);
const path = fc.oneof(
  fc.constant('/users'),
  idLike.map((id) => `/users/${id}`),
  idLike.map((id) => `/users/${id}/send-email`),
  fc.tuple(idLike, printable).map(([limit, cursor]) => `/users?limit=${encodeURIComponent(limit)}&cursor=${encodeURIComponent(cursor)}`),
  printable.map((p) => `/users?${encodeURIComponent(p)}=${encodeURIComponent(p)}`),
  fc.constantFrom(
    '/admin/faults',
    '/admin/faults/latency',
    '/docs/json',
    '/readyz',
    '/users//1',
    '/users/1/../1',
    '/%',
    '/users?limit=1&limit=2',
  ),
);
const json = fc.oneof(
  fc.record(
    {
      name: fc.oneof(fc.string({ maxLength: 300 }), fc.integer(), fc.constant(null)),
      email: fc.oneof(fc.emailAddress(), fc.string(), fc.constant(null)),
    },
    { requiredKeys: [] },
  ),
  fc.jsonValue({ maxDepth: 4 }),
  fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 8 }),
);
const body = fc.oneof(
  json.map((value) => Buffer.from(JSON.stringify(value) ?? 'null')),
  fc.string({ maxLength: 200 }).map((text) => Buffer.from(text)),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
  fc.constant(undefined),
);
const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'application/json;;;',
  '*/*',
  '',
);
const fuzzRequest: fc.Arbitrary<FuzzRequest> = fc
  .record({
    method: fc.constantFrom('GET', 'POST', 'PATCH', 'DELETE', 'PUT', 'HEAD', 'OPTIONS'),
    path,
    contentType,
    extra: fc.dictionary(
      fc.constantFrom('idempotency-key', 'x-forwarded-for', 'authorization', 'accept', 'x-request-id', 'accept-encoding'),
      printable,
      { maxKeys: 4 },
    ),
    body,
  })
  .map(({ method, path: p, contentType: type, extra, body: b }) => {
    const headers: Record<string, string> = { ...extra };
    if (type) headers['content-type'] = type;
    const sent = method === 'GET' || method === 'HEAD' ? undefined : b;
    // Mostly a Content-Length, as clients send; sometimes chunked, which node picks without one.
    if (sent && sent.length % 4 !== 0) headers['content-length'] = String(sent.length);
    return { method, path: p, headers, body: sent };
  });

describe('random and malformed input', () => {
  it('never produces a 5xx: bodies, ids, query strings and headers', async () => {
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(fuzzRequest, async (req) => {
        const status = await send(req);
        seen.set(status, (seen.get(status) ?? 0) + 1);
        if (status >= 500)
          throw new Error(`${req.method} ${req.path} ${JSON.stringify(req.headers)} ${req.body?.toString('hex') ?? ''} -> ${status}`);
      }),
      { numRuns: 600 },
    );
    // The generator reaches the interesting answers, not only 404s.
    for (const status of [200, 400, 404]) expect(seen.get(status) ?? 0).toBeGreaterThan(0);
  });

  it('survives garbage on the wire and keeps serving', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 300 }),
        fc.constantFrom('', 'GET /users/1 HTTP/1.1\r\n', 'POST /users HTTP/1.1\r\nContent-Length: 5\r\n\r\n'),
        async (bytes, prefix) => {
          const reply = await new Promise<string>((resolve) => {
            const socket = connect(port, '127.0.0.1');
            let data = '';
            socket.setTimeout(2_000, () => socket.destroy());
            socket.on('data', (chunk) => (data += chunk.toString('latin1')));
            socket.on('close', () => resolve(data));
            socket.on('error', () => resolve(data));
            socket.write(Buffer.concat([Buffer.from(prefix), Buffer.from(bytes)]));
            socket.end();
          });
          const status = /^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1];
          if (status && Number(status) >= 500) throw new Error(`garbage got ${status}`);
        },
      ),
      { numRuns: 150 },
    );
    expect((await call(`${api.url}/healthz`, 'GET')).status).toBe(200);
    // The first test may have deleted or renamed any user: check with a fresh one.
    const created = await call(`${api.url}/users`, 'POST', { name: 'After garbage', email: `after-${Date.now()}@example.com` });
    expect(created.status).toBe(201);
    expect((await call(`${api.url}/users/${(created.body as { id: number }).id}`, 'GET')).status).toBe(200);
  });
});
