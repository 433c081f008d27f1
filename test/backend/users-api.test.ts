import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEND_EMAIL_QUEUE } from '../../backend/queue.js';
import { startStores, type Stores } from './support/stores.js';
import { call, metric, startApi, type RunningApi } from './support/api.js';

let stores: Stores;
let api: RunningApi;
let seq = 0;
const email = () => `user${++seq}-${Date.now()}@example.com`;

beforeAll(async () => {
  stores = await startStores();
  api = await startApi({ DATABASE_URL: stores.databaseUrl, REDIS_URL: stores.redisUrl, ADMIN_TOKEN: 'a-test-admin-token-0123456789' });
});

afterAll(async () => {
  await api?.close();
  await stores?.stop();
});

async function createUser(name = 'Grace Hopper') {
  const res = await call(`${api.url}/users`, 'POST', { name, email: email() });
  expect(res.status).toBe(201);
  return res.body as { id: number; name: string; email: string };
}

describe('POST /users', () => {
  it('returns 201 with the user and its location', async () => {
    const address = email();
    const res = await call(`${api.url}/users`, 'POST', { name: 'Ada Lovelace', email: address });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'Ada Lovelace', email: address });
    expect(res.body.id).toBeGreaterThan(0);
    expect(new Date(res.body.createdAt).getTime()).toBeGreaterThan(0);
    expect(res.headers.get('location')).toBe(`/users/${res.body.id}`);
  });

  it('returns 409 when the e-mail exists, whatever its case', async () => {
    const address = email();
    expect((await call(`${api.url}/users`, 'POST', { name: 'A', email: address })).status).toBe(201);
    const res = await call(`${api.url}/users`, 'POST', { name: 'B', email: address.toUpperCase() });
    expect(res.status).toBe(409);
    expect(res.body.message).toContain('already exists');
  });

  it('creates concurrent users in one batch, with one 201 per e-mail and 409 for the rest', async () => {
    const stamp = Date.now();
    const attempts = Array.from({ length: 20 }, (_, n) => {
      const address = `batch${n}-${stamp}@example.com`;
      return [
        { name: `First ${n}`, email: address },
        { name: `First ${n}`, email: address },
        { name: `Other ${n}`, email: address.toUpperCase() },
      ];
    }).flat();
    const results = await Promise.all(attempts.map((body) => call(`${api.url}/users`, 'POST', body)));
    for (let n = 0; n < 20; n++) {
      const mine = results.slice(n * 3, n * 3 + 3);
      expect(mine.map((r) => r.status).sort()).toEqual([201, 409, 409]);
      const created = mine.find((r) => r.status === 201)!.body;
      expect((await call(`${api.url}/users/${created.id}`, 'GET')).body).toEqual(created);
    }
    const ids = results.filter((r) => r.status === 201).map((r) => r.body.id);
    expect(new Set(ids).size).toBe(20);
    // Some of them really went through the multi-row insert.
    expect(await metric(api.url, 'db_queries_total', { query: 'users-create-many' })).toBeGreaterThan(0);
  });

  it('stores names with quotes, braces, commas and backslashes as sent', async () => {
    const names = ['{"a":1}', "O'Brien, Jr.", 'back\\slash', 'NULL', '   x   ', 'ünïcødé ✓'];
    const results = await Promise.all(
      names.map((name, i) => call(`${api.url}/users`, 'POST', { name, email: `odd${i}-${Date.now()}@example.com` })),
    );
    for (const [i, result] of results.entries()) {
      expect(result.status).toBe(201);
      expect((await call(`${api.url}/users/${result.body.id}`, 'GET')).body.name).toBe(names[i]);
    }
  });

  it.each([
    ['a bad e-mail', { name: 'A', email: 'not-an-email' }, 'body.email must be a valid e-mail address'],
    ['a missing e-mail', { name: 'A' }, 'body.email is required'],
    ['a missing name', { email: 'x@example.com' }, 'body.name is required'],
    ['an extra field', { name: 'A', email: 'x@example.com', admin: true }, 'body.admin is not an allowed field'],
    ['a name over 200 characters', { name: 'n'.repeat(201), email: 'x@example.com' }, 'body.name must be at most 200 characters'],
    ['a blank name', { name: '   ', email: 'x@example.com' }, 'body.name must not be blank'],
    ['an array body', [1, 2], 'body must be object'],
  ])('returns 400 naming the field for %s', async (_case, body, message) => {
    const res = await call(`${api.url}/users`, 'POST', body);
    expect(res.status).toBe(400);
    expect(res.body.message).toBe(message);
  });

  it('returns 400 for a body over 16 KiB', async () => {
    const res = await call(`${api.url}/users`, 'POST', { name: 'A', email: 'x@example.com', pad: 'x'.repeat(17 * 1024) });
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('16 KiB');
  });

  it('returns 400 for malformed JSON', async () => {
    const res = await call(`${api.url}/users`, 'POST', '{"name": "A", ');
    expect(res.status).toBe(400);
  });
});

describe('GET /users/:id', () => {
  it('returns 200 with the user', async () => {
    const user = await createUser();
    const res = await call(`${api.url}/users/${user.id}`, 'GET');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject(user);
  });

  it('returns 404 when missing', async () => {
    const res = await call(`${api.url}/users/987654321`, 'GET');
    expect(res.status).toBe(404);
    expect(res.body.message).toBe('user 987654321 not found');
  });

  it.each(['abc', '0', '-3', '1.5', '99999999999999999999', 'Infinity', '1e309', '0x10'])('returns 400 for the id %s', async (id) => {
    const res = await call(`${api.url}/users/${id}`, 'GET');
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/^params\.id /);
  });
});

describe('GET /users', () => {
  it('pages through every user with a keyset cursor', async () => {
    const created = [
      await createUser('p1'),
      await createUser('p2'),
      await createUser('p3'),
      await createUser('p4'),
      await createUser('p5'),
    ];
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await call(`${api.url}/users?limit=2${cursor ? `&cursor=${cursor}` : ''}`, 'GET');
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((u: { id: number }) => u.id));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor && pages < 100);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(new Set(seen).size).toBe(seen.length);
    for (const user of created) expect(seen).toContain(user.id);
  });

  it('returns 400 for a bad cursor or limit', async () => {
    expect((await call(`${api.url}/users?cursor=!!`, 'GET')).status).toBe(400);
    expect((await call(`${api.url}/users?cursor=bm90LWFuLWlk`, 'GET')).body.message).toContain('querystring.cursor');
    expect((await call(`${api.url}/users?limit=101`, 'GET')).body.message).toBe('querystring.limit must be <= 100');
    expect((await call(`${api.url}/users?limit=0`, 'GET')).status).toBe(400);
    // Ajv coerces these to ±Infinity and its minimum/maximum skip non-finite numbers (found by the fuzz test).
    for (const limit of ['Infinity', '-Infinity', '1e400'])
      expect((await call(`${api.url}/users?limit=${limit}`, 'GET')).status, limit).toBe(400);
  });
});

describe('PATCH /users/:id', () => {
  it('changes the name and returns the user', async () => {
    const user = await createUser();
    const res = await call(`${api.url}/users/${user.id}`, 'PATCH', { name: 'Renamed' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: user.id, name: 'Renamed', email: user.email });
  });

  it('returns 404 when missing, 409 on a taken e-mail, 400 on an empty patch', async () => {
    const [a, b] = [await createUser(), await createUser()];
    expect((await call(`${api.url}/users/987654321`, 'PATCH', { name: 'x' })).status).toBe(404);
    expect((await call(`${api.url}/users/${a.id}`, 'PATCH', { email: b.email.toUpperCase() })).status).toBe(409);
    const empty = await call(`${api.url}/users/${a.id}`, 'PATCH', {});
    expect(empty.status).toBe(400);
    expect(empty.body.message).toBe('body must contain at least one field to change');
  });
});

describe('DELETE /users/:id', () => {
  it('returns 204, then the user is gone', async () => {
    const user = await createUser();
    expect((await call(`${api.url}/users/${user.id}`, 'DELETE')).status).toBe(204);
    expect((await call(`${api.url}/users/${user.id}`, 'GET')).status).toBe(404);
    expect((await call(`${api.url}/users/${user.id}`, 'DELETE')).status).toBe(404);
  });
});

describe('POST /users/:id/send-email', () => {
  it('returns 202 and puts a welcome-email job on the queue', async () => {
    const user = await createUser();
    const res = await call(`${api.url}/users/${user.id}/send-email`, 'POST');
    expect(res.status).toBe(202);
    expect(res.body.queue).toBe(SEND_EMAIL_QUEUE);
    const connection = new Redis(stores.redisUrl, { maxRetriesPerRequest: null });
    const queue = new Queue(SEND_EMAIL_QUEUE, { connection });
    try {
      const job = await queue.getJob(res.body.jobId);
      expect(job?.data).toEqual({ userId: user.id, kind: 'welcome-email' });
      expect(job?.opts.attempts).toBe(5);
    } finally {
      await queue.close();
      connection.disconnect();
    }
  });

  it('enqueues once per idempotency key', async () => {
    const user = await createUser();
    const headers = { 'idempotency-key': 'signup-42' };
    const first = await call(`${api.url}/users/${user.id}/send-email`, 'POST', undefined, headers);
    const second = await call(`${api.url}/users/${user.id}/send-email`, 'POST', undefined, headers);
    expect(first.status).toBe(202);
    expect(second.body.jobId).toBe(first.body.jobId);
  });

  it('returns 404 for a missing user', async () => {
    expect((await call(`${api.url}/users/987654321/send-email`, 'POST')).status).toBe(404);
  });
});

describe('operations', () => {
  it('GET /healthz and /readyz answer 200 with PostgreSQL and Redis up', async () => {
    expect((await call(`${api.url}/healthz`, 'GET')).body).toEqual({ status: 'ok' });
    const ready = await call(`${api.url}/readyz`, 'GET');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', draining: false, checks: { postgres: 'up', redis: 'up' } });
  });

  it('GET /metrics counts requests by route and status', async () => {
    const before = await metric(api.url, 'http_requests_total', { route: '/users/:id', status: '404' });
    await call(`${api.url}/users/987654320`, 'GET');
    expect(await metric(api.url, 'http_requests_total', { route: '/users/:id', status: '404' })).toBe(before + 1);
    const text = await (await fetch(`${api.url}/metrics`)).text();
    for (const series of [
      'http_request_duration_seconds_bucket',
      'http_requests_in_flight',
      'cache_hits_total',
      'cache_misses_total',
      'nodejs_eventloop_lag_seconds',
      'db_pool_connections',
      'cache_breaker_state',
    ]) {
      expect(text).toContain(series);
    }
  });

  it('serves the OpenAPI document and the docs UI', async () => {
    const spec = await call(`${api.url}/docs/json`, 'GET');
    expect(spec.status).toBe(200);
    expect(Object.keys(spec.body.paths)).toEqual(expect.arrayContaining(['/users', '/users/{id}', '/users/{id}/send-email', '/readyz']));
    expect(JSON.stringify(spec.body.paths)).not.toContain('/admin');
    const html = await fetch(`${api.url}/docs/`);
    expect(html.status).toBe(200);
    expect(await html.text()).toContain('swagger');
  });
});
