import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../backend/db/pool.js';
import { migrate, withMigrationLock } from '../../backend/db/migrate.js';
import { OUTBOX_CHANNEL, setOutboxTrigger } from '../../backend/db/outbox.js';
import { PROJECTOR_GROUP, USER_EVENTS_STREAM } from '../../backend/stream.js';
import { freePort } from '../../electron/control/runtimes/local/ports.js';
import { startStores, type Stores } from './support/stores.js';
import { call, eventually, metric, startApi, type RunningApi } from './support/api.js';
import { startBackend, type BackendChild } from './support/process.js';

const TOKEN = 'events-test-admin-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };

interface RunningWorker extends BackendChild {
  url: string;
}

let stores: Stores;
let pool: pg.Pool;
let redis: Redis;
let api: RunningApi;
/** Workers that are ready; `children` holds every process started, for the cleanup. */
const workers: RunningWorker[] = [];
const children: BackendChild[] = [];

async function startWorker(name: string): Promise<RunningWorker> {
  const port = await freePort();
  const child = startBackend('worker', stores.dir, {
    DATABASE_URL: stores.databaseUrl,
    REDIS_URL: stores.redisUrl,
    METRICS_PORT: String(port),
    ADMIN_TOKEN: TOKEN,
    INSTANCE_ID: name,
    EMAIL_WORK_MS: '0',
  });
  children.push(child);
  const worker = { ...child, url: `http://127.0.0.1:${port}` };
  await eventually(
    `worker ${name} runs its projector`,
    async () => (await child.log()).includes('projector started') && (await fetch(`${worker.url}/healthz`)).ok,
    40_000,
  ).catch(async (err: Error) => {
    throw new Error(`${err.message}\n${await child.log()}`);
  });
  workers.push(worker);
  return worker;
}

const admin = (worker: RunningWorker, path: string, body?: unknown) => call(`${worker.url}${path}`, 'POST', body, AUTH);

async function rows<R extends pg.QueryResultRow>(sql: string, values: unknown[] = []): Promise<R[]> {
  return (await pool.query<R>(sql, values)).rows;
}

/**
 * True once the outbox is drained, the group has read and acknowledged everything, and the read
 * model counts at least every event (more would be a double count, which the tests then show).
 */
async function caughtUp(): Promise<boolean> {
  const [state] = await rows<{ unsent: number; events: number; applied: number }>(
    `SELECT (SELECT count(*) FROM outbox WHERE sent_at IS NULL)::int AS unsent, (SELECT count(*) FROM outbox)::int AS events,
            (SELECT events FROM read_model_state)::int AS applied`,
  );
  const groups = (await redis.xinfo('GROUPS', USER_EVENTS_STREAM)) as (string | number)[][];
  const group = groups
    .map((g) => new Map(g.flatMap((v, i) => (i % 2 === 0 ? [[String(v), g[i + 1]]] : []))))
    .find((g) => g.get('name') === PROJECTOR_GROUP);
  return state!.unsent === 0 && state!.applied >= state!.events && Number(group?.get('pending')) === 0 && Number(group?.get('lag')) === 0;
}

const DOMAINS_OF_USERS = `SELECT lower(substring(email from '@([^@]*)$')) AS domain, count(*)::int AS users FROM users GROUP BY 1 ORDER BY 1`;
const DOMAINS_PROJECTED = 'SELECT domain, users FROM read_model_domains ORDER BY domain';
const SIGNUPS_OF_OUTBOX = `SELECT extract(epoch FROM date_trunc('minute', (payload->>'createdAt')::timestamptz, 'UTC'))::bigint AS minute, count(*)::int AS signups
  FROM outbox WHERE type = 'user.created' GROUP BY 1 ORDER BY 1`;
const SIGNUPS_PROJECTED = 'SELECT extract(epoch FROM minute)::bigint AS minute, signups FROM read_model_signups ORDER BY 1';

beforeAll(async () => {
  stores = await startStores();
  pool = createPool({ connectionString: stores.databaseUrl, max: 4 });
  redis = new Redis(stores.redisUrl);
  // The api migrates and installs the outbox trigger before it listens.
  api = await startApi({ DATABASE_URL: stores.databaseUrl, REDIS_URL: stores.redisUrl });
  await Promise.all([startWorker('worker-a'), startWorker('worker-b')]);
}, 90_000);

afterAll(async () => {
  for (const c of children) c.child.kill('SIGKILL');
  await api?.close();
  redis?.disconnect();
  await pool?.end();
  await stores?.stop();
});

describe('user events: outbox → stream → read model', () => {
  it('writes each create, update and delete to the outbox, relays it and projects it into GET /stats/users', async () => {
    const grace = await call(`${api.url}/users`, 'POST', { name: 'Grace', email: 'grace@Navy.MIL' });
    const ada = await call(`${api.url}/users`, 'POST', { name: 'Ada', email: 'ada@Example.ORG' });
    expect([grace.status, ada.status]).toEqual([201, 201]);
    await eventually('the create is projected', async () =>
      (await call(`${api.url}/stats/users`, 'GET')).body.domains.some((d: { domain: string }) => d.domain === 'example.org'),
    );
    expect((await call(`${api.url}/users/${ada.body.id}`, 'PATCH', { email: 'ada@lovelace.dev' })).status).toBe(200);
    expect((await call(`${api.url}/users/${ada.body.id}`, 'DELETE')).status).toBe(204);

    const events = await rows<{ type: string; user_id: number; payload: Record<string, unknown>; event_id: string }>(
      'SELECT type, user_id, payload, event_id::text FROM outbox ORDER BY id',
    );
    expect(events.map((e) => [e.type, e.user_id])).toEqual([
      ['user.created', grace.body.id],
      ['user.created', ada.body.id],
      ['user.updated', ada.body.id],
      ['user.deleted', ada.body.id],
    ]);
    expect(events[1]!.payload).toEqual({ id: ada.body.id, email: 'ada@Example.ORG', createdAt: expect.any(String) });
    expect(Date.parse(events[1]!.payload.createdAt as string)).toBe(Date.parse(ada.body.createdAt));
    expect(events[2]!.payload).toEqual({ id: ada.body.id, email: 'ada@lovelace.dev', oldEmail: 'ada@Example.ORG' });
    expect(events[3]!.payload).toEqual({ id: ada.body.id, oldEmail: 'ada@lovelace.dev', createdAt: events[1]!.payload.createdAt });

    await eventually('every event is relayed and projected', caughtUp);
    const stream = await redis.xrange(USER_EVENTS_STREAM, '-', '+');
    const published = stream.map(([, fields]) => fields[fields.indexOf('event_id') + 1]);
    expect(new Set(published)).toEqual(new Set(events.map((e) => e.event_id)));
    const entry = stream.find(([, f]) => f[f.indexOf('type') + 1] === 'user.updated')![1];
    expect(JSON.parse(entry[entry.indexOf('payload') + 1]!)).toEqual(events[2]!.payload);

    const stats = await call(`${api.url}/stats/users`, 'GET');
    expect(stats.status).toBe(200);
    expect(stats.body.total).toBe(1);
    expect(stats.body.domains).toEqual([{ domain: 'navy.mil', users: 1 }]);
    // Ada's sign-up still counts: a deletion does not undo it.
    expect(stats.body.signupsPerMinute.reduce((n: number, m: { signups: number }) => n + m.signups, 0)).toBe(2);
    expect(stats.body.freshness).toMatchObject({ events: 4, lastEventId: events[3]!.event_id });
    expect(Date.parse(stats.body.freshness.lastOccurredAt)).toBeGreaterThanOrEqual(Date.parse(ada.body.createdAt));
  }, 30_000);

  it('guards the worker admin routes: 401 without the token, 400 on a bad body', async () => {
    const worker = workers[0]!;
    expect((await call(`${worker.url}/admin/stream/kill`, 'POST', { component: 'relay', forSeconds: 1 })).status).toBe(401);
    expect(
      (await call(`${worker.url}/admin/stream/kill`, 'POST', { component: 'relay', forSeconds: 1 }, { authorization: 'Bearer wrong' }))
        .status,
    ).toBe(401);
    for (const body of [
      { component: 'cache', forSeconds: 1 },
      { component: 'relay', forSeconds: -1 },
      { component: 'relay', forSeconds: 'soon' },
      { component: 'relay', extra: 1 },
      'not json',
    ]) {
      const res = await admin(worker, '/admin/stream/kill', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.message).toMatch(/body/);
    }
    expect(await metric(worker.url, 'stream_component_up', { component: 'relay' })).toBe(1);
  });

  it('projects 5,000 writes exactly once while relays, projectors and a worker are killed', async () => {
    const [a, b] = workers as [RunningWorker, RunningWorker];
    const eventsByType = async () =>
      Object.fromEntries(
        (await rows<{ type: string; n: number }>('SELECT type, count(*)::int AS n FROM outbox GROUP BY type')).map((r) => [r.type, r.n]),
      );
    const before = await eventsByType();
    const alive: { id: number; n: number }[] = [];
    const acked = { created: 0, updated: 0, deleted: 0, failed: 0 };
    const domains = ['Example.com', 'example.org', 'ACME.io', 'mail.test', 'corp.example', 'shop.example', 'lab.test', 'uni.edu'];
    const address = (n: number) => `u${n}@${domains[n % domains.length]}`;
    const total = 5_000;
    let issued = 0;
    let done = 0;
    let seq = 0;
    const log: string[] = [];
    const everywhere = (path: string, body: unknown) => Promise.all(workers.map((w) => admin(w, path, body)));
    let c: Promise<RunningWorker> | undefined;
    // Chaos at fixed points of the run, so it always lands while writes flow.
    const steps: [number, () => Promise<unknown>][] = [
      [
        0.1,
        async () => {
          const res = await everywhere('/admin/stream/kill', { component: 'relay', forSeconds: 1.5 });
          expect(res.map((r) => r.status)).toEqual([202, 202]);
          expect(res[0]!.body).toMatchObject({ component: 'relay', until: expect.any(Number) });
          expect(await metric(a.url, 'stream_component_up', { component: 'relay' })).toBe(0);
        },
      ],
      [0.25, () => everywhere('/admin/stream/kill', { component: 'projector', forSeconds: 1.5 })],
      [
        0.4,
        async () => {
          b.child.kill('SIGKILL');
          await b.exited;
          workers.splice(workers.indexOf(b), 1);
          // Not awaited: the next steps land while writes flow, on whichever workers are ready.
          c = startWorker('worker-c');
        },
      ],
      [0.55, () => everywhere('/admin/stream/kill', { component: 'relay', forSeconds: 1 })],
      [
        0.7,
        async () => {
          await everywhere('/admin/stream/kill', { component: 'projector', forSeconds: 60 });
          await new Promise((resolve) => setTimeout(resolve, 1_500));
          // chaos "clear": back now rather than in a minute
          const res = await everywhere('/admin/stream/revive', { component: 'projector' });
          expect(res.map((r) => r.body)).toEqual(res.map(() => ({ component: 'projector', up: true })));
        },
      ],
    ];

    const one = async (): Promise<void> => {
      const pick = alive.length > 50 ? Math.random() : 1;
      if (pick < 0.2) {
        const [user] = alive.splice(Math.floor(Math.random() * alive.length), 1);
        const n = ++seq + 1_000_000;
        const res = await call(`${api.url}/users/${user!.id}`, 'PATCH', { email: address(n) });
        if (res.status === 200) acked.updated++;
        else acked.failed++;
        alive.push({ id: user!.id, n });
      } else if (pick < 0.3) {
        const [user] = alive.splice(Math.floor(Math.random() * alive.length), 1);
        const res = await call(`${api.url}/users/${user!.id}`, 'DELETE');
        if (res.status === 204) acked.deleted++;
        else acked.failed++;
      } else {
        const n = ++seq;
        const res = await call(`${api.url}/users`, 'POST', { name: `User ${n}`, email: address(n) });
        if (res.status === 201) {
          acked.created++;
          alive.push({ id: res.body.id, n });
        } else acked.failed++;
      }
    };
    const client = async () => {
      while (issued < total) {
        issued++;
        await one();
        done++;
      }
    };
    // One step after the other, each once the writes have reached its share of the run.
    const chaos = async () => {
      for (const [at, step] of steps) {
        while (done < at * total) await new Promise((resolve) => setTimeout(resolve, 10));
        log.push(`${at}@${done}`);
        await step();
      }
    };
    const started = Date.now();
    const results = await Promise.allSettled([Promise.all(Array.from({ length: 24 }, client)), chaos()]);
    for (const result of results) if (result.status === 'rejected') throw result.reason;
    const writesMs = Date.now() - started;
    // Every step began before the last write, or the chaos did not land under load.
    expect(log.map((entry) => Number(entry.split('@')[1]) < total)).toEqual([true, true, true, true, true]);
    expect(acked.failed).toBe(0);
    expect(acked.created + acked.updated + acked.deleted).toBe(total);

    await eventually('the read model catches up after the chaos', caughtUp, 60_000);

    // Every acknowledged change is one outbox event.
    const since = (type: string, after: Record<string, number>) => (after[type] ?? 0) - (before[type] ?? 0);
    const after = await eventsByType();
    expect({ created: since('user.created', after), updated: since('user.updated', after), deleted: since('user.deleted', after) }).toEqual(
      { created: acked.created, updated: acked.updated, deleted: acked.deleted },
    );
    const [counts] = await rows<{ events: number; distinct: number; applied: number; state: number }>(
      `SELECT (SELECT count(*) FROM outbox)::int AS events, (SELECT count(DISTINCT event_id) FROM outbox)::int AS distinct,
              (SELECT count(*) FROM read_model_applied)::int AS applied, (SELECT events FROM read_model_state)::int AS state`,
    );
    expect(counts).toEqual({ events: counts!.distinct, distinct: counts!.distinct, applied: counts!.distinct, state: counts!.distinct });
    // The relay died after XADD: the stream holds copies, and the read model counted each event once all the same.
    const length = await redis.xlen(USER_EVENTS_STREAM);
    expect(length).toBeGreaterThan(counts!.distinct);
    const survivors = [a, await c!];
    const duplicates = (await Promise.all(survivors.map((w) => metric(w.url, 'projector_events_total', { outcome: 'duplicate' })))).reduce(
      (x, y) => x + y,
      0,
    );
    expect(duplicates).toBeGreaterThan(0);
    expect((await Promise.all(survivors.map((w) => metric(w.url, 'outbox_relayed_total')))).reduce((x, y) => x + y, 0)).toBeGreaterThan(0);
    for (const w of survivors) {
      expect(await metric(w.url, 'stream_component_up', { component: 'relay' })).toBe(1);
      expect(await metric(w.url, 'stream_component_up', { component: 'projector' })).toBe(1);
    }

    expect(await rows(DOMAINS_PROJECTED)).toEqual(await rows(DOMAINS_OF_USERS));
    expect(await rows(SIGNUPS_PROJECTED)).toEqual(await rows(SIGNUPS_OF_OUTBOX));
    const stats = (await call(`${api.url}/stats/users`, 'GET')).body;
    expect(stats.total).toBe(Number((await rows<{ n: number }>('SELECT count(*)::int AS n FROM users'))[0]!.n));
    expect(stats.domains).toEqual(
      [...(await rows<{ domain: string; users: number }>(DOMAINS_OF_USERS))].sort(
        (x, y) => y.users - x.users || x.domain.localeCompare(y.domain),
      ),
    );
    expect(stats.freshness.events).toBe(counts!.distinct);
    console.info(
      `events: chaos at ${log.join(', ')}; ${total} writes in ${writesMs} ms (${JSON.stringify(acked)}); ${counts!.distinct} events, ${length} stream entries, ${duplicates} duplicates skipped`,
    );
  }, 150_000);

  it('rebuilds from the stream a read model equal to the live one', async () => {
    const live = {
      domains: await rows(DOMAINS_PROJECTED),
      signups: await rows(SIGNUPS_PROJECTED),
      state: await rows('SELECT events, last_event_id FROM read_model_state'),
    };
    expect(live.domains.length).toBeGreaterThan(3);
    // Damage it, so an unchanged read model cannot pass for a rebuilt one.
    await pool.query("UPDATE read_model_domains SET users = users + 7 WHERE domain = 'example.com'");
    await pool.query('DELETE FROM read_model_signups WHERE minute = (SELECT min(minute) FROM read_model_signups)');
    await pool.query("INSERT INTO read_model_domains VALUES ('bogus.test', 3)");
    expect(await rows(DOMAINS_PROJECTED)).not.toEqual(live.domains);

    const res = await admin(workers[0]!, '/admin/read-model/rebuild');
    expect(res.status).toBe(200);
    const distinct = Number((await rows<{ n: number }>('SELECT count(*)::int AS n FROM outbox'))[0]!.n);
    expect(res.body).toEqual({
      entries: await redis.xlen(USER_EVENTS_STREAM),
      applied: distinct,
      skipped: (await redis.xlen(USER_EVENTS_STREAM)) - distinct,
    });
    expect(await rows(DOMAINS_PROJECTED)).toEqual(live.domains);
    expect(await rows(SIGNUPS_PROJECTED)).toEqual(live.signups);
    expect(await rows('SELECT events, last_event_id FROM read_model_state')).toEqual(live.state);
  }, 30_000);
});

describe('the outbox trigger', () => {
  it('covers batch inserts, updates and deletes on a hash-partitioned users table, and comes off when disabled', async () => {
    await stores.postgres.ensureDatabase('partitioned');
    const other = createPool({ connectionString: stores.postgres.url('partitioned'), max: 2 });
    const listener = new pg.Client({ connectionString: stores.postgres.url('partitioned') });
    try {
      await migrate(other);
      await other.query(`DROP TABLE users;
        CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY, name text NOT NULL, email text NOT NULL,
          created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (id)) PARTITION BY HASH (id);
        CREATE TABLE users_p0 PARTITION OF users FOR VALUES WITH (MODULUS 2, REMAINDER 0);
        CREATE TABLE users_p1 PARTITION OF users FOR VALUES WITH (MODULUS 2, REMAINDER 1);`);
      await withMigrationLock(other, (client) => setOutboxTrigger(client, true));
      await withMigrationLock(other, (client) => setOutboxTrigger(client, true));
      const triggers = await other.query("SELECT tgrelid::regclass::text AS rel FROM pg_trigger WHERE tgname = 'users_outbox' ORDER BY 1");
      expect(triggers.rows.map((r) => r.rel)).toEqual(['users', 'users_p0', 'users_p1']);

      const notified: string[] = [];
      await listener.connect();
      listener.on('notification', (n) => notified.push(n.channel));
      await listener.query(`LISTEN ${OUTBOX_CHANNEL}`);
      await other.query("INSERT INTO users (name, email) SELECT 'n' || i, 'p' || i || '@Part.Test' FROM generate_series(1, 6) i");
      await other.query("UPDATE users SET email = 'moved@elsewhere.test' WHERE email = 'p1@Part.Test'");
      await other.query("DELETE FROM users WHERE email = 'p2@Part.Test'");
      const { rows: events } = await other.query<{ type: string; n: number }>(
        'SELECT type, count(*)::int AS n FROM outbox GROUP BY type ORDER BY type',
      );
      expect(events).toEqual([
        { type: 'user.created', n: 6 },
        { type: 'user.deleted', n: 1 },
        { type: 'user.updated', n: 1 },
      ]);
      await eventually('the relay is notified', async () => notified.length > 0, 5_000);
      expect(notified[0]).toBe(OUTBOX_CHANNEL);

      await withMigrationLock(other, (client) => setOutboxTrigger(client, false));
      await other.query("INSERT INTO users (name, email) VALUES ('quiet', 'quiet@part.test')");
      expect((await other.query('SELECT count(*)::int AS n FROM outbox')).rows[0].n).toBe(8);
      expect((await other.query("SELECT count(*)::int AS n FROM pg_trigger WHERE tgname = 'users_outbox'")).rows[0].n).toBe(0);
    } finally {
      await listener.end().catch(() => undefined);
      await other.end();
    }
  });
});
