import users from './001-users.js';
import emailsSent from './002-emails-sent.js';
import outbox from './003-outbox.js';

/** A schema change, applied once, in order of `id`. */
export interface Migration {
  id: number;
  name: string;
  sql: string;
}

/** Every migration, oldest first. Append; never edit one that has shipped. */
export const MIGRATIONS: readonly Migration[] = [
  { id: 1, name: 'users', sql: users },
  { id: 2, name: 'emails-sent', sql: emailsSent },
  { id: 3, name: 'outbox', sql: outbox },
];
