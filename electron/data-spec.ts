/**
 * The data-layer patterns' part of a telemetry Sample (`Sample.data`): the read replica, the
 * event stream and the partitions. Part of the contract (electron/contract.ts re-exports it).
 */

/** One api replica's PostgreSQL pool: connections in use, idle, clients waiting for one, and its size. */
export interface PoolSample {
  instance: string;
  pool: 'primary' | 'replica';
  used: number;
  idle: number;
  waiting: number;
  max: number;
}

/** The read replica, the event stream and the partitions, one second of them. */
export interface DataSample {
  /** Database reads per second by where they went; fallbacks are replica reads retried on the primary. */
  reads: { primaryPerSec: number; replicaPerSec: number; fallbacksPerSec: number };
  /** null when the stack runs no replica. */
  replica: {
    up: boolean;
    /** WAL the replica has not replayed yet, in bytes (null when unknown, e.g. the replica is down). */
    lagBytes: number | null;
    /** How far the replica's replay trails the primary, in seconds (0 when caught up). */
    lagSeconds: number | null;
    /** recovery_min_apply_delay in force (chaos `replica-delay`), ms. */
    applyDelayMs: number;
  } | null;
  pools: PoolSample[];
  /** null when events are off. */
  stream: {
    /** Entries in the `user-events` stream. */
    length: number;
    /** Entries added per second. */
    eventsPerSec: number;
    /** Entries the projector group has not read yet (XINFO GROUPS lag), null when unknown. */
    groupLag: number | null;
    /** Entries read but not acknowledged. */
    pending: number;
    /** Outbox rows not yet relayed to the stream. */
    outboxBacklog: number;
    /** How far the read model trails the write side, in seconds (0 when caught up; null before any event). */
    freshnessS: number | null;
  } | null;
  /** Rows per partition of the users table; null when it is not partitioned. */
  partitions: { name: string; rows: number }[] | null;
}
