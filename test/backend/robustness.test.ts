import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStores, type Stores } from './support/stores.js';
import { call, startApi, type RunningApi } from './support/api.js';

// Issue 20, row 10: text that JSON carries but PostgreSQL cannot keep as given, against a real api
// on real Redis and PostgreSQL.

let stores: Stores;
let api: RunningApi;
let seq = 0;
const email = () => `robust${++seq}-${Date.now()}@example.com`;

beforeAll(async () => {
  stores = await startStores();
  api = await startApi({ DATABASE_URL: stores.databaseUrl, REDIS_URL: stores.redisUrl, ADMIN_TOKEN: 'a-test-admin-token-0123456789' });
});

afterAll(async () => {
  await api?.close();
  await stores?.stop();
});

describe('user text the database cannot keep as given', () => {
  it('POST /users with a NUL in name or email answers 400 naming the field, and stores nothing', async () => {
    const address = email();
    const nulName = await call(`${api.url}/users`, 'POST', { name: 'Ada\u0000Lovelace', email: address });
    expect(nulName.status).toBe(400);
    expect(nulName.body.message).toBe('body.name must not contain a NUL character (U+0000)');
    const nulEmail = await call(`${api.url}/users`, 'POST', { name: 'Ada', email: `a\u0000${address}` });
    expect(nulEmail.status).toBe(400);
    expect(nulEmail.body.message).toContain('body.email');
    // Nothing half-written: the address is still free.
    expect((await call(`${api.url}/users`, 'POST', { name: 'Ada', email: address })).status).toBe(201);
  });

  it('POST /users with a lone surrogate answers 400 instead of storing U+FFFD', async () => {
    for (const name of ['\ud800', 'x\udc00y', 'abc\ud83d']) {
      const res = await call(`${api.url}/users`, 'POST', JSON.stringify({ name, email: email() }));
      expect(res.status).toBe(400);
      expect(res.body.message).toContain('body.name must be valid Unicode');
    }
  });

  it('keeps well-formed text outside the BMP exactly as sent', async () => {
    const name = 'Ada 😀 𝔘𝔫𝔦𝔠𝔬𝔡𝔢';
    const created = await call(`${api.url}/users`, 'POST', { name, email: email() });
    expect(created.status).toBe(201);
    expect((await call(`${api.url}/users/${created.body.id}`, 'GET')).body.name).toBe(name);
  });

  it('PATCH /users/:id with a NUL or a lone surrogate answers 400 and leaves the user as it was', async () => {
    const created = await call(`${api.url}/users`, 'POST', { name: 'Grace', email: email() });
    expect(created.status).toBe(201);
    const nul = await call(`${api.url}/users/${created.body.id}`, 'PATCH', { name: 'Gr\u0000ace' });
    expect(nul.status).toBe(400);
    expect(nul.body.message).toBe('body.name must not contain a NUL character (U+0000)');
    const lone = await call(`${api.url}/users/${created.body.id}`, 'PATCH', JSON.stringify({ name: 'G\udfffrace' }));
    expect(lone.status).toBe(400);
    const now = await call(`${api.url}/users/${created.body.id}`, 'GET');
    expect(now.status).toBe(200);
    expect(now.body.name).toBe('Grace');
  });
});
