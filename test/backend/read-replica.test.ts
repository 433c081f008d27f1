import path from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../electron/control/runtimes/local/ports.js';
import { postgresDataDir, type LocalPostgres } from '../../electron/control/runtimes/local/postgres.js';
import { dropReplica, seedReplica } from '../../electron/control/runtimes/local/postgres-replica.js';
import { ReadRouter, lsnFromSortable, maxLsn, sortableLsn } from '../../backend/db/read-router.js';
import { startStores, type Stores } from './support/stores.js';
import { call, eventually, metric, startApi, type RunningApi } from './support/api.js';

let stores: Stores;
let replica: LocalPostgres | undefined;
let replicaDir: string;
/** Two api replicas sharing Redis, as behind the balancer: a write through one, a read through the other. */
let api: RunningApi;
let api2: RunningApi;
let seq = 0;

const LSN = /^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/;
const email = () => `replica${++seq}-${Date.now()}@example.com`;
const cursorBefore = (id: number) => Buffer.from(String(id - 1)).toString('base64url');

async function onReplica<T extends pg.QueryResultRow>(sql: string, values?: unknown[], database = 'scalelab'): Promise<T[]> {
  const client = new pg.Client({ connectionString: replica!.url(database), connectionTimeoutMillis: 2_000 });
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

/** Sets the replica's replay delay (chaos `replica-delay` does the same) and waits until it applies. */
async function setApplyDelay(value: string | null): Promise<void> {
  await onReplica(
    value === null ? 'ALTER SYSTEM RESET recovery_min_apply_delay' : `ALTER SYSTEM SET recovery_min_apply_delay = '${value}'`,
    [],
    'postgres',
  );
  await onReplica('SELECT pg_reload_conf()', [], 'postgres');
  const expected = value ?? '0';
  await eventually(
    `recovery_min_apply_delay = ${expected}`,
    async () => (await onReplica<{ d: string }>(`SELECT current_setting('recovery_min_apply_delay') AS d`))[0]!.d === expected,
  );
}

beforeAll(async () => {
  stores = await startStores();
  replicaDir = postgresDataDir(path.join(stores.dir, 'replica'));
  replica = await seedReplica(stores.postgres, {
    dataDir: replicaDir,
    port: await freePort(),
    logFile: path.join(stores.dir, 'replica.log'),
  });
  const env = { DATABASE_URL: stores.databaseUrl, REDIS_URL: stores.redisUrl, DATABASE_REPLICA_URL: replica.url('scalelab') };
  [api, api2] = await Promise.all([startApi(env), startApi(env)]);
}, 120_000);

afterAll(async () => {
  await Promise.allSettled([api?.close(), api2?.close()]);
  await replica?.stop();
  if (stores) await dropReplica(replicaDir, stores.postgres.url()).catch(() => undefined);
  await stores?.stop();
});

describe('reads on a streaming read replica', () => {
  it('follows the primary and serves the reads that miss the cache and the lists', async () => {
    const created = await call(`${api.url}/users`, 'POST', { name: 'Replicated', email: email() });
    expect(created.status).toBe(201);
    expect(created.headers.get('x-write-lsn')).toMatch(LSN);
    const id = created.body.id as number;
    await eventually('the user replicated', async () => (await onReplica('SELECT 1 FROM users WHERE id = $1', [id])).length === 1);

    const replicaReads = () => metric(api2.url, 'db_reads_total', { target: 'replica' });
    const before = await replicaReads();
    const one = await call(`${api2.url}/users/${id}`, 'GET');
    expect(one.status).toBe(200);
    expect(one.body).toEqual(created.body);
    const page = await call(`${api2.url}/users?limit=1&cursor=${cursorBefore(id)}`, 'GET');
    expect(page.body.items).toEqual([created.body]);
    await eventually('reads served by the replica', async () => {
      expect((await call(`${api2.url}/users?limit=5`, 'GET')).status).toBe(200);
      return (await replicaReads()) >= before + 2;
    });
    expect(await metric(api2.url, 'db_pool_connections', { pool: 'replica', state: 'max' })).toBe(10);
    expect(await metric(api2.url, 'db_pool_connections', { pool: 'primary', state: 'max' })).toBe(10);
    expect(await metric(api2.url, 'db_replica_fallbacks_total')).toBe(0);
  });

  it('reads back its own writes, through any api replica, while the replica replays 2 s late', async () => {
    await setApplyDelay('2s');
    try {
      // api2 is on the replica for reads without a floor (it has seen it caught up).
      const replicaReads = () => metric(api2.url, 'db_reads_total', { target: 'replica' });
      const onReplicaBefore = await replicaReads();
      await eventually('api2 reading from the replica', async () => {
        await call(`${api2.url}/users?limit=1`, 'GET');
        return (await replicaReads()) > onReplicaBefore;
      });
      const primaryReads = () => metric(api2.url, 'db_reads_total', { target: 'primary' });
      const primaryBefore = await primaryReads();

      // Create through one api, read through the other at once.
      const created = await call(`${api.url}/users`, 'POST', { name: 'Before', email: email() });
      expect(created.status).toBe(201);
      const id = created.body.id as number;
      const createLsn = created.headers.get('x-write-lsn')!;
      expect(createLsn).toMatch(LSN);
      expect(await onReplica('SELECT 1 FROM users WHERE id = $1', [id])).toEqual([]); // the delay is real
      expect((await call(`${api2.url}/users/${id}`, 'GET')).body).toEqual(created.body);
      const listed = await call(`${api2.url}/users?limit=1&cursor=${cursorBefore(id)}`, 'GET', undefined, { 'x-min-lsn': createLsn });
      expect(listed.body.items).toEqual([created.body]);
      // Without the position the list comes from the replica, which has not replayed the create yet.
      const stale = await call(`${api2.url}/users?limit=1&cursor=${cursorBefore(id)}`, 'GET');
      expect(stale.status).toBe(200);
      expect(stale.body.items).toEqual([]);

      // The read above cached the user; an update through the other api is read back at once.
      const patched = await call(`${api.url}/users/${id}`, 'PATCH', { name: 'After' });
      expect(patched.status).toBe(200);
      const patchLsn = patched.headers.get('x-write-lsn')!;
      expect(patchLsn).toMatch(LSN);
      expect((await call(`${api2.url}/users/${id}`, 'GET')).body.name).toBe('After');
      expect((await call(`${api.url}/users/${id}`, 'GET')).body.name).toBe('After');
      const relisted = await call(`${api2.url}/users?limit=1&cursor=${cursorBefore(id)}`, 'GET', undefined, { 'x-min-lsn': patchLsn });
      expect(relisted.body.items[0].name).toBe('After');
      expect(await primaryReads()).toBeGreaterThan(primaryBefore);

      // A deletion too: the replica still has the row, the api answers 404.
      const doomed = await call(`${api2.url}/users`, 'POST', { name: 'Doomed', email: email() });
      await call(`${api.url}/users/${doomed.body.id}`, 'GET');
      await eventually(
        'the doomed user replicated',
        async () => (await onReplica('SELECT 1 FROM users WHERE id = $1', [doomed.body.id])).length === 1,
        10_000,
      );
      expect((await call(`${api2.url}/users/${doomed.body.id}`, 'DELETE')).status).toBe(204);
      expect((await call(`${api.url}/users/${doomed.body.id}`, 'GET')).status).toBe(404);
      expect(await onReplica('SELECT 1 FROM users WHERE id = $1', [doomed.body.id])).toHaveLength(1);

      // Once the replica has caught up, what is cached is the write, never the replica's older row.
      await eventually(
        'the update replayed',
        async () => (await onReplica<{ name: string }>('SELECT name FROM users WHERE id = $1', [id]))[0]?.name === 'After',
        10_000,
      );
      const redis = new Redis(stores.redisUrl);
      try {
        for (const base of [api.url, api2.url, api.url]) expect((await call(`${base}/users/${id}`, 'GET')).body.name).toBe('After');
        expect(await redis.get(`user:${id}`)).toContain('"name":"After"');
      } finally {
        redis.disconnect();
      }
    } finally {
      await setApplyDelay(null);
    }
  }, 60_000);

  it('serves every read from the primary, without an error, when the replica is killed, and returns to it once it is back', async () => {
    // No cache: every read is a database read, so each one would meet the dead replica.
    const nocache = await startApi({
      DATABASE_URL: stores.databaseUrl,
      REDIS_URL: stores.redisUrl,
      DATABASE_REPLICA_URL: replica!.url('scalelab'),
      CACHE_TTL_SECONDS: '0',
    });
    try {
      const ids: number[] = [];
      for (let i = 0; i < 5; i++) ids.push((await call(`${nocache.url}/users`, 'POST', { name: `Load ${i}`, email: email() })).body.id);
      const replicaReads = () => metric(nocache.url, 'db_reads_total', { target: 'replica' });
      await eventually('reads on the replica', async () => {
        await call(`${nocache.url}/users?limit=3`, 'GET');
        return (await replicaReads()) > 0;
      });

      const failures: string[] = [];
      let reads = 0;
      let stop = false;
      const reader = async (n: number) => {
        while (!stop) {
          const path = n % 2 === 0 ? `/users/${ids[reads % ids.length]}` : '/users?limit=5';
          const res = await call(`${nocache.url}${path}`, 'GET').catch((err: Error) => ({ status: 0, body: err.message }));
          reads++;
          if (res.status !== 200) failures.push(`${path}: ${res.status} ${JSON.stringify(res.body)}`);
        }
      };
      const traffic = Promise.all(Array.from({ length: 6 }, (_, n) => reader(n)));
      await new Promise((resolve) => setTimeout(resolve, 500));
      await replica!.crash();
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      stop = true;
      await traffic;
      expect(failures).toEqual([]);
      expect(reads).toBeGreaterThan(50);
      expect(await metric(nocache.url, 'db_replica_fallbacks_total')).toBeGreaterThan(0);

      // Back: the background probe notices and reads return to the replica.
      await replica!.restart();
      const afterRestart = await replicaReads();
      await eventually(
        'reads back on the replica',
        async () => {
          expect((await call(`${nocache.url}/users?limit=3`, 'GET')).status).toBe(200);
          return (await replicaReads()) > afterRestart;
        },
        30_000,
      );
    } finally {
      await nocache.close();
    }
  }, 90_000);
});

/** A stand-in pool answering the router's position queries with `positions()` and any other query with its `name`. */
function fakePool(name: string, positions: () => { lsn: string; block?: number }) {
  const log: string[] = [];
  const pool = {
    log,
    query: async (config: string | pg.QueryConfig) => {
      const text = typeof config === 'string' ? config : config.text;
      if (/pg_current_wal_insert_lsn|pg_last_wal_replay_lsn/.test(text)) return { rows: [{ block: 8192, ...positions() }] };
      log.push(text);
      return { rows: [{ from: name }] };
    },
  };
  return pool as unknown as pg.Pool & { log: string[] };
}

describe('read router decisions', () => {
  it('compares WAL positions as numbers, also as sortable strings', () => {
    const positions = ['0/0', '0/3000148', '0/FFFFFFFF', '1/0', '16/B374D848', 'FFFFFFFF/FFFFFFFF'];
    const sortable = positions.map((p) => sortableLsn(p)!);
    expect([...sortable].sort()).toEqual(sortable);
    expect(sortable.map(lsnFromSortable)).toEqual(positions);
    expect(maxLsn('0/3000148', '0/300014C')).toBe('0/300014C');
    expect(sortableLsn('not-an-lsn')).toBeUndefined();
  });

  it('never answers a write with a position read before the write returned', async () => {
    const answers: ((lsn: string) => void)[] = [];
    const primary = { query: () => new Promise((resolve) => answers.push((lsn) => resolve({ rows: [{ lsn }] }))) } as unknown as pg.Pool;
    const router = new ReadRouter({ primary, replica: primary });
    const first = router.writeLsn();
    const [second, third] = [router.writeLsn(), router.writeLsn()];
    expect(answers).toHaveLength(1); // the later callers wait for a query of their own
    answers[0]!('0/10');
    expect(await first).toBe('0/10');
    await new Promise((resolve) => setImmediate(resolve));
    expect(answers).toHaveLength(2); // …one, shared
    answers[1]!('0/20');
    expect([await second, await third]).toEqual(['0/20', '0/20']);
    router.close();
  });

  it('sends a read with a floor to the replica once it has replayed it, a page header short counting as replayed', async () => {
    let insert = '0/2000028'; // just past the header of the page at 0/2000000
    let replay = '0/1FFFFF0';
    const primary = fakePool('primary', () => ({ lsn: insert }));
    const replica = fakePool('replica', () => ({ lsn: replay }));
    const router = new ReadRouter({ primary, replica, recheckAfterMs: 0 });
    try {
      await router.query({ text: 'SELECT read' }, insert);
      expect([primary.log.length, replica.log.length]).toEqual([1, 0]);
      replay = '0/2000000'; // the end of the record that filled the page before
      await router.query({ text: 'SELECT read' }, insert);
      expect([primary.log.length, replica.log.length]).toEqual([1, 1]);
      insert = '0/2000100';
      await router.query({ text: 'SELECT read' }, insert);
      expect([primary.log.length, replica.log.length]).toEqual([2, 1]);
    } finally {
      router.close();
    }
  });

  it('sends every read to the primary while the replica lags more than maxLagMs', async () => {
    let insert = '0/5000000';
    const primary = fakePool('primary', () => ({ lsn: insert }));
    const replica = fakePool('replica', () => ({ lsn: '0/5000000' }));
    const router = new ReadRouter({ primary, replica, maxLagMs: 300, pollIntervalMs: 20 });
    try {
      await router.query({ text: 'SELECT read' });
      expect(replica.log).toHaveLength(1);
      insert = '0/6000000'; // the primary moves on, the replica stays
      await new Promise((resolve) => setTimeout(resolve, 100));
      await router.query({ text: 'SELECT read' });
      expect(replica.log).toHaveLength(2); // behind, but not by 300 ms yet
      await new Promise((resolve) => setTimeout(resolve, 400));
      await router.query({ text: 'SELECT read' });
      expect([primary.log.length, replica.log.length]).toEqual([1, 2]);
    } finally {
      router.close();
    }
  });
});
