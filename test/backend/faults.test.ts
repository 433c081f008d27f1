import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStores, type Stores } from './support/stores.js';
import { call, startApi, type RunningApi } from './support/api.js';
import { startApiProcess } from './support/process.js';

const TOKEN = 'faults-test-admin-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
let stores: Stores;
let api: RunningApi;
let noAdmin: RunningApi;

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await fn();
  return [result, performance.now() - started];
}

beforeAll(async () => {
  stores = await startStores();
  const env = { DATABASE_URL: stores.databaseUrl, REDIS_URL: stores.redisUrl };
  api = await startApi({ ...env, ADMIN_TOKEN: TOKEN });
  noAdmin = await startApi(env);
});

afterAll(async () => {
  await api?.close();
  await noAdmin?.close();
  await stores?.stop();
});

describe('admin fault hooks', () => {
  it('do not exist without ADMIN_TOKEN', async () => {
    expect((await call(`${noAdmin.url}/admin/faults`, 'GET', undefined, auth)).status).toBe(404);
  });

  it('answer 401 without the right bearer token', async () => {
    expect((await call(`${api.url}/admin/faults`, 'GET')).status).toBe(401);
    expect((await call(`${api.url}/admin/faults`, 'GET', undefined, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await call(`${api.url}/admin/faults/errors`, 'PUT', { rate: 1 }, { authorization: TOKEN })).status).toBe(401);
    expect((await call(`${api.url}/admin/faults`, 'GET', undefined, auth)).body.errorRate).toBe(0);
  });

  it('add latency to database calls, and clear it', async () => {
    const user = await call(`${api.url}/users`, 'POST', { name: 'Slow', email: 'slowdb@example.com' });
    expect((await call(`${api.url}/admin/faults/latency`, 'PUT', { dbMs: 300 }, auth)).body.dbLatencyMs).toBe(300);
    const [patched, slow] = await timed(() => call(`${api.url}/users/${user.body.id}`, 'PATCH', { name: 'Slower' }));
    expect(patched.status).toBe(200);
    expect(slow).toBeGreaterThanOrEqual(290);
    expect((await call(`${api.url}/admin/faults`, 'DELETE', undefined, auth)).body.dbLatencyMs).toBe(0);
    const [, fast] = await timed(() => call(`${api.url}/users/${user.body.id}`, 'PATCH', { name: 'Fast' }));
    expect(fast).toBeLessThan(250);
  });

  it('add latency to cache calls', async () => {
    const user = await call(`${api.url}/users`, 'POST', { name: 'Cached', email: 'slowcache@example.com' });
    await call(`${api.url}/users/${user.body.id}`, 'GET');
    await call(`${api.url}/admin/faults/latency`, 'PUT', { cacheMs: 200 }, auth);
    const [read, slow] = await timed(() => call(`${api.url}/users/${user.body.id}`, 'GET'));
    expect(read.status).toBe(200);
    expect(slow).toBeGreaterThanOrEqual(190);
    await call(`${api.url}/admin/faults`, 'DELETE', undefined, auth);
  });

  it('fail a fraction of requests, but never health checks', async () => {
    await call(`${api.url}/admin/faults/errors`, 'PUT', { rate: 1 }, auth);
    const failed = await call(`${api.url}/users/1`, 'GET');
    expect(failed.status).toBe(500);
    expect(failed.body.message).toContain('injected fault');
    expect((await call(`${api.url}/healthz`, 'GET')).status).toBe(200);
    await call(`${api.url}/admin/faults/errors`, 'PUT', { rate: 0.5 }, auth);
    const statuses = await Promise.all(Array.from({ length: 200 }, () => call(`${api.url}/users/1`, 'GET').then((r) => r.status)));
    const share = statuses.filter((s) => s === 500).length / statuses.length;
    expect(share).toBeGreaterThan(0.3);
    expect(share).toBeLessThan(0.7);
    await call(`${api.url}/admin/faults`, 'DELETE', undefined, auth);
    expect((await call(`${api.url}/users/1`, 'GET')).status).not.toBe(500);
  });

  it('burn cpu on a thread while the replica keeps answering', async () => {
    const cpuBefore = process.cpuUsage();
    const wallBefore = performance.now();
    expect((await call(`${api.url}/admin/faults/cpu`, 'POST', { threads: 1, durationMs: 1500 }, auth)).body.cpuBurnThreads).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect((await call(`${api.url}/healthz`, 'GET')).status).toBe(200);
    const cpu = process.cpuUsage(cpuBefore);
    const wall = performance.now() - wallBefore;
    // The spinning thread alone uses about one core for the whole interval.
    expect((cpu.user + cpu.system) / 1000).toBeGreaterThan(wall * 0.5);
    await call(`${api.url}/admin/faults`, 'DELETE', undefined, auth);
    expect((await call(`${api.url}/admin/faults`, 'GET', undefined, auth)).body.cpuBurnThreads).toBe(0);
  });

  it('leak memory until cleared', async () => {
    const rssBefore = process.memoryUsage().rss;
    await call(`${api.url}/admin/faults/leak`, 'POST', { mbPerSecond: 100, maxMb: 60 }, auth);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const leaking = (await call(`${api.url}/admin/faults`, 'GET', undefined, auth)).body;
    expect(leaking.leakedMb).toBeGreaterThanOrEqual(50);
    expect(leaking.leakedMb).toBeLessThanOrEqual(60);
    expect(process.memoryUsage().rss - rssBefore).toBeGreaterThan(40 * 1024 * 1024);
    expect((await call(`${api.url}/admin/faults`, 'DELETE', undefined, auth)).body.leakedMb).toBe(0);
  });

  it('block the event loop for the given time (in a real api process)', async () => {
    // In this process the test's own client would be blocked too, so the replica runs apart.
    const replica = await startApiProcess(stores.dir, { DATABASE_URL: stores.databaseUrl, REDIS_URL: stores.redisUrl, ADMIN_TOKEN: TOKEN });
    try {
      const [ack, ackMs] = await timed(() => call(`${replica.url}/admin/faults/block`, 'POST', { ms: 800 }, auth));
      expect(ack.status).toBe(200);
      const [health, blockedMs] = await timed(() => call(`${replica.url}/healthz`, 'GET'));
      expect(health.status).toBe(200);
      expect(ackMs + blockedMs).toBeGreaterThanOrEqual(700);
      const [, afterMs] = await timed(() => call(`${replica.url}/healthz`, 'GET'));
      expect(afterMs).toBeLessThan(300);
    } finally {
      replica.child.kill('SIGKILL');
    }
  });

  it('reject out-of-range fault settings with the field named', async () => {
    const res = await call(`${api.url}/admin/faults/errors`, 'PUT', { rate: 2 }, auth);
    expect(res.status).toBe(400);
    expect(res.body.message).toBe('body.rate must be <= 1');
  });
});
