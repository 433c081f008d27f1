import type pg from 'pg';

/** The PostgreSQL channel the outbox trigger notifies, so an idle relay wakes at once. */
export const OUTBOX_CHANNEL = 'scalelab_outbox';
/** The row trigger on users that writes the outbox. */
export const OUTBOX_TRIGGER = 'users_outbox';
const OUTBOX_FUNCTION = 'users_outbox_event';

/**
 * One outbox row per changed user row, in the transaction that changed it. Each payload carries
 * what the projector needs to apply the event on its own (the old e-mail of an update or a
 * deletion), so events commute and the projection does not depend on their order in the stream.
 *
 * The NOTIFY is skipped when older unsent rows exist: a relay with a backlog is busy draining it
 * and needs no wake-up, and a NOTIFY is not free, since committing transactions that notify are
 * serialized (PostgreSQL holds a global lock from pre-commit to the end of the commit). Under load
 * that keeps the write path from queueing behind that lock; a notification that was skipped wrongly
 * costs at most the relay's poll interval.
 */
const FUNCTION_SQL = /* sql */ `
CREATE OR REPLACE FUNCTION ${OUTBOX_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  new_id bigint;
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO outbox (type, user_id, payload)
    VALUES ('user.created', NEW.id, jsonb_build_object('id', NEW.id, 'email', NEW.email, 'createdAt', NEW.created_at))
    RETURNING id INTO new_id;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO outbox (type, user_id, payload)
    VALUES ('user.updated', NEW.id, jsonb_build_object('id', NEW.id, 'email', NEW.email, 'oldEmail', OLD.email))
    RETURNING id INTO new_id;
  ELSE
    INSERT INTO outbox (type, user_id, payload)
    VALUES ('user.deleted', OLD.id, jsonb_build_object('id', OLD.id, 'oldEmail', OLD.email, 'createdAt', OLD.created_at))
    RETURNING id INTO new_id;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM outbox WHERE sent_at IS NULL AND id < new_id) THEN
    PERFORM pg_notify('${OUTBOX_CHANNEL}', '');
  END IF;
  RETURN NULL;
END
$fn$`;

/**
 * Installs (or drops) the trigger that writes an outbox event for every change to users.
 *
 * The function is replaced on every call, so a new version of it ships with a new release without
 * a migration. The trigger is looked up on the current `users` table: a users table re-created as
 * a hash-partitioned one (ensurePartitions runs just before) has lost it and gets it back here. A
 * row trigger on a partitioned parent is cloned to every partition (PostgreSQL 13+). Runs under the
 * migration lock (applyLayout); a second call with the same `enabled` changes nothing but the
 * function body, and takes no lock on users.
 */
export async function setOutboxTrigger(client: pg.PoolClient, enabled: boolean): Promise<void> {
  await client.query(FUNCTION_SQL);
  const { rows } = await client.query("SELECT 1 FROM pg_trigger WHERE tgrelid = 'users'::regclass AND tgname = $1", [OUTBOX_TRIGGER]);
  const present = rows.length > 0;
  if (enabled && !present) {
    await client.query(
      `CREATE TRIGGER ${OUTBOX_TRIGGER} AFTER INSERT OR UPDATE OR DELETE ON users FOR EACH ROW EXECUTE FUNCTION ${OUTBOX_FUNCTION}()`,
    );
  } else if (!enabled && present) {
    await client.query(`DROP TRIGGER ${OUTBOX_TRIGGER} ON users`);
  }
}
