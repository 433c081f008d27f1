import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withDefaults } from '../../../electron/contract.js';
import { verifyWrites, WriteCheckUnavailableError } from '../../../electron/control/chaos/write-checker.js';
import { freePort } from '../../../electron/control/runtimes/local/ports.js';
import { LocalRuntime } from '../../../electron/control/runtimes/local/local-runtime.js';
import { stackDir } from '../../../electron/control/runtimes/local/stack-dir.js';
import { postgresDataDir } from '../../../electron/control/runtimes/local/postgres.js';
import type { DirectEndpoints } from '../../../electron/control/runtimes/runtime.js';
import { loadKeys } from '../../../electron/control/traffic/keyspace.js';
import { TrafficRun, type AcknowledgedWrite } from '../../../electron/control/traffic/traffic-run.js';
import { removeTempHome } from '../../support/temp-home.js';

let home: string;
let runtime: LocalRuntime;
let endpoints: DirectEndpoints;
let db: pg.Client;
/** The writes the stack acknowledged to the first test's traffic run. */
let acks: readonly AcknowledgedWrite[] = [];

beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'scalelab-writes-'));
  runtime = new LocalRuntime({ home });
  endpoints = await runtime.up(withDefaults({ name: 'writes', port: await freePort(), replicas: { api: 2, worker: 0 } }), () => undefined);
  db = new pg.Client({ connectionString: endpoints.databaseUrl });
  await db.connect();
}, 120_000);
afterAll(async () => {
  await db?.end();
  await runtime?.down({ keepData: false });
  await rm(postgresDataDir(path.join(stackDir(home, 'writes'), 'postgres')), { recursive: true, force: true });
  await removeTempHome(home);
});

const options = () => ({ balancer: endpoints.balancer, databaseUrl: endpoints.databaseUrl });

describe('lost-write checker on the real stack', () => {
  it('reads every acknowledged write back with its e-mail, none stored twice', async () => {
    const keys = await loadKeys(endpoints.balancer);
    const run = new TrafficRun({
      target: endpoints.balancer,
      spec: { profile: { kind: 'constant', rps: 200 }, durationS: 3, mix: { read: 20, write: 80, list: 0, missing: 0, sendEmail: 0 } },
      keys,
    });
    await run.start();
    const summary = await run.done;
    acks = run.acknowledgedWrites();
    expect(acks).toHaveLength(summary.acknowledgedWrites);
    const progress: number[] = [];
    const check = await verifyWrites(acks, { ...options(), onProgress: (done) => progress.push(done) });
    expect(check.acknowledged).toBeGreaterThan(100);
    expect(check).toMatchObject({ acknowledged: acks.length, verified: acks.length, lost: 0, duplicated: 0, lostIds: [] });
    expect(progress.at(-1)).toBe(acks.length);
  });

  it("reports a write deleted behind the service's back as lost, with its id", async () => {
    const victim = acks[Math.floor(acks.length / 2)]!;
    await db.query('DELETE FROM users WHERE id = $1', [victim.id]);
    // The first check cached every user it read (GET /users/:id is cache-aside, key user:<id>).
    const redis = new Redis(endpoints.redisUrl);
    await redis.del(`user:${victim.id}`);
    await redis.quit();
    const check = await verifyWrites(acks, options());
    expect(check).toMatchObject({ acknowledged: acks.length, verified: acks.length - 1, lost: 1, duplicated: 0, lostIds: [victim.id] });
  });

  it('reports a user answering with another e-mail under the id as lost', async () => {
    const forged = { ...acks[0]!, email: `not-${acks[0]!.email}` };
    const check = await verifyWrites([forged], options());
    expect(check).toMatchObject({ acknowledged: 1, verified: 0, lost: 1, lostIds: [forged.id] });
  });

  it('verifies 20 000 writes in seconds (two duplicate-query chunks)', async () => {
    const { rows } = await db.query<{ id: string; email: string }>(
      "INSERT INTO users (name, email) SELECT 'Bulk ' || i, 'bulk-' || i || '@example.com' FROM generate_series(1, 20000) AS i RETURNING id, email",
    );
    const bulk = rows.map((r) => ({ id: Number(r.id), email: r.email }));
    const started = performance.now();
    const check = await verifyWrites(bulk, { ...options(), concurrency: 32 });
    const seconds = (performance.now() - started) / 1000;
    console.log(`verified ${bulk.length} writes in ${seconds.toFixed(1)} s (${Math.round(bulk.length / seconds)}/s)`);
    expect(check).toMatchObject({ acknowledged: 20_000, verified: 20_000, lost: 0, duplicated: 0 });
    expect(seconds).toBeLessThan(30);
  }, 60_000);

  it('gives up with WriteCheckUnavailableError when the service never answers, instead of guessing', async () => {
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    await expect(verifyWrites(acks.slice(0, 5), { ...options(), balancer: nowhere, attempts: 2 })).rejects.toThrow(
      WriteCheckUnavailableError,
    );
  });

  it('PostgreSQL commits synchronously and flushes, so an acknowledged write survives a database kill', async () => {
    const show = async (setting: string) => (await db.query<Record<string, string>>(`SHOW ${setting}`)).rows[0]![setting];
    expect(await show('synchronous_commit')).toBe('on');
    expect(await show('fsync')).toBe('on');
    // Nor is it turned off per role or database, where SHOW on this connection would not see it
    // for the api's own role.
    const { rows } = await db.query<{ setconfig: string[] }>('SELECT setconfig FROM pg_db_role_setting');
    expect(rows.flatMap((r) => r.setconfig).filter((c) => /^(synchronous_commit|fsync)=/.test(c))).toEqual([]);
  });
});
