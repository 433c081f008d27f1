import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStores, type Stores } from './support/stores.js';
import { call, metric, startApi, type RunningApi } from './support/api.js';

let stores: Stores;
let api: RunningApi;

const byIdQueries = () => metric(api.url, 'db_queries_total', { query: 'users-by-id' });
const hits = () => metric(api.url, 'cache_hits_total');

async function createUser(tag: string) {
  const res = await call(`${api.url}/users`, 'POST', { name: tag, email: `${tag}-${Date.now()}@example.com` });
  expect(res.status).toBe(201);
  return res.body as { id: number; name: string };
}

beforeAll(async () => {
  stores = await startStores();
  api = await startApi({ DATABASE_URL: stores.databaseUrl, REDIS_URL: stores.redisUrl });
});

afterAll(async () => {
  await api?.close();
  await stores?.stop();
});

describe('cache-aside in Redis', () => {
  it('serves the second read from the cache', async () => {
    const user = await createUser('hit');
    const [queries0, hits0] = [await byIdQueries(), await hits()];
    expect((await call(`${api.url}/users/${user.id}`, 'GET')).status).toBe(200);
    expect(await byIdQueries()).toBe(queries0 + 1);
    expect((await call(`${api.url}/users/${user.id}`, 'GET')).body.name).toBe('hit');
    expect(await byIdQueries()).toBe(queries0 + 1);
    expect(await hits()).toBe(hits0 + 1);
  });

  it('invalidates the entry after PATCH, so the next read sees the change', async () => {
    const user = await createUser('before');
    await call(`${api.url}/users/${user.id}`, 'GET');
    await call(`${api.url}/users/${user.id}`, 'GET');
    expect((await call(`${api.url}/users/${user.id}`, 'PATCH', { name: 'after' })).status).toBe(200);
    const queries = await byIdQueries();
    expect((await call(`${api.url}/users/${user.id}`, 'GET')).body.name).toBe('after');
    expect(await byIdQueries()).toBe(queries + 1);
  });

  it('invalidates the entry after DELETE, so the next read is a 404', async () => {
    const user = await createUser('doomed');
    await call(`${api.url}/users/${user.id}`, 'GET');
    expect((await call(`${api.url}/users/${user.id}`, 'DELETE')).status).toBe(204);
    expect((await call(`${api.url}/users/${user.id}`, 'GET')).status).toBe(404);
  });

  it('a read before an id exists does not hide the user created later', async () => {
    const user = await createUser('next');
    const nextId = user.id + 1;
    expect((await call(`${api.url}/users/${nextId}`, 'GET')).status).toBe(404);
    const created = await createUser('created');
    expect(created.id).toBe(nextId);
    expect((await call(`${api.url}/users/${nextId}`, 'GET')).status).toBe(200);
  });

  it('coalesces 50 concurrent reads of a cold key into exactly 1 database query', async () => {
    const user = await createUser('cold');
    const before = await byIdQueries();
    const responses = await Promise.all(Array.from({ length: 50 }, () => call(`${api.url}/users/${user.id}`, 'GET')));
    expect(responses.every((r) => r.status === 200 && r.body.id === user.id)).toBe(true);
    expect(await byIdQueries()).toBe(before + 1);
  });
});

describe('early refresh of hot keys', () => {
  let shortTtl: RunningApi;

  beforeAll(async () => {
    shortTtl = await startApi({ DATABASE_URL: stores.databaseUrl, REDIS_URL: stores.redisUrl, CACHE_TTL_SECONDS: '2' });
  });
  afterAll(async () => shortTtl?.close());

  it('refreshes a hot key before it expires, so reads keep hitting the cache', async () => {
    const user = await createUser('hot');
    const url = `${shortTtl.url}/users/${user.id}`;
    await call(url, 'GET');
    const misses0 = await metric(shortTtl.url, 'cache_misses_total');
    const queries0 = await metric(shortTtl.url, 'db_queries_total', { query: 'users-by-id' });
    // Three TTLs of steady reads: without early refresh each expiry would be a miss.
    const until = Date.now() + 6_000;
    while (Date.now() < until) {
      expect((await call(url, 'GET')).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await metric(shortTtl.url, 'cache_misses_total')).toBe(misses0);
    expect(await metric(shortTtl.url, 'cache_early_refreshes_total')).toBeGreaterThanOrEqual(2);
    expect(await metric(shortTtl.url, 'db_queries_total', { query: 'users-by-id' })).toBeGreaterThanOrEqual(queries0 + 2);
  });
});
