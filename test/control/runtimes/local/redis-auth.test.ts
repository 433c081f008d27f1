import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withDefaults } from '../../../../electron/contract.js';
import { LocalRuntime } from '../../../../electron/control/runtimes/local/local-runtime.js';
import { freePort } from '../../../../electron/control/runtimes/local/ports.js';
import { RedisProbe } from '../../../../electron/control/telemetry/redis-probe.js';
import { eventually } from '../../../backend/support/api.js';
import { makeTempHome, removeTempHome } from '../../../support/temp-home.js';
import { rawRedisCommand } from '../../support/raw-redis.js';

const run = promisify(execFile);
let home: string;
let runtime: LocalRuntime;
let endpoints: Awaited<ReturnType<LocalRuntime['up']>>;

const redisPort = () => Number(new URL(endpoints.redisUrl).port);

beforeAll(async () => {
  home = await makeTempHome('scalelab-redis-auth-');
  runtime = new LocalRuntime({ home });
  endpoints = await runtime.up(
    withDefaults({ name: 'redisauth', port: await freePort(), replicas: { api: 1, worker: 0 } }),
    () => undefined,
  );
}, 120_000);
afterAll(async () => {
  await runtime?.down({ keepData: false });
  await removeTempHome(home);
});

describe('local Redis password', () => {
  it('refuses an unauthenticated SET user:2 (NOAUTH), and GET /users/2 still serves the real row', async () => {
    const post = (name: string) =>
      fetch(`${endpoints.balancer}/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name, email: `${name.toLowerCase()}@example.com` }),
      });
    expect((await post('First')).status).toBe(201);
    const second = (await (await post('Second')).json()) as { id: number; name: string };
    // Read once so the row is cached: the forged SET aims at the very key the api reads.
    expect((await fetch(`${endpoints.balancer}/users/${second.id}`)).status).toBe(200);
    const owner = new Redis(endpoints.redisUrl);
    try {
      await eventually('the row is in the cache', async () => (await owner.get(`user:${second.id}`)) !== null);
    } finally {
      owner.disconnect();
    }

    const forged = JSON.stringify({ id: second.id, name: 'Mallory', email: 'mallory@example.com', createdAt: new Date().toISOString() });
    const reply = await rawRedisCommand(redisPort(), `SET user:${second.id} '${forged}'`);
    expect(reply).toMatch(/^-NOAUTH/);
    expect(await rawRedisCommand(redisPort(), 'KEYS *')).toMatch(/^-NOAUTH/);
    expect(await rawRedisCommand(redisPort(), 'AUTH wrong-password')).toMatch(/^-(WRONGPASS|ERR)/);

    const served = (await (await fetch(`${endpoints.balancer}/users/${second.id}`)).json()) as { name: string };
    expect(served.name).toBe('Second');
  });

  it('even with the password, Redis refuses administration and wiping (ACL): CONFIG, FLUSHALL, SHUTDOWN', async () => {
    const client = new Redis(endpoints.redisUrl, { maxRetriesPerRequest: 0 });
    try {
      expect(await client.ping()).toBe('PONG');
      await expect(client.config('GET', 'requirepass')).rejects.toThrow(/NOPERM/);
      await expect(client.flushall()).rejects.toThrow(/NOPERM/);
      await expect(client.call('SHUTDOWN', 'NOSAVE')).rejects.toThrow(/NOPERM/);
      // What the stack itself uses still works.
      expect(await client.info('server')).toContain('redis_version');
      expect(await client.set('acl-probe', '1', 'EX', 5)).toBe('OK');
    } finally {
      client.disconnect();
    }
  });

  it('the password is in REDIS_URL and 0600 files only, never on a command line', async () => {
    const password = decodeURIComponent(new URL(endpoints.redisUrl).password);
    expect(password.length).toBeGreaterThanOrEqual(24);
    const { stdout } = await run('ps', ['-eo', 'args']);
    expect(stdout.includes(password)).toBe(false);
    const dir = path.join(home, 'stacks', 'redisauth');
    for (const file of [path.join(dir, 'secrets.json'), path.join(dir, 'redis', 'redis.conf')]) {
      expect((await stat(file)).mode & 0o777, file).toBe(0o600);
      expect(await readFile(file, 'utf8')).toContain(password);
    }
    // Telemetry asks Redis with the same URL.
    const probe = new RedisProbe(endpoints.redisUrl);
    try {
      expect((await probe.info()).up).toBe(true);
    } finally {
      await probe.close();
    }
  });

  it('a restarted control plane adopts the stack with the same password', async () => {
    const before = endpoints.redisUrl;
    const pid = runtime.currentInstances().find((i) => i.id === 'redis')?.pid;
    await runtime.dispose();
    runtime = new LocalRuntime({ home });
    endpoints = await runtime.up(withDefaults({ name: 'redisauth', port: 18_999, replicas: { api: 1, worker: 0 } }), () => undefined);
    expect(endpoints.redisUrl).toBe(before);
    expect(runtime.currentInstances().find((i) => i.id === 'redis')?.pid).toBe(pid);
    expect((await fetch(`${endpoints.balancer}/users/1`)).status).toBe(200);
  });
});
