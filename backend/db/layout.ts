import type pg from 'pg';
import { withMigrationLock } from './migrate.js';
import { setOutboxTrigger } from './outbox.js';
import { ensurePartitions } from './partitions.js';

/** Options of {@link applyLayout}: the data-layer patterns the stack spec turns on. */
export interface LayoutOptions {
  /** Hash partitions of the users table; 0 keeps one table. @defaultValue 0 */
  partitions: number;
  /** Whether every user change writes an outbox event. @defaultValue true */
  events: boolean;
}

/**
 * After the migrations: shapes the users table (partitioned or not, moving existing rows) and
 * turns the outbox trigger on or off. Runs under the migration lock, so replicas starting
 * together agree; a second run with the same options changes nothing.
 */
export async function applyLayout(pool: pg.Pool, options: LayoutOptions): Promise<void> {
  await withMigrationLock(pool, async (client) => {
    // The trigger goes onto a re-shaped table in the same transaction that creates it, and is
    // checked again afterwards (turned on or off when the shape did not change).
    await ensurePartitions(client, options.partitions, (c) => setOutboxTrigger(c, options.events));
    await setOutboxTrigger(client, options.events);
  });
}
