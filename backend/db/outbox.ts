import type pg from 'pg';

/** Installs (or drops) the trigger that writes an outbox event for every change to users. */
export async function setOutboxTrigger(_client: pg.PoolClient, _enabled: boolean): Promise<void> {
  // Filled in with the outbox (issue 11).
}
