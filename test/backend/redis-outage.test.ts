import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStores, type Stores } from './support/stores.js';
import { call, eventually, metric, startApi, type RunningApi } from './support/api.js';

let stores: Stores;
let api: RunningApi;

beforeAll(async () => {
  stores = await startStores();
  api = await startApi({ DATABASE_URL: stores.databaseUrl, REDIS_URL: stores.redisUrl });
});

afterAll(async () => {
  await api?.close();
  await stores?.stop();
});

describe('Redis killed in the middle of a test', () => {
  it('keeps reads and writes working from PostgreSQL, then uses the cache again once Redis is back', async () => {
    const created = await call(`${api.url}/users`, 'POST', { name: 'Before', email: 'outage@example.com' });
    expect(created.status).toBe(201);
    const id = created.body.id as number;
    await call(`${api.url}/users/${id}`, 'GET');
    expect((await call(`${api.url}/users/${id}`, 'GET')).status).toBe(200);

    await stores.redis.crash();

    // Reads and writes keep succeeding, served by PostgreSQL.
    for (let i = 0; i < 20; i++) {
      const read = await call(`${api.url}/users/${id}`, 'GET');
      expect(read.status).toBe(200);
      expect(read.body.id).toBe(id);
    }
    const during = await call(`${api.url}/users`, 'POST', { name: 'During', email: 'during-outage@example.com' });
    expect(during.status).toBe(201);
    expect((await call(`${api.url}/users/${during.body.id}`, 'GET')).body.name).toBe('During');
    expect((await call(`${api.url}/users/${id}`, 'PATCH', { name: 'Patched during outage' })).status).toBe(200);
    expect((await call(`${api.url}/users/${id}`, 'GET')).body.name).toBe('Patched during outage');
    expect(await metric(api.url, 'cache_breaker_state')).toBe(2);
    const ready = await call(`${api.url}/readyz`, 'GET');
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('degraded');
    // The queue needs Redis: a clear 503, not a hang or a crash.
    const email = await call(`${api.url}/users/${id}/send-email`, 'POST');
    expect(email.status).toBe(503);
    expect(email.body.message).toContain('queue is unavailable');

    await stores.redis.start();

    // Once the breaker closes again, a read caches the user and the next read is a hit.
    await eventually('reads hit the cache again', async () => {
      await call(`${api.url}/users/${id}`, 'GET');
      const before = await metric(api.url, 'cache_hits_total');
      const read = await call(`${api.url}/users/${id}`, 'GET');
      return read.body.name === 'Patched during outage' && (await metric(api.url, 'cache_hits_total')) === before + 1;
    });
    expect(await metric(api.url, 'cache_breaker_state')).toBe(0);
    expect((await call(`${api.url}/readyz`, 'GET')).body.status).toBe('ready');
    expect((await call(`${api.url}/users/${id}/send-email`, 'POST')).status).toBe(202);
  });
});

describe('Redis frozen (SIGSTOP) while a user changes', () => {
  it('drops the stale cache entry once Redis answers again', async () => {
    const created = await call(`${api.url}/users`, 'POST', { name: 'Old name', email: 'frozen@example.com' });
    const id = created.body.id as number;
    await call(`${api.url}/users/${id}`, 'GET');
    await eventually('the user is cached', async () => {
      const before = await metric(api.url, 'cache_hits_total');
      await call(`${api.url}/users/${id}`, 'GET');
      return (await metric(api.url, 'cache_hits_total')) === before + 1;
    });

    stores.redis.signal('SIGSTOP');
    try {
      // Reads time out against the frozen Redis until the breaker opens; from then on the
      // PATCH's invalidation is never sent, so only the retry after recovery can remove the entry.
      await eventually('the breaker opens', async () => {
        await Promise.all(Array.from({ length: 6 }, () => call(`${api.url}/users/${id}`, 'GET')));
        return (await metric(api.url, 'cache_breaker_state')) === 2;
      });
      const patched = await call(`${api.url}/users/${id}`, 'PATCH', { name: 'New name' });
      expect(patched.status).toBe(200);
      expect(patched.body.name).toBe('New name');
    } finally {
      stores.redis.signal('SIGCONT');
    }
    // The frozen Redis still holds "Old name"; the invalidation that never reached it is retried
    // once the breaker closes. Judge only reads served from the cache again.
    await eventually('the breaker closes and reads hit the cache', async () => {
      const before = await metric(api.url, 'cache_hits_total');
      await call(`${api.url}/users/${id}`, 'GET');
      return (await metric(api.url, 'cache_breaker_state')) === 0 && (await metric(api.url, 'cache_hits_total')) > before;
    });
    for (let i = 0; i < 5; i++) expect((await call(`${api.url}/users/${id}`, 'GET')).body.name).toBe('New name');
  });
});
