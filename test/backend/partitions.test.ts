import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyLayout } from '../../backend/db/layout.js';
import { migrate } from '../../backend/db/migrate.js';
import { usersPartitionCount } from '../../backend/db/partitions.js';
import { createPool } from '../../backend/db/pool.js';
import { startStores, type Stores } from './support/stores.js';
import { call, startApi, type RunningApi } from './support/api.js';

let stores: Stores;
const pools: pg.Pool[] = [];
const apis: RunningApi[] = [];

beforeAll(async () => {
  stores = await startStores();
}, 60_000);

afterAll(async () => {
  await Promise.allSettled(apis.map((api) => api.close()));
  await Promise.allSettled(pools.map((pool) => pool.end()));
  await stores?.stop();
});

async function database(name: string): Promise<pg.Pool> {
  await stores.postgres.ensureDatabase(name);
  const pool = createPool({ connectionString: stores.postgres.url(name), max: 4 });
  pools.push(pool);
  return pool;
}

/** Every user as text, timestamps to the microsecond: what a move must keep exactly. */
async function snapshot(pool: pg.Pool) {
  const { rows } = await pool.query<{ id: number; name: string; email: string; created: string; updated: string }>(
    `SELECT id, name, email, created_at::text AS created, updated_at::text AS updated FROM users ORDER BY id`,
  );
  return rows;
}

async function rowsPerPartition(pool: pg.Pool): Promise<Record<string, number>> {
  const { rows } = await pool.query<{ part: string; n: number }>(
    'SELECT tableoid::regclass::text AS part, count(*)::int AS n FROM users GROUP BY 1 ORDER BY 1',
  );
  return Object.fromEntries(rows.map((r) => [r.part, r.n]));
}

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

describe('hash-partitioned users table', () => {
  it('moves the rows of a plain table into N partitions with ids, e-mails and timestamps intact; new ids continue after them', async () => {
    const pool = await database('moving');
    await migrate(pool);
    await applyLayout(pool, { partitions: 0, events: true });
    // Distinct timestamps per row, and a tail of deleted ids that must not be handed out again.
    await pool.query(`INSERT INTO users (name, email, created_at, updated_at)
      SELECT 'User ' || g, 'Mover' || g || '@Example.com', now() - g * interval '1 minute 1.234567 second', now() - g * interval '1 second'
      FROM generate_series(1, 600) g`);
    await pool.query('DELETE FROM users WHERE id > 590 OR id % 97 = 0');
    const before = await snapshot(pool);
    expect(before.length).toBe(584);

    await applyLayout(pool, { partitions: 4, events: true });
    expect(await usersPartitionCount(pool)).toBe(4);
    expect(await snapshot(pool)).toEqual(before);
    const parts = await rowsPerPartition(pool);
    expect(Object.keys(parts)).toEqual(['users_p0', 'users_p1', 'users_p2', 'users_p3']);
    expect(Object.values(parts).every((n) => n > 50)).toBe(true);
    expect(sum(parts)).toBe(before.length);
    const { rows: claims } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM user_emails');
    expect(claims[0]!.n).toBe(before.length);
    const { rows: created } = await pool.query<{ id: number }>(
      `INSERT INTO users (name, email) VALUES ('New', 'new@example.com') RETURNING id`,
    );
    expect(created[0]!.id).toBe(601);
    // The same e-mail in another case is taken across partitions.
    const { rowCount } = await pool.query(`INSERT INTO users (name, email) VALUES ('Dup', 'MOVER5@example.COM')`);
    expect(rowCount).toBe(0);

    // A second start with the same count changes nothing: the same table, not a copy.
    const oid = async () => (await pool.query<{ oid: number }>(`SELECT 'users'::regclass::oid::int AS oid`)).rows[0]!.oid;
    const first = await oid();
    await applyLayout(pool, { partitions: 4, events: true });
    expect(await oid()).toBe(first);

    const withNew = await snapshot(pool);
    await applyLayout(pool, { partitions: 3, events: true });
    expect(await usersPartitionCount(pool)).toBe(3);
    expect(await snapshot(pool)).toEqual(withNew);
    expect(sum(await rowsPerPartition(pool))).toBe(withNew.length);

    await applyLayout(pool, { partitions: 0, events: true });
    expect(await usersPartitionCount(pool)).toBe(0);
    expect(await snapshot(pool)).toEqual(withNew);
    const { rows: tables } = await pool.query<{ name: string }>(
      `SELECT relname AS name FROM pg_class WHERE relname ~ '^(users|user_emails)' AND relkind IN ('r', 'p') ORDER BY 1`,
    );
    expect(tables.map((t) => t.name)).toEqual(['users']);
    const { rows: next } = await pool.query<{ id: number }>(
      `INSERT INTO users (name, email) VALUES ('Plain', 'plain@example.com') RETURNING id`,
    );
    // 602 went to the skipped duplicate above: like the plain table, a refused insert spends its id.
    expect(next[0]!.id).toBe(603);
    await expect(pool.query(`INSERT INTO users (name, email) VALUES ('Dup', 'NEW@example.com')`)).rejects.toMatchObject({ code: '23505' });
  });

  it('an api started with USERS_PARTITIONS serves the users it moved', async () => {
    const pool = await database('started');
    await migrate(pool);
    await pool.query(`INSERT INTO users (name, email) SELECT 'Old ' || g, 'old' || g || '@example.com' FROM generate_series(1, 50) g`);
    const before = await snapshot(pool);
    const api = await startApi({ DATABASE_URL: stores.postgres.url('started'), REDIS_URL: stores.redisUrl, USERS_PARTITIONS: '5' });
    apis.push(api);
    expect(await usersPartitionCount(pool)).toBe(5);
    const res = await call(`${api.url}/users/17`, 'GET');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: 17, name: 'Old 17', email: 'old17@example.com' });
    expect(new Date(res.body.createdAt).getTime()).toBe(new Date(before[16]!.created).getTime());
    const created = await call(`${api.url}/users`, 'POST', { name: 'Next', email: 'next@example.com' });
    expect(created.status).toBe(201);
    expect(created.body.id).toBe(51);
    expect((await call(`${api.url}/users`, 'POST', { name: 'Again', email: 'OLD3@example.com' })).status).toBe(409);
  });

  it('gives the same API results partitioned and unpartitioned', async () => {
    const [plainPool, partedPool] = await Promise.all([database('plain'), database('parted')]);
    // Each api gets its own Redis: both databases hand out the same ids, so cache keys would clash.
    const redisB = await stores.extraRedis();
    const plain = await startApi({ DATABASE_URL: stores.postgres.url('plain'), REDIS_URL: stores.redisUrl, USERS_PARTITIONS: '0' });
    const parted = await startApi({ DATABASE_URL: stores.postgres.url('parted'), REDIS_URL: redisB.url, USERS_PARTITIONS: '4' });
    apis.push(plain, parted);
    expect(await usersPartitionCount(partedPool)).toBe(4);
    expect(await usersPartitionCount(plainPool)).toBe(0);
    const [plainLog, partedLog] = await Promise.all([scenario(plain.url), scenario(parted.url)]);
    expect(partedLog.length).toBeGreaterThan(30);
    expect(partedLog).toEqual(plainLog);
    // …and those results are the right ones, not the same mistake twice.
    const statuses = (plainLog as unknown[][]).filter((e) => typeof e[2] === 'number').map((e) => `${e[0]} ${e[1]} ${e[2]}`);
    expect(statuses.slice(0, 8)).toEqual([
      'POST /users 201',
      'POST /users 201',
      'POST /users 409',
      'POST /users 409',
      'GET /users/<Ada> 200',
      'PATCH /users/<Bob> 409',
      'PATCH /users/<Bob> 200',
      'PATCH /users/<Bob> 200',
    ]);
    expect(statuses).toContain('DELETE /users/<Ada> 204');
    expect(statuses).toContain('DELETE /users/<Ada> 404');
    expect((plainLog as unknown[][]).filter((e) => e[0] === 'batch').map((e) => e[2])).toEqual(
      Array.from({ length: 10 }, () => [201, 409, 409]),
    );

    // The scenario leaves ~20 rows whose ids depend on how its concurrent batches interleaved, so
    // one of 4 hash partitions can hold none by chance (≈ 1 %): 40 more rows make each partition's
    // share certain (an empty one ≈ 1e-7), and their e-mail claims go through the same triggers.
    await partedPool.query(
      `INSERT INTO users (name, email) SELECT 'Extra ' || g, 'extra' || g || '@example.com' FROM generate_series(1, 40) g`,
    );
    const parts = await rowsPerPartition(partedPool);
    const { rows } = await partedPool.query<{ users: number; claims: number }>(
      'SELECT (SELECT count(*)::int FROM users) AS users, (SELECT count(*)::int FROM user_emails) AS claims',
    );
    expect(Object.keys(parts).length).toBe(4);
    expect(sum(parts)).toBe(rows[0]!.users);
    expect(rows[0]!.claims).toBe(rows[0]!.users);
  });
});

/**
 * One fixed sequence of API calls; returns what a client sees with ids and timestamps taken out
 * (ids are replaced by the name of the user they belong to, so references still compare).
 */
async function scenario(base: string): Promise<unknown[]> {
  const log: unknown[] = [];
  const ids = new Map<number, string>();
  const strip = (body: any): unknown => {
    if (body === null || typeof body !== 'object') return body;
    if (Array.isArray(body)) return body.map(strip);
    const { id, createdAt, updatedAt, nextCursor, ...rest } = body;
    if (typeof id === 'number' && typeof rest.name === 'string') ids.set(id, rest.name);
    return {
      ...Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, strip(v)])),
      ...(createdAt === undefined ? {} : { timestamps: typeof createdAt === 'string' && typeof updatedAt === 'string' }),
      ...(nextCursor === undefined ? {} : { more: nextCursor !== null }),
    };
  };
  const step = async (method: string, path: string, body?: unknown) => {
    const res = await call(`${base}${path}`, method, body);
    log.push([
      method,
      path.replace(/\/users\/(\d+)/, (_m, id: string) => `/users/<${ids.get(Number(id)) ?? id}>`),
      res.status,
      strip(res.body),
    ]);
    return res;
  };
  const idOf = async (path: string, body: unknown) => (await step('POST', path, body)).body.id as number;

  const ada = await idOf('/users', { name: 'Ada', email: 'ada@example.com' });
  const bob = await idOf('/users', { name: 'Bob', email: 'Bob@Example.com' });
  await step('POST', '/users', { name: 'Ada again', email: 'ADA@example.com' });
  await step('POST', '/users', { name: 'Bob again', email: 'bob@example.com' });
  await step('GET', `/users/${ada}`);
  await step('PATCH', `/users/${bob}`, { email: 'ada@EXAMPLE.com' });
  await step('PATCH', `/users/${bob}`, { email: 'BOB@example.com' });
  await step('PATCH', `/users/${bob}`, { name: 'Robert' });
  await step('GET', `/users/${bob}`);
  await step('PATCH', `/users/${ada}`, { email: 'ada.lovelace@example.com' });
  // Ada's old e-mail is free again after the change, and the new one is taken.
  const carol = await idOf('/users', { name: 'Carol', email: 'Ada@example.com' });
  await step('POST', '/users', { name: 'Nope', email: 'ADA.LOVELACE@example.com' });
  await step('DELETE', `/users/${ada}`);
  await step('GET', `/users/${ada}`);
  await step('DELETE', `/users/${ada}`);
  await step('PATCH', `/users/${ada}`, { name: 'Ghost' });
  await step('POST', '/users', { name: 'Ada reborn', email: 'ada.lovelace@EXAMPLE.com' });
  await step('PATCH', `/users/${carol}`, { name: 'Caroline', email: 'carol@example.com' });
  await step('POST', '/users', { name: 'Dan', email: 'ada@example.com' });

  // Concurrent creates go through the batcher's multi-row insert: one winner per e-mail.
  const batch = await Promise.all(
    Array.from({ length: 10 }, (_, n) => [
      call(`${base}/users`, 'POST', { name: `Batch ${n}`, email: `batch${n}@example.com` }),
      call(`${base}/users`, 'POST', { name: `Batch ${n}`, email: `BATCH${n}@example.com` }),
      call(`${base}/users`, 'POST', { name: `Batch ${n} dup`, email: `batch${n}@example.com` }),
    ]).flat(),
  );
  for (let n = 0; n < 10; n++) {
    const mine = batch.slice(n * 3, n * 3 + 3);
    log.push(['batch', n, mine.map((r) => r.status).sort(), mine.filter((r) => r.status === 201).map((r) => r.body.email.toLowerCase())]);
  }
  await step('POST', '/users', { name: 'Late', email: 'Batch7@example.com' });

  // Keyset pages in id order: the batch's ids differ between runs, so compare names as a set.
  const names: string[] = [];
  let cursor: string | null = null;
  do {
    const res: Awaited<ReturnType<typeof call>> = await call(`${base}/users?limit=7${cursor ? `&cursor=${cursor}` : ''}`, 'GET');
    expect(res.status).toBe(200);
    const pageIds = res.body.items.map((u: { id: number }) => u.id);
    expect(pageIds).toEqual([...pageIds].sort((a, b) => a - b));
    // Which of the concurrent duplicates won is a race: batch users compare by e-mail alone.
    names.push(
      ...res.body.items.map((u: { name: string; email: string }) =>
        u.name.startsWith('Batch') ? `<${u.email.toLowerCase()}>` : `${u.name} <${u.email}>`,
      ),
    );
    cursor = res.body.nextCursor;
  } while (cursor);
  log.push(['list', names.length, names.slice(0, 4), [...names].sort()]);
  await step('GET', '/users?limit=3');
  return log;
}
