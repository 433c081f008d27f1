import type pg from 'pg';
import { InsertBatcher } from './insert-batcher.js';
import { NamedError } from '../named-error.js';

/** A user as stored, with timestamps as ISO-8601 strings. */
export interface UserRecord {
  id: number;
  name: string;
  email: string;
  createdAt: string;
  updatedAt: string;
}

/** Thrown when an e-mail address is already taken (case-insensitively). */
export class EmailTakenError extends NamedError {
  constructor(email: string) {
    super(`a user with e-mail ${email} already exists`);
  }
}

/** Runs one query; the api passes a function that counts queries and applies injected latency. */
export type Query = <R extends pg.QueryResultRow>(config: pg.QueryConfig) => Promise<pg.QueryResult<R>>;

/**
 * Runs one read. `minLsn`: the WAL position the answering server must have replayed, so a read
 * on a replica sees the writes it follows (see ReadRouter); undefined reads from wherever is fastest.
 */
export type ReadQuery = <R extends pg.QueryResultRow>(config: pg.QueryConfig, minLsn?: string) => Promise<pg.QueryResult<R>>;

interface UserRow {
  id: number;
  name: string;
  email: string;
  created_at: string;
  updated_at: string;
}

/** ISO-8601 in UTC, formatted by PostgreSQL: no Date objects to build and format per row. */
const iso = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ${column}`;
const COLUMNS = `id, name, email, ${iso('created_at')}, ${iso('updated_at')}`;
const UNIQUE_VIOLATION = '23505';

function toUser(row: UserRow): UserRecord {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function rethrowTaken(err: unknown, email: string): never {
  if ((err as { code?: string }).code === UNIQUE_VIOLATION) throw new EmailTakenError(email);
  throw err;
}

/**
 * Inserts rows in the given order, skipping those whose e-mail is taken, and returns for each input
 * position its row or nothing. Inputs are matched to rows by ordinality and exact name and e-mail,
 * so PostgreSQL alone decides what "the same e-mail" means.
 *
 * One statement for both shapes of the table (partitions.ts): ON CONFLICT without a target skips
 * the plain table's duplicates on its unique index of lower(email); a partitioned table has no such
 * index (it would have to include id) and its claim trigger skips them instead, before the insert,
 * so there ON CONFLICT has nothing to do. A conflict target would name an index that the
 * partitioned table cannot have.
 */
const INSERT_MANY = `
WITH input AS (
  SELECT * FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(name, email, i)
), inserted AS (
  INSERT INTO users (name, email)
  SELECT name, email FROM input ORDER BY i
  ON CONFLICT DO NOTHING
  RETURNING ${COLUMNS}
)
SELECT input.i::int AS i, inserted.* FROM input
LEFT JOIN inserted ON inserted.name = input.name AND inserted.email = input.email
ORDER BY input.i`;

/** Options of {@link UsersRepository}. */
export interface UsersRepositoryOptions {
  /** Group concurrent creates into multi-row inserts (see InsertBatcher). @defaultValue true */
  batchCreates?: boolean;
  /** Runs the reads (byId, list): the api passes its ReadRouter, which may pick a replica. @defaultValue the `query` function */
  read?: ReadQuery;
}

/** The users table's queries. Named statements, so each connection plans them once. */
export class UsersRepository {
  private readonly batcher: InsertBatcher<UserRecord> | undefined;
  private readonly read: ReadQuery;

  constructor(
    private readonly query: Query,
    options: UsersRepositoryOptions = {},
  ) {
    this.read = options.read ?? ((config) => query(config));
    this.batcher = options.batchCreates === false ? undefined : new InsertBatcher((names, emails) => this.insertMany(names, emails));
  }

  /** Creates a user; throws EmailTakenError when the e-mail exists, whatever its case. */
  async create(name: string, email: string): Promise<UserRecord> {
    if (!this.batcher) return this.createOne(name, email);
    const user = await this.batcher.insert(name, email);
    if (!user) throw new EmailTakenError(email);
    return user;
  }

  async createOne(name: string, email: string): Promise<UserRecord> {
    try {
      const { rows } = await this.query<UserRow>({
        name: 'users-create',
        text: `INSERT INTO users (name, email) VALUES ($1, $2) RETURNING ${COLUMNS}`,
        values: [name, email],
      });
      // No row and no error: the partitioned table's claim trigger skipped a taken e-mail.
      if (!rows[0]) throw new EmailTakenError(email);
      return toUser(rows[0]);
    } catch (err) {
      rethrowTaken(err, email);
    }
  }

  /** One statement for many creates; for each input, its user or undefined when the e-mail was taken. */
  async insertMany(names: string[], emails: string[]): Promise<(UserRecord | undefined)[]> {
    if (names.length === 1) {
      try {
        return [await this.createOne(names[0]!, emails[0]!)];
      } catch (err) {
        if (err instanceof EmailTakenError) return [undefined];
        throw err;
      }
    }
    const { rows } = await this.query<UserRow & { i: number }>({ name: 'users-create-many', text: INSERT_MANY, values: [names, emails] });
    // Two identical inputs both join the one row inserted: the first in order owns it.
    const claimed = new Set<number>();
    return rows.map((row) => {
      if (row.id === null || claimed.has(row.id)) return undefined;
      claimed.add(row.id);
      return toUser(row);
    });
  }

  /** One user; `minLsn` as in {@link ReadQuery}. */
  async byId(id: number, minLsn?: string): Promise<UserRecord | null> {
    const { rows } = await this.read<UserRow>(
      {
        name: 'users-by-id',
        text: `SELECT ${COLUMNS} FROM users WHERE id = $1`,
        values: [id],
      },
      minLsn,
    );
    return rows[0] ? toUser(rows[0]) : null;
  }

  /** Keyset page: users with id greater than `afterId`, oldest first; `minLsn` as in {@link ReadQuery}. */
  async list(limit: number, afterId: number, minLsn?: string): Promise<UserRecord[]> {
    const { rows } = await this.read<UserRow>(
      {
        name: 'users-list',
        text: `SELECT ${COLUMNS} FROM users WHERE id > $1 ORDER BY id LIMIT $2`,
        values: [afterId, limit],
      },
      minLsn,
    );
    return rows.map(toUser);
  }

  async update(id: number, patch: { name?: string; email?: string }): Promise<UserRecord | null> {
    try {
      const { rows } = await this.query<UserRow>({
        name: 'users-update',
        text: `UPDATE users SET name = COALESCE($2, name), email = COALESCE($3, email), updated_at = now()
               WHERE id = $1 RETURNING ${COLUMNS}`,
        values: [id, patch.name ?? null, patch.email ?? null],
      });
      return rows[0] ? toUser(rows[0]) : null;
    } catch (err) {
      rethrowTaken(err, patch.email ?? '');
    }
  }

  /** Deletes a user; false when there was none. */
  async delete(id: number): Promise<boolean> {
    const { rowCount } = await this.query({ name: 'users-delete', text: 'DELETE FROM users WHERE id = $1', values: [id] });
    return (rowCount ?? 0) > 0;
  }
}
