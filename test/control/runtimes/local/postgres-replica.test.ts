import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../../electron/control/runtimes/local/ports.js';
import { LocalPostgres, postgresDataDir } from '../../../../electron/control/runtimes/local/postgres.js';
import { dropReplica, isSeededFrom, replicaStatus, seedReplica } from '../../../../electron/control/runtimes/local/postgres-replica.js';
import { eventually } from '../../../backend/support/api.js';
import { removeTempHome } from '../../../support/temp-home.js';

let dir: string;
let primary: LocalPostgres;
let replica: LocalPostgres | undefined;
let replicaDir: string;
const progress: string[] = [];

async function query<T extends pg.QueryResultRow>(url: string, sql: string, values?: unknown[]): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'scalelab-pgreplica-'));
  primary = new LocalPostgres({
    dataDir: postgresDataDir(path.join(dir, 'primary')),
    port: await freePort(),
    password: randomBytes(12).toString('base64url'),
    logFile: path.join(dir, 'primary.log'),
  });
  await primary.start();
  await query(primary.url(), 'CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL)');
  await query(primary.url(), `INSERT INTO notes (body) VALUES ('before the seed')`);
  replicaDir = postgresDataDir(path.join(dir, 'replica'));
  replica = await seedReplica(primary, {
    dataDir: replicaDir,
    port: await freePort(),
    logFile: path.join(dir, 'replica.log'),
    onProgress: (m) => progress.push(m),
  });
}, 120_000);

afterAll(async () => {
  await replica?.stop();
  const primaryUrl = primary?.url();
  await dropReplica(replicaDir, primaryUrl).catch(() => undefined);
  await primary?.stop();
  if (primary) await rm(postgresDataDir(path.join(dir, 'primary')), { recursive: true, force: true });
  await removeTempHome(dir);
});

describe('PostgreSQL read replica (local)', () => {
  it('seeds from a base backup and streams: rows from before and after the seed appear on the replica', async () => {
    expect(progress.some((m) => m.startsWith('seeding the read replica'))).toBe(true);
    expect(existsSync(path.join(replicaDir, 'standby.signal'))).toBe(true);
    expect(await readFile(path.join(replicaDir, 'postgresql.auto.conf'), 'utf8')).toMatch(/^primary_slot_name = 'scalelab_replica'$/m);
    expect(await query(replica!.url(), 'SELECT body FROM notes ORDER BY id')).toEqual([{ body: 'before the seed' }]);
    await query(primary.url(), `INSERT INTO notes (body) VALUES ('after the seed')`);
    await eventually(
      'the new row replicated',
      async () => (await query(replica!.url(), 'SELECT 1 FROM notes WHERE body = $1', ['after the seed'])).length === 1,
    );
    const status = await replicaStatus(replica!.url(), primary.url());
    expect(status).toMatchObject({ inRecovery: true, streaming: true, applyDelayMs: 0 });
    expect(status.replayLsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    await eventually('caught up', async () => (await replicaStatus(replica!.url(), primary.url())).lagBytes === 0);
  });

  it('refuses writes: it is a read-only hot standby', async () => {
    await expect(query(replica!.url(), `INSERT INTO notes (body) VALUES ('on the replica')`)).rejects.toMatchObject({ code: '25006' });
  });

  it('survives a stop and a start without seeding again, and catches up on what it missed', async () => {
    await replica!.stop();
    replica = undefined;
    await query(primary.url(), `INSERT INTO notes (body) VALUES ('while the replica was down')`);
    expect(await isSeededFrom(replicaDir)).toBe(true);
    progress.length = 0;
    replica = await seedReplica(primary, {
      dataDir: replicaDir,
      port: await freePort(),
      logFile: path.join(dir, 'replica.log'),
      onProgress: (m) => progress.push(m),
    });
    expect(progress.some((m) => m.startsWith('seeding'))).toBe(false);
    expect(progress).toContain('the read replica is already seeded; starting it');
    await eventually(
      'the missed row replicated',
      async () => (await query(replica!.url(), 'SELECT 1 FROM notes WHERE body = $1', ['while the replica was down'])).length === 1,
    );
  }, 60_000);
});
