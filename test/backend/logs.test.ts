import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStores, type Stores } from './support/stores.js';
import { call } from './support/api.js';
import { startApiProcess, startBackend } from './support/process.js';

let stores: Stores;

beforeAll(async () => {
  stores = await startStores();
});
afterAll(async () => stores?.stop());

describe('logs', () => {
  it('are JSON lines and never contain the database password or the admin token', async () => {
    const token = 'log-test-secret-admin-token-XYZ987';
    const api = await startApiProcess(stores.dir, {
      DATABASE_URL: stores.databaseUrl,
      REDIS_URL: stores.redisUrl,
      ADMIN_TOKEN: token,
      LOG_REQUESTS: 'true',
      LOG_LEVEL: 'debug',
    });
    try {
      await call(`${api.url}/admin/faults`, 'GET', undefined, { authorization: `Bearer ${token}` });
      await call(`${api.url}/admin/faults`, 'GET', undefined, { authorization: 'Bearer a-wrong-guess' });
      await call(`${api.url}/users`, 'POST', { name: 'Log', email: 'log@example.com' });
      api.child.kill('SIGTERM');
      await api.exited;
      const lines = (await api.log()).trim().split('\n');
      expect(lines.length).toBeGreaterThan(5);
      for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
      const text = lines.join('\n');
      expect(text).toContain('"url":"/admin/faults"');
      expect(text).not.toContain(token);
      expect(text).not.toContain('a-wrong-guess');
      expect(text).not.toContain('test-password');
      expect(text).toContain('postgres://postgres:***@');
    } finally {
      api.child.kill('SIGKILL');
    }
  });

  it('say which variable is wrong when the configuration is invalid', async () => {
    const api = startBackend('api', stores.dir, { DATABASE_URL: stores.databaseUrl, REDIS_URL: stores.redisUrl, PORT: 'eighty' });
    expect((await api.exited).code).toBe(1);
    expect(await api.log()).toContain('api failed to start: invalid environment: PORT: must be integer');
  });
});
