import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withDefaults, type Instance } from '../../../../electron/contract.js';
import { Chaos } from '../../../../electron/control/chaos/chaos.js';
import { isAlive } from '../../../../electron/control/runtimes/local/adopted-process.js';
import { LocalRuntime } from '../../../../electron/control/runtimes/local/local-runtime.js';
import { stackDir } from '../../../../electron/control/runtimes/local/stack-dir.js';
import { freePort } from '../../../../electron/control/runtimes/local/ports.js';
import { replicaStatus } from '../../../../electron/control/runtimes/local/postgres-replica.js';
import { replicaDataDir } from '../../../../electron/control/runtimes/local/read-replica.js';
import type { Runtime } from '../../../../electron/control/runtimes/runtime.js';
import { eventually } from '../../../backend/support/api.js';
import { removeTempHome } from '../../../support/temp-home.js';

let home: string;
let runtime: LocalRuntime;
let chaos: Chaos;
let balancer: string;
let replicaUrl: string;
const events: string[] = [];
const progress: string[] = [];
const spec = async () =>
  withDefaults({ name: 'replica', port: await freePort(), replicas: { api: 2, worker: 0 }, data: { readReplica: true } });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const dir = () => stackDir(home, 'replica');
const replicaInstance = () => runtime.currentInstances().find((i) => i.id === 'postgres-replica');

async function query<T extends pg.QueryResultRow>(url: string, sql: string, values?: unknown[]): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

async function createUser(tag: string): Promise<{ id: number; email: string }> {
  const email = `${tag}-${Date.now()}@example.com`;
  const response = await fetch(`${balancer}/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: tag, email }),
  });
  expect(response.status).toBe(201);
  return { id: ((await response.json()) as { id: number }).id, email };
}

const onReplica = async (email: string) => (await query(replicaUrl, 'SELECT 1 FROM users WHERE email = $1', [email])).length === 1;

beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'scalelab-local-replica-'));
  runtime = new LocalRuntime({ home });
  const endpoints = await runtime.up(await spec(), (m) => progress.push(m));
  balancer = endpoints.balancer;
  replicaUrl = endpoints.replicaUrl!;
  chaos = new Chaos({ runtime: () => runtime, record: (e) => events.push(e.message), replicaUrl: () => replicaUrl });
}, 120_000);

afterAll(async () => {
  chaos?.reset();
  await runtime?.down({ keepData: false });
  await removeTempHome(home);
});

describe('read replica on the local runtime', () => {
  it('starts a streaming replica after the primary, records it, and replicates the api writes', async () => {
    expect(replicaUrl).toMatch(/^postgres:\/\/postgres:.+@127\.0\.0\.1:\d+\/scalelab$/);
    expect(progress.indexOf('starting the PostgreSQL read replica')).toBeGreaterThan(
      progress.findIndex((m) => m.startsWith('starting PostgreSQL')),
    );
    expect(progress.some((m) => m.startsWith('read replica streaming from the primary'))).toBe(true);
    const replica = replicaInstance();
    expect(replica).toMatchObject({ service: 'postgres', phase: 'ready' });
    const state = JSON.parse(await readFile(path.join(dir(), 'state.json'), 'utf8')) as { postgresReplica?: { pid: number; port: number } };
    expect(state.postgresReplica).toEqual({ pid: replica!.pid, port: replica!.port });
    const user = await createUser('replicated');
    await eventually('the user reached the replica', () => onReplica(user.email));
    expect(await replicaStatus(replicaUrl)).toMatchObject({ inRecovery: true, streaming: true });
  });

  it('kill-replica: reads through the balancer keep answering 200 while the replica is down, and it comes back', async () => {
    const user = await createUser('reader');
    const before = replicaInstance()!;
    const status = await chaos.inject({ action: 'kill-replica', forSeconds: 3 });
    expect(status.faults).toContainEqual(expect.objectContaining({ action: 'kill-replica', target: 'postgres-replica' }));
    expect(isAlive(before.pid!)).toBe(false);
    const codes: number[] = [];
    const until = Date.now() + 2_500;
    while (Date.now() < until) {
      for (const url of [`${balancer}/users/${user.id}`, `${balancer}/users?limit=5`]) {
        const response = await fetch(url);
        await response.arrayBuffer();
        codes.push(response.status);
      }
    }
    expect(codes.length).toBeGreaterThan(10);
    expect(codes.filter((c) => c !== 200)).toEqual([]);
    await eventually('the replica is back', async () => events.includes('the read replica is back'), 30_000);
    const after = replicaInstance()!;
    expect(after.phase).toBe('ready');
    expect(after.pid).not.toBe(before.pid);
    expect(chaos.status().faults).toEqual([]);
    const later = await createUser('after-kill');
    await eventually('the replica streams again', () => onReplica(later.email), 30_000);
  }, 60_000);

  it('replica-delay sets recovery_min_apply_delay on the replica (changes show late), and clear reverts it', async () => {
    const status = await chaos.inject({ action: 'replica-delay', ms: 3_000, forSeconds: 60 });
    expect(status.message).toBe('read replica replays 3000 ms behind the primary for 60 s');
    expect(status.faults).toContainEqual(expect.objectContaining({ action: 'replica-delay', target: 'postgres-replica' }));
    expect(await query(replicaUrl, 'SHOW recovery_min_apply_delay')).toEqual([{ recovery_min_apply_delay: '3s' }]);
    const user = await createUser('delayed');
    await sleep(1_000);
    expect(await onReplica(user.email)).toBe(false);
    await eventually('the delayed user reached the replica', () => onReplica(user.email), 15_000);
    const cleared = await chaos.clear();
    expect(cleared.faults).toEqual([]);
    expect(await query(replicaUrl, 'SHOW recovery_min_apply_delay')).toEqual([{ recovery_min_apply_delay: '0' }]);
  }, 60_000);

  it('a restarted control plane adopts the running replica; data settings changed while running wait for the next start', async () => {
    const replica = replicaInstance()!;
    // A second runtime stands in for a restarted app: the first lets go without stopping anything.
    await runtime.dispose();
    runtime = new LocalRuntime({ home });
    progress.length = 0;
    const endpoints = await runtime.up(await spec(), (m) => progress.push(m));
    expect(progress).toContain(`adopted the read replica (pid ${replica.pid})`);
    expect(replicaInstance()?.pid).toBe(replica.pid);
    expect(endpoints.replicaUrl).toBe(replicaUrl);
    progress.length = 0;
    await runtime.up({ ...(await spec()), data: { readReplica: false, events: true, partitions: 0 } }, (m) => progress.push(m));
    expect(progress.some((m) => m.startsWith('the data settings (read replica, events, partitions) apply on the next start'))).toBe(true);
    expect(runtime.currentSpec()?.data.readReplica).toBe(true);
  }, 60_000);

  it('down stops the replica with the primary, and a purge deletes its data', async () => {
    const replica = replicaInstance()!;
    expect(existsSync(replicaDataDir(dir()))).toBe(true);
    await runtime.down({ keepData: false });
    expect(isAlive(replica.pid!)).toBe(false);
    expect(existsSync(replicaDataDir(dir()))).toBe(false);
  }, 60_000);
});

describe('data-layer chaos against a stub runtime', () => {
  const worker = (port: number): Instance => ({ id: 'worker-1', service: 'worker', phase: 'ready', restarts: 0, port, startedAt: 1 });
  const stub = (instances: Instance[], data: { readReplica: boolean; events: boolean }): Runtime =>
    ({
      name: 'local',
      currentInstances: () => instances,
      currentSpec: () => ({ ...withDefaults({}), data: { ...data, partitions: 0 } }),
      adminToken: () => 'token-token-token-token',
      endOutage: () => undefined,
    }) as unknown as Runtime;

  it('kill-replica and replica-delay say how to get a replica when the stack runs none', async () => {
    const chaos = new Chaos({ runtime: () => stub([], { readReplica: false, events: true }), record: () => undefined });
    await expect(chaos.inject({ action: 'kill-replica' })).rejects.toThrow(
      'this stack runs no read replica; start it with data.readReplica on',
    );
    await expect(chaos.inject({ action: 'replica-delay', ms: 100 })).rejects.toMatchObject({
      name: 'ChaosError',
      message: expect.stringContaining('data.readReplica on'),
    });
  });

  it('kill-relay and kill-projector POST to every worker with the admin token, and clear revives them', async () => {
    const seen: { method: string; url: string; auth: string | undefined; body: unknown }[] = [];
    const server = createServer((req: IncomingMessage, res) => {
      let text = '';
      req.on('data', (d: Buffer) => (text += d.toString()));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, auth: req.headers.authorization, body: JSON.parse(text || 'null') });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const timeline: string[] = [];
    const chaos = new Chaos({
      runtime: () => stub([worker(port)], { readReplica: false, events: true }),
      record: (e) => timeline.push(e.message),
    });
    try {
      const status = await chaos.inject({ action: 'kill-relay', forSeconds: 20 });
      expect(status.message).toBe('killed the relay in worker-1; back in 20 s');
      expect(status.faults).toContainEqual(expect.objectContaining({ action: 'kill-relay', target: 'workers' }));
      await chaos.inject({ action: 'kill-projector', forSeconds: 5 });
      expect(seen).toEqual([
        { method: 'POST', url: '/admin/stream/kill', auth: 'Bearer token-token-token-token', body: { component: 'relay', forSeconds: 20 } },
        {
          method: 'POST',
          url: '/admin/stream/kill',
          auth: 'Bearer token-token-token-token',
          body: { component: 'projector', forSeconds: 5 },
        },
      ]);
      seen.length = 0;
      expect((await chaos.clear()).faults).toEqual([]);
      // clear undoes in reverse list order: the projector (listed after the relay) first.
      expect(seen.map((s) => [s.url, s.body])).toEqual([
        ['/admin/stream/revive', { component: 'projector' }],
        ['/admin/stream/revive', { component: 'relay' }],
      ]);
      expect(timeline).toContain('killed the relay in worker-1; back in 20 s');
    } finally {
      chaos.reset();
      server.close();
    }
  });

  it('kill-relay needs a worker and the event pipeline', async () => {
    await expect(
      new Chaos({ runtime: () => stub([], { readReplica: false, events: true }), record: () => undefined }).inject({
        action: 'kill-relay',
      }),
    ).rejects.toThrow(/no ready worker replica/);
    await expect(
      new Chaos({ runtime: () => stub([], { readReplica: false, events: false }), record: () => undefined }).inject({
        action: 'kill-projector',
      }),
    ).rejects.toThrow('this stack runs no event pipeline; start it with data.events on');
  });
});
