import { get } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStores, type Stores } from './support/stores.js';
import { call } from './support/api.js';
import { startApiProcess } from './support/process.js';

let stores: Stores;
const ADMIN_TOKEN = 'shutdown-test-admin-token-0123';

beforeAll(async () => {
  stores = await startStores();
});
afterAll(async () => stores?.stop());

describe('graceful shutdown on SIGTERM', () => {
  it('finishes a slow in-flight request with 200, refuses new ones, and exits 0', async () => {
    const api = await startApiProcess(stores.dir, {
      DATABASE_URL: stores.databaseUrl,
      REDIS_URL: stores.redisUrl,
      ADMIN_TOKEN,
      CACHE_TTL_SECONDS: '0',
    });
    try {
      const user = await call(`${api.url}/users`, 'POST', { name: 'Slow', email: 'slow@example.com' });
      expect(user.status).toBe(201);
      const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
      expect((await call(`${api.url}/admin/faults/latency`, 'PUT', { dbMs: 1500 }, auth)).status).toBe(200);

      const started = Date.now();
      const slow = call(`${api.url}/users/${user.body.id}`, 'GET');
      await new Promise((resolve) => setTimeout(resolve, 300));
      api.child.kill('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 200));

      // A new request on a new connection: refused, or 503 while the listener closes.
      const late = await new Promise<string>((resolve) => {
        const request = get(`${api.url}/healthz`, { agent: false }, (r) => {
          r.resume();
          resolve(`status ${r.statusCode}`);
        });
        request.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      });
      expect(['ECONNREFUSED', 'ECONNRESET', 'status 503']).toContain(late);

      const response = await slow;
      expect(response.status).toBe(200);
      expect(response.body.name).toBe('Slow');
      expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
      expect(await api.exited).toEqual({ code: 0, signal: null });
      expect(await api.log()).toContain('"msg":"closed"');
    } finally {
      api.child.kill('SIGKILL');
    }
  });
});
