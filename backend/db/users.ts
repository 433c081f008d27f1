import type pg from 'pg';

/** A user as stored, with timestamps as ISO-8601 strings. */
export interface UserRecord {
  id: number;
  name: string;
  email: string;
  createdAt: string;
  updatedAt: string;
}

/** Thrown when an e-mail address is already taken (case-insensitively). */
export class EmailTakenError extends Error {
  constructor(email: string) {
    super(`a user with e-mail ${email} already exists`);
    this.name = this.constructor.name;
  }
}

/** Runs one query; the api passes a function that counts queries and applies injected latency. */
export type Query = <R extends pg.QueryResultRow>(config: pg.QueryConfig) => Promise<pg.QueryResult<R>>;

interface UserRow {
  id: number;
  name: string;
  email: string;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'id, name, email, created_at, updated_at';
const UNIQUE_VIOLATION = '23505';

function toUser(row: UserRow): UserRecord {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

function rethrowTaken(err: unknown, email: string): never {
  if ((err as { code?: string }).code === UNIQUE_VIOLATION) throw new EmailTakenError(email);
  throw err;
}

/** The users table's queries. Named statements, so each connection plans them once. */
export class UsersRepository {
  constructor(private readonly query: Query) {}

  async create(name: string, email: string): Promise<UserRecord> {
    try {
      const { rows } = await this.query<UserRow>({
        name: 'users-create',
        text: `INSERT INTO users (name, email) VALUES ($1, $2) RETURNING ${COLUMNS}`,
        values: [name, email],
      });
      return toUser(rows[0]!);
    } catch (err) {
      rethrowTaken(err, email);
    }
  }

  async byId(id: number): Promise<UserRecord | null> {
    const { rows } = await this.query<UserRow>({
      name: 'users-by-id',
      text: `SELECT ${COLUMNS} FROM users WHERE id = $1`,
      values: [id],
    });
    return rows[0] ? toUser(rows[0]) : null;
  }

  /** Keyset page: users with id greater than `afterId`, oldest first. */
  async list(limit: number, afterId: number): Promise<UserRecord[]> {
    const { rows } = await this.query<UserRow>({
      name: 'users-list',
      text: `SELECT ${COLUMNS} FROM users WHERE id > $1 ORDER BY id LIMIT $2`,
      values: [afterId, limit],
    });
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
