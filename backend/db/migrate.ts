import type pg from 'pg';
import { MIGRATIONS, type Migration } from './migrations/index.js';

/** Any fixed 64-bit key works; every replica must use the same one. */
const MIGRATION_LOCK_KEY = 7_316_402_118;

/** Runs `work` on one connection holding the migration lock (see {@link migrate}). */
export async function withMigrationLock<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    return await work(client);
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    client.release();
  }
}

/**
 * Applies pending migrations. Many replicas start at once, so the work runs under a
 * PostgreSQL advisory lock: the first replica migrates, the others wait and then find
 * nothing left to do. Returns the ids it applied.
 */
export async function migrate(pool: pg.Pool, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  return withMigrationLock(pool, async (client) => {
    const applied: number[] = [];
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      id integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set((await client.query<{ id: number }>('SELECT id FROM schema_migrations')).rows.map((r) => r.id));
    for (const migration of [...migrations].sort((a, b) => a.id - b.id)) {
      if (done.has(migration.id)) continue;
      await client.query('BEGIN');
      try {
        await client.query(migration.sql);
        await client.query('INSERT INTO schema_migrations (id, name) VALUES ($1, $2)', [migration.id, migration.name]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${migration.id} (${migration.name}) failed: ${(err as Error).message}`, { cause: err });
      }
      applied.push(migration.id);
    }
    return applied;
  });
}
