import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withDefaults } from '../../../../electron/contract.js';
import { isAlive } from '../../../../electron/control/runtimes/local/adopted-process.js';
import { LocalRuntime } from '../../../../electron/control/runtimes/local/local-runtime.js';
import { eventually } from '../../../backend/support/api.js';
import { steadyTraffic as steadyTrafficTo } from '../../support/steady-traffic.js';
import { removeTempHome } from '../../../support/temp-home.js';

let home: string;
let runtime: LocalRuntime;
let balancer: string;
const steadyTraffic = (concurrency: number) => steadyTrafficTo(balancer, concurrency);
const progress: string[] = [];
const events: string[] = [];

beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'scalelab-runtime-'));
  runtime = new LocalRuntime({ home, onEvent: (e) => events.push(e.message) });
  const endpoints = await runtime.up(withDefaults({ name: 'rt', port: 18_080 }), (m) => progress.push(m));
  balancer = endpoints.balancer;
}, 120_000);
afterAll(async () => {
  await runtime?.down({ keepData: false });
  await removeTempHome(home);
});

describe('local runtime', () => {
  it('up brings PostgreSQL, Redis, 2 api replicas and 1 worker to ready, with progress', async () => {
    const instances = await runtime.instances();
    expect(instances.filter((i) => i.service === 'api').map((i) => i.phase)).toEqual(['ready', 'ready']);
    expect(instances.filter((i) => i.service === 'worker').map((i) => i.phase)).toEqual(['ready']);
    expect(instances.map((i) => i.id).sort()).toEqual(['api-1', 'api-2', 'postgres', 'redis', 'worker-1']);
    expect(progress.some((m) => m.includes('api-2 is ready'))).toBe(true);
    const created = await fetch(`${balancer}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Ada', email: 'ada@example.com' }),
    });
    expect(created.status).toBe(201);
    expect(balancer).toBe('http://127.0.0.1:18080');
  });

  it('scales api 1 → 5 → 1 under continuous requests without failing one', async () => {
    await runtime.scale('api', 1);
    const traffic = steadyTraffic(8);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await runtime.scale('api', 5);
    expect((await runtime.instances()).filter((i) => i.service === 'api' && i.phase === 'ready')).toHaveLength(5);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    // Every new replica got traffic: least-outstanding routing spreads the load.
    const snapshot = (await runtime.takeBalancerSnapshot())!;
    expect(Object.values(snapshot.upstreams).filter((u) => u.requests > 0).length).toBe(5);
    await runtime.scale('api', 1);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await traffic.stop();
    expect(traffic.failures).toEqual([]);
    expect(traffic.ok()).toBeGreaterThan(200);
    expect((await runtime.instances()).filter((i) => i.service === 'api')).toHaveLength(1);
    expect(events).toContain('scaling api 1 → 5');
  });

  it('restarts a replica killed with SIGKILL and routes around it within 2 s', async () => {
    await runtime.scale('api', 2);
    const before = (await runtime.instances()).find((i) => i.id === 'api-2')!;
    const traffic = steadyTraffic(4);
    await new Promise((resolve) => setTimeout(resolve, 300));
    process.kill(before.pid!, 'SIGKILL');
    const killedAt = Date.now();
    // Routed around: a window of requests right after the kill all succeed.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const failuresAfter2s = [...traffic.failures];
    await eventually('api-2 restarted and ready', async () => {
      const now = (await runtime.instances()).find((i) => i.id === 'api-2');
      return now?.phase === 'ready' && now.pid !== before.pid && now.restarts === before.restarts + 1;
    });
    await traffic.stop();
    expect(failuresAfter2s.filter((f) => f.startsWith('GET'))).toEqual([]);
    // A POST the killed process was serving dies with it (a write is never retried: it may have
    // committed). The Node balancer answers it 502; HAProxy, when the request was not the first on
    // the client's keep-alive connection, closes that connection without a response instead
    // (RFC 9112 §9.3.1: the client decides whether to retry). At most one per loop can be in
    // flight; nothing else fails.
    const lostWrite = /^POST (502|other side closed|socket hang up)$/;
    expect(
      traffic.failures.every((f) => lostWrite.test(f)),
      traffic.failures.join(', '),
    ).toBe(true);
    expect(traffic.failures.length).toBeLessThanOrEqual(4);
    expect(Date.now() - killedAt).toBeLessThan(15_000);
    expect(events.some((e) => e.startsWith('api-2 exited (SIGKILL)'))).toBe(true);
  });

  it('down stops every process it started', async () => {
    const pids = (await runtime.instances()).map((i) => i.pid).filter((p): p is number => p !== undefined);
    expect(pids.length).toBeGreaterThanOrEqual(5);
    await runtime.down({ keepData: true });
    await eventually('every pid gone', async () => pids.every((p) => !isAlive(p)), 10_000);
    await expect(fetch(`${balancer}/healthz`)).rejects.toThrow();
  });
});
