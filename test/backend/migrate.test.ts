import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, openConnections } from '../../backend/db/pool.js';
import { migrate } from '../../backend/db/migrate.js';
import { MIGRATIONS } from '../../backend/db/migrations/index.js';
import { startStores, type Stores } from './support/stores.js';

let stores: Stores;

beforeAll(async () => {
  stores = await startStores();
});
afterAll(async () => stores?.stop());

describe('migrations', () => {
  it('apply once when many replicas start at the same moment', async () => {
    const pools = Array.from({ length: 6 }, () => createPool({ connectionString: stores.databaseUrl, max: 2 }));
    try {
      const results = await Promise.all(pools.map((pool) => migrate(pool)));
      const applied = results.flat().sort((a, b) => a - b);
      expect(applied).toEqual(MIGRATIONS.map((m) => m.id));
      const { rows } = await pools[0]!.query<{ id: number; n: string }>(
        'SELECT id, count(*) AS n FROM schema_migrations GROUP BY id ORDER BY id',
      );
      expect(rows.map((r) => [r.id, Number(r.n)])).toEqual(MIGRATIONS.map((m) => [m.id, 1]));
      expect(await migrate(pools[1]!)).toEqual([]);
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
  });

  it('enforce one account per e-mail, whatever its case', async () => {
    const pool = createPool({ connectionString: stores.databaseUrl });
    try {
      await pool.query("INSERT INTO users (name, email) VALUES ('a', 'Case@Example.com')");
      await expect(pool.query("INSERT INTO users (name, email) VALUES ('b', 'case@example.COM')")).rejects.toMatchObject({ code: '23505' });
    } finally {
      await pool.end();
    }
  });
});

describe('the pool', () => {
  const backends = async (pool: ReturnType<typeof createPool>, name: string) =>
    Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1', [name])).rows[0]!.n);

  it('opens its kept connections at start (DB_POOL_MIN), at most its maximum', async () => {
    const kept = createPool({ connectionString: stores.databaseUrl, max: 6, min: 3, applicationName: 'pool-min-test' });
    const capped = createPool({ connectionString: stores.databaseUrl, max: 2, min: 5, applicationName: 'pool-min-capped' });
    const probe = createPool({ connectionString: stores.databaseUrl, max: 1 });
    try {
      expect(await backends(probe, 'pool-min-test')).toBe(0);
      await openConnections(kept);
      await openConnections(capped);
      expect([kept.totalCount, kept.idleCount]).toEqual([3, 3]);
      expect(await backends(probe, 'pool-min-test')).toBe(3);
      expect(await backends(probe, 'pool-min-capped')).toBe(2);
      await openConnections(kept); // already open: nothing more
      expect(await backends(probe, 'pool-min-test')).toBe(3);
    } finally {
      await Promise.all([kept.end(), capped.end(), probe.end()]);
    }
  });
});
