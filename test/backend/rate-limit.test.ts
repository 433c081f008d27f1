import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStores, type Stores } from './support/stores.js';
import { call, startApi, type RunningApi } from './support/api.js';

let stores: Stores;
let limited: RunningApi;
let unlimited: RunningApi;

beforeAll(async () => {
  stores = await startStores();
  const env = { DATABASE_URL: stores.databaseUrl, REDIS_URL: stores.redisUrl };
  limited = await startApi({ ...env, RATE_LIMIT_PER_MINUTE: '5' });
  unlimited = await startApi({ ...env, RATE_LIMIT_PER_MINUTE: '0' });
});

afterAll(async () => {
  await limited?.close();
  await unlimited?.close();
  await stores?.stop();
});

describe('rate limiting per client', () => {
  it('answers 429 with Retry-After past the limit', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await call(`${limited.url}/users/1`, 'GET')).status);
    expect(statuses.every((s) => s === 404)).toBe(true);
    const over = await call(`${limited.url}/users/1`, 'GET');
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(over.body.message).toContain('rate limit of 5 requests per minute');
  });

  it('counts clients separately, by the X-Forwarded-For the balancer sets', async () => {
    const other = await call(`${limited.url}/users/1`, 'GET', undefined, { 'x-forwarded-for': '203.0.113.9' });
    expect(other.status).toBe(404);
  });

  it('never limits health checks and metrics', async () => {
    for (let i = 0; i < 8; i++) expect((await call(`${limited.url}/healthz`, 'GET')).status).toBe(200);
    expect((await fetch(`${limited.url}/metrics`)).status).toBe(200);
  });

  it('is off when the limit is 0', async () => {
    const statuses = await Promise.all(Array.from({ length: 30 }, () => call(`${unlimited.url}/users/1`, 'GET')));
    expect(statuses.every((r) => r.status === 404)).toBe(true);
  });
});
