import type pg from 'pg';

/** Makes the users table hash-partitioned into `count` partitions (0: one plain table), moving its rows. */
export async function ensurePartitions(_client: pg.PoolClient, _count: number): Promise<void> {
  // Filled in with partitioning (issue 11).
}
