import type pg from 'pg';
import { NamedError } from '../named-error.js';

/** Most hash partitions {@link ensurePartitions} makes (USERS_PARTITIONS' maximum). */
export const MAX_USERS_PARTITIONS = 64;

/**
 * The e-mail claims of a partitioned users table: one row per lower-cased e-mail in use.
 * A unique index on a partitioned table must contain the partition key (id), so uniqueness of
 * lower(email) across partitions is kept here instead, by the triggers below.
 */
export const EMAIL_CLAIMS_TABLE = 'user_emails';

/** Thrown when the users table cannot be re-shaped; the transaction was rolled back, nothing changed. */
export class PartitionError extends NamedError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * The triggers that keep {@link EMAIL_CLAIMS_TABLE} in step with a partitioned users table.
 *
 * - BEFORE INSERT claims the e-mail with ON CONFLICT DO NOTHING and, when it is taken, returns
 *   NULL: the row is skipped rather than failing the statement, so one multi-row insert of the
 *   InsertBatcher creates every row whose e-mail is free (exactly as ON CONFLICT DO NOTHING does
 *   on the plain table). Two transactions claiming one e-mail are serialized by the claims'
 *   primary key, as they would be by a unique index.
 * - BEFORE UPDATE of the e-mail (other than its case) claims the new one, raising unique_violation
 *   (23505) when it is taken, as the plain table's unique index would, and releases the old one.
 * - AFTER DELETE releases the e-mail; AFTER TRUNCATE empties the claims.
 *
 * Functions are replaced on every start, so a new version ships without a migration.
 */
const CLAIM_FUNCTIONS_SQL = /* sql */ `
CREATE OR REPLACE FUNCTION users_email_claim() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  INSERT INTO ${EMAIL_CLAIMS_TABLE} (email_lower, user_id) VALUES (lower(NEW.email), NEW.id) ON CONFLICT DO NOTHING;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  RETURN NEW;
END
$fn$;
CREATE OR REPLACE FUNCTION users_email_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  INSERT INTO ${EMAIL_CLAIMS_TABLE} (email_lower, user_id) VALUES (lower(NEW.email), NEW.id) ON CONFLICT DO NOTHING;
  IF NOT FOUND THEN
    RAISE unique_violation USING
      MESSAGE = format('duplicate key value violates unique constraint "users_email_lower_key": %s', NEW.email),
      CONSTRAINT = 'users_email_lower_key', TABLE = 'users';
  END IF;
  DELETE FROM ${EMAIL_CLAIMS_TABLE} WHERE email_lower = lower(OLD.email) AND user_id = OLD.id;
  RETURN NEW;
END
$fn$;
CREATE OR REPLACE FUNCTION users_email_release() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  DELETE FROM ${EMAIL_CLAIMS_TABLE} WHERE email_lower = lower(OLD.email) AND user_id = OLD.id;
  RETURN NULL;
END
$fn$;
CREATE OR REPLACE FUNCTION users_email_truncate() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  TRUNCATE ${EMAIL_CLAIMS_TABLE};
  RETURN NULL;
END
$fn$`;

/** Row triggers on a partitioned parent are cloned to every partition (PostgreSQL 13+). */
const CLAIM_TRIGGERS_SQL = /* sql */ `
CREATE TRIGGER users_email_claim BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION users_email_claim();
CREATE TRIGGER users_email_change BEFORE UPDATE OF email ON users FOR EACH ROW
  WHEN (lower(OLD.email) IS DISTINCT FROM lower(NEW.email)) EXECUTE FUNCTION users_email_change();
CREATE TRIGGER users_email_release AFTER DELETE ON users FOR EACH ROW EXECUTE FUNCTION users_email_release();
CREATE TRIGGER users_email_truncate AFTER TRUNCATE ON users FOR EACH STATEMENT EXECUTE FUNCTION users_email_truncate()`;

const DROP_CLAIMS_SQL = /* sql */ `
DROP TABLE IF EXISTS ${EMAIL_CLAIMS_TABLE};
DROP FUNCTION IF EXISTS users_email_claim(), users_email_change(), users_email_release(), users_email_truncate()`;

type Queryable = Pick<pg.ClientBase, 'query'>;

/** Hash partitions of the users table: 0 when it is one plain table. */
export async function usersPartitionCount(client: Queryable): Promise<number> {
  const { rows } = await client.query<{ kind: string; parts: number }>(
    `SELECT c.relkind::text AS kind, (SELECT count(*)::int FROM pg_inherits i WHERE i.inhparent = c.oid) AS parts
     FROM pg_class c WHERE c.oid = 'users'::regclass`,
  );
  const row = rows[0];
  return row && row.kind === 'p' ? Math.max(row.parts, 1) : 0;
}

/**
 * Makes the users table hash-partitioned by id into `users_p0 … users_p<count-1>` (0: one plain
 * table), moving its rows. Runs under the migration lock (applyLayout); a second call with the
 * same count only refreshes the claim functions and takes no lock on users.
 *
 * The change is one transaction: the old table is renamed away, a new one is created (columns,
 * defaults and checks copied with LIKE), rows are copied in id order, ids continue after the
 * highest id ever handed out, the primary key and every other index are rebuilt, and the old
 * table is dropped. A failure rolls all of it back. Writers of other replicas wait on the table
 * lock meanwhile: the layout only changes when the stack starts.
 *
 * PostgreSQL 16 has no identity columns on partitioned tables (17 does), so a partitioned id
 * takes its default from a plain sequence owned by the column; the plain table keeps the
 * `GENERATED ALWAYS AS IDENTITY` of migration 001. `beforeCommit` runs inside the move's
 * transaction, after the new table exists.
 */
export async function ensurePartitions(
  client: pg.PoolClient,
  count: number,
  beforeCommit?: (client: pg.PoolClient) => Promise<void>,
): Promise<void> {
  if (!Number.isInteger(count) || count < 0 || count > MAX_USERS_PARTITIONS) {
    throw new PartitionError(`users partitions must be an integer from 0 to ${MAX_USERS_PARTITIONS}, not ${count}`);
  }
  const current = await usersPartitionCount(client);
  if (current === count) {
    if (count > 0) await client.query(CLAIM_FUNCTIONS_SQL);
    return;
  }
  await client.query('BEGIN');
  try {
    await client.query('LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
    await rebuildUsers(client, count);
    // The new table's triggers (the outbox) go in with it: a write landing between two
    // transactions would otherwise change a user with no event.
    await beforeCommit?.(client);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    const what = count === 0 ? 'turn the partitioned users table back into one table' : `partition the users table into ${count}`;
    throw new PartitionError(`could not ${what}: ${(err as Error).message}`, { cause: err });
  }
}

async function rebuildUsers(client: pg.PoolClient, count: number): Promise<void> {
  const one = async <R extends pg.QueryResultRow>(sql: string) => (await client.query<R>(sql)).rows[0]!;
  const { columns } = await one<{ columns: string }>(
    `SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) AS columns
     FROM pg_attribute WHERE attrelid = 'users'::regclass AND attnum > 0 AND NOT attisdropped`,
  );
  // Indexes someone added besides the two this module owns are rebuilt on the new table.
  const extraIndexes = (
    await client.query<{ def: string }>(
      `SELECT pg_get_indexdef(i.indexrelid) AS def FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
       WHERE i.indrelid = 'users'::regclass AND NOT i.indisprimary AND c.relname <> 'users_email_lower_key'`,
    )
  ).rows.map((r) => r.def.replace(/ ON ONLY /, ' ON '));
  const { seq } = await one<{ seq: string | null }>(`SELECT pg_get_serial_sequence('users', 'id') AS seq`);
  // Ids are never reused, even those of deleted rows at the end: continue after the sequence too.
  const { last } = await one<{ last: number }>(
    `SELECT greatest((SELECT coalesce(max(id), 0) FROM users)${seq ? `, (SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM ${seq})` : ''}) AS last`,
  );
  await renameOldTree(client);

  const partitioned = count > 0;
  await client.query(
    `CREATE TABLE users (LIKE users_old INCLUDING ALL EXCLUDING IDENTITY EXCLUDING INDEXES)${partitioned ? ' PARTITION BY HASH (id)' : ''}`,
  );
  // LIKE copied a partitioned id's nextval() default, which names the old sequence.
  await client.query('ALTER TABLE users ALTER COLUMN id DROP DEFAULT');
  for (let i = 0; i < count; i++) {
    await client.query(`CREATE TABLE users_p${i} PARTITION OF users FOR VALUES WITH (MODULUS ${count}, REMAINDER ${i})`);
  }
  await client.query(`INSERT INTO users (${columns}) SELECT ${columns} FROM users_old ORDER BY id`);
  if (partitioned) {
    await client.query(`CREATE SEQUENCE users_id_seq AS bigint START WITH ${last + 1} OWNED BY users.id`);
    await client.query(`ALTER TABLE users ALTER COLUMN id SET DEFAULT nextval('users_id_seq')`);
  } else {
    await client.query(
      `ALTER TABLE users ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME users_id_seq START WITH ${last + 1})`,
    );
  }
  // Indexes are built after the copy: one sort per index instead of an insert per row.
  await client.query('ALTER TABLE users ADD CONSTRAINT users_pkey PRIMARY KEY (id)');
  for (const def of extraIndexes) await client.query(def);
  // Without CASCADE: a view or foreign key on users stops the change (rolled back) instead of vanishing.
  await client.query('DROP TABLE users_old');
  await client.query(DROP_CLAIMS_SQL);
  if (partitioned) {
    await client.query(`CREATE TABLE ${EMAIL_CLAIMS_TABLE} (email_lower text PRIMARY KEY, user_id bigint NOT NULL)`);
    await client.query(`INSERT INTO ${EMAIL_CLAIMS_TABLE} (email_lower, user_id) SELECT lower(email), id FROM users`);
    await client.query(CLAIM_FUNCTIONS_SQL);
    await client.query(CLAIM_TRIGGERS_SQL);
  } else {
    await client.query('CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email))');
  }
  await client.query('ANALYZE users');
}

/**
 * Renames the current table, its partitions, their indexes and its id sequence out of the way
 * (suffix `_old`): the new table reuses every name, so queries, the outbox trigger and operators
 * see the same `users`, `users_pkey`, `users_p<i>` as before.
 */
async function renameOldTree(client: pg.PoolClient): Promise<void> {
  const { rows } = await client.query<{ name: string; kind: string }>(
    // pg_partition_tree is empty for a plain table, hence the union with the table itself.
    `WITH tables AS (SELECT relid FROM pg_partition_tree('users') UNION SELECT 'users'::regclass)
     SELECT c.oid::regclass::text AS name, c.relkind::text AS kind FROM pg_class c
     WHERE c.oid IN (SELECT relid FROM tables)
        OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid IN (SELECT relid FROM tables))
        OR c.oid = pg_get_serial_sequence('users', 'id')::regclass`,
  );
  const command: Record<string, string> = { r: 'TABLE', p: 'TABLE', i: 'INDEX', I: 'INDEX', S: 'SEQUENCE' };
  for (const { name, kind } of rows) {
    const keyword = command[kind];
    if (!keyword) continue;
    // Names come from regclass, quoted where needed; the new name is the bare name plus `_old`.
    const bare = name.replace(/^.*\./, '').replace(/^"(.*)"$/, '$1');
    await client.query(`ALTER ${keyword} ${name} RENAME TO ${client.escapeIdentifier(`${bare}_old`)}`);
  }
}
