import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChaosStatus, Sample, StackStatus, TimelineEvent, TrafficSummary, WriteCheck } from '../../../electron/contract.js';
import { ControlPlane } from '../../../electron/control/control-plane.js';
import { pickVictim } from '../../../electron/control/chaos/monkey.js';
import { freePort } from '../../../electron/control/runtimes/local/ports.js';
import { postgresDataDir } from '../../../electron/control/runtimes/local/postgres.js';
import { eventually } from '../../backend/support/api.js';
import { ok } from '../support/envelope.js';
import { makeTempHome, removeTempHome } from '../../support/temp-home.js';

let home: string;
let controlPlane: ControlPlane;
let balancer: string;
const samples: Sample[] = [];
const events: TimelineEvent[] = [];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const instance = async (id: string) => (await ok<StackStatus>(controlPlane.handle('stack:status', {}))).instances.find((i) => i.id === id);

async function createUser(n: number): Promise<number> {
  const response = await fetch(`${balancer}/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: `Chaos ${n}`, email: `chaos-${n}-${Date.now()}@example.com` }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: number }).id;
}

async function timedGet(url: string): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  const response = await fetch(url);
  await response.arrayBuffer();
  return { status: response.status, ms: performance.now() - started };
}

beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'scalelab-chaos-'));
  controlPlane = new ControlPlane({ home });
  controlPlane.on('sample', (s) => samples.push(s));
  controlPlane.on('event', (e) => events.push(e));
  const status = await ok<StackStatus>(
    controlPlane.handle('stack:up', { name: 'chaos', port: await freePort(), replicas: { api: 2, worker: 1 } }),
  );
  balancer = status.endpoints!.balancer;
}, 120_000);

afterAll(async () => {
  await controlPlane?.close();
  await rm(postgresDataDir(path.join(home, 'stacks', 'chaos', 'postgres')), { recursive: true, force: true });
  await removeTempHome(home);
});

describe('Chaos Monkey victim choice', () => {
  const replica = (id: string, phase: 'ready' | 'starting' = 'ready') => ({
    id,
    service: id.split('-')[0] as 'api',
    phase,
    restarts: 0,
    startedAt: 0,
  });
  it('never takes the last ready replica of a service, and respects the outage guard', () => {
    expect(pickVictim([replica('api-1'), replica('worker-1')], 1)).toEqual({ skip: 'every service is down to its last ready replica' });
    expect(pickVictim([replica('api-1'), replica('api-2'), replica('worker-1')], 1, () => 0.99)).toEqual({ id: 'api-2' });
    expect(pickVictim([replica('api-1'), replica('api-2', 'starting'), replica('api-3')], 1)).toEqual({
      skip: '1 replica is already down (max 1)',
    });
    expect(pickVictim([replica('api-1'), replica('api-2', 'starting'), replica('api-3')], 2, () => 0)).toEqual({ id: 'api-1' });
  });
});

describe('chaos on the local runtime', () => {
  it('refuses chaos on a stack that is not running, and an instance that is not the stack’s', async () => {
    const idleHome = await makeTempHome('scalelab-chaos-idle-');
    const idle = new ControlPlane({ home: idleHome });
    try {
      const refused = await idle.handle('chaos:inject', { action: 'kill', target: 'random-api' });
      expect(refused).toMatchObject({
        ok: false,
        error: { name: 'StackStateError', message: expect.stringContaining('no stack is running') },
      });
    } finally {
      await idle.close();
      await removeTempHome(idleHome);
    }
    const unknown = await controlPlane.handle('chaos:inject', { action: 'kill', target: 'api-9' });
    expect(unknown).toMatchObject({ ok: false, error: { name: 'ChaosError', message: expect.stringContaining('no instance "api-9"') } });
    const wrongKind = await controlPlane.handle('chaos:inject', { action: 'cpu', target: 'worker-1' });
    expect(wrongKind).toMatchObject({ ok: false, error: { message: expect.stringContaining('acts on api replicas') } });
  });

  it('a killed replica comes back, and the kill is on the timeline', async () => {
    const before = (await instance('api-2'))!;
    const status = await ok<ChaosStatus>(controlPlane.handle('chaos:inject', { action: 'kill', target: 'api-2' }));
    expect(status.message).toBe('kill api-2');
    await eventually(
      'api-2 back',
      async () => {
        const now = await instance('api-2');
        return now?.phase === 'ready' && now.restarts === before.restarts + 1;
      },
      20_000,
    );
    expect(events.some((e) => e.kind === 'chaos' && e.message === 'kill api-2' && e.instance === 'api-2')).toBe(true);
  });

  it('with the cache killed the API keeps serving through the breaker, the hit rate drops to 0, and Redis comes back', async () => {
    const id = await createUser(1);
    for (let i = 0; i < 5; i += 1) expect((await timedGet(`${balancer}/users/${id}`)).status).toBe(200);
    const killedAt = Date.now();
    await ok(controlPlane.handle('chaos:inject', { action: 'kill-cache', forSeconds: 4 }));
    expect((await instance('redis'))?.phase).toBe('stopped');
    // Reads keep answering from PostgreSQL while Redis is gone.
    for (let i = 0; i < 20; i += 1) {
      expect((await timedGet(`${balancer}/users/${id}`)).status).toBe(200);
      await sleep(100);
    }
    await sleep(1_500);
    const during = samples.filter((s) => s.t > killedAt + 1_500 && s.t < killedAt + 3_800);
    expect(during.length).toBeGreaterThan(0);
    expect(during.every((s) => !s.cache.up && s.cache.hitsPerSec === 0 && (s.cache.hitRate ?? 0) === 0)).toBe(true);
    await eventually('redis back', async () => (await instance('redis'))?.phase === 'ready', 15_000);
    await eventually(
      'a cache hit again',
      async () => {
        await timedGet(`${balancer}/users/${id}`);
        return (samples.at(-1)?.cache.hitsPerSec ?? 0) > 0;
      },
      15_000,
    );
    expect(events.some((e) => e.message === 'redis is back')).toBe(true);
  });

  it('a paused replica leaves the balancer, so requests keep succeeding; resumed, it is ready again', async () => {
    await ok(controlPlane.handle('chaos:inject', { action: 'pause', target: 'api-1' }));
    expect((await instance('api-1'))?.phase).toBe('paused');
    const timings = [];
    for (let i = 0; i < 20; i += 1) timings.push(await timedGet(`${balancer}/users?limit=5`));
    expect(timings.every((t) => t.status === 200)).toBe(true);
    const status = await ok<ChaosStatus>(controlPlane.handle('chaos:status', {}));
    expect(status.faults.map((f) => `${f.action} ${f.target}`)).toEqual(['pause api-1']);
    // Clear all resumes it.
    await ok(controlPlane.handle('chaos:clear', {}));
    await eventually('api-1 ready', async () => (await instance('api-1'))?.phase === 'ready', 15_000);
  });

  it('latency on every api replica slows database calls, and clear all restores them', async () => {
    await eventually(
      'both api replicas ready',
      async () =>
        (await ok<StackStatus>(controlPlane.handle('stack:status', {}))).instances.filter((i) => i.service === 'api' && i.phase === 'ready')
          .length === 2,
      15_000,
    );
    const status = await ok<ChaosStatus>(controlPlane.handle('chaos:inject', { action: 'latency', target: 'all', dbMs: 300 }));
    expect(status.faults.map((f) => `${f.action} ${f.target} ${f.detail}`)).toEqual(['latency all db +300 ms']);
    const slow = await timedGet(`${balancer}/users?limit=5`);
    expect(slow.status).toBe(200);
    expect(slow.ms).toBeGreaterThanOrEqual(290);
    // A replica that restarts gets the every-replica fault again.
    await ok(controlPlane.handle('chaos:inject', { action: 'kill', target: 'api-2' }));
    await eventually(
      'api-2 back',
      async () => (await instance('api-2'))?.phase === 'ready' && (await instance('api-2'))!.restarts >= 2,
      20_000,
    );
    const port = (await instance('api-2'))!.port!;
    await eventually(
      'api-2 slow again',
      async () =>
        (await ok<ChaosStatus>(controlPlane.handle('chaos:status', {}))) !== undefined &&
        (await timedGet(`http://127.0.0.1:${port}/users?limit=5`)).ms >= 290,
      10_000,
    );
    const cleared = await ok<ChaosStatus>(controlPlane.handle('chaos:clear', {}));
    expect(cleared.faults).toEqual([]);
    const fast = await timedGet(`${balancer}/users?limit=5`);
    expect(fast.ms).toBeLessThan(250);
  });

  it('60 s of mixed traffic with the monkey on, a cache kill and a database restart lose no acknowledged write', async () => {
    await ok(
      controlPlane.handle('traffic:start', {
        profile: { kind: 'constant', rps: 150 },
        durationS: 60,
        mix: { read: 60, write: 30, list: 5, missing: 5, sendEmail: 0 },
      }),
    );
    await ok(controlPlane.handle('chaos:inject', { action: 'monkey', enabled: true, intervalSeconds: 6, maxDown: 1 }));
    await sleep(15_000);
    await ok(controlPlane.handle('chaos:inject', { action: 'kill-cache', forSeconds: 5 }));
    await sleep(15_000);
    await ok(controlPlane.handle('chaos:inject', { action: 'kill-db', forSeconds: 5 }));
    await eventually('postgres back', async () => (await instance('postgres'))?.phase === 'ready', 30_000);
    await eventually('the traffic run ended', async () => samples.at(-1)?.generator?.running === false, 45_000);
    const summary = await ok<TrafficSummary>(controlPlane.handle('traffic:stop', {}));
    const status = await ok<ChaosStatus>(controlPlane.handle('chaos:clear', {}));
    expect(status.monkey.enabled).toBe(false);
    const monkeyKills = events.filter((e) => e.message.startsWith('monkey killed')).length;
    expect(monkeyKills).toBeGreaterThanOrEqual(3);
    await eventually(
      'every replica ready again',
      async () => (await ok<StackStatus>(controlPlane.handle('stack:status', {}))).instances.every((i) => i.phase === 'ready'),
      30_000,
    );
    const check = await ok<WriteCheck>(controlPlane.handle('writes:verify', {}));
    expect(check.acknowledged).toBeGreaterThan(1_000);
    expect(check.acknowledged).toBeGreaterThanOrEqual(summary.acknowledgedWrites);
    expect(check).toMatchObject({ lost: 0, duplicated: 0, lostIds: [] });
    expect(check.verified).toBe(check.acknowledged);
    await eventually(
      'the check in the Sample',
      async () => samples.at(-1)?.writes.verified === check.verified && samples.at(-1)?.writes.lost === 0,
      5_000,
    );
  }, 150_000);
});
