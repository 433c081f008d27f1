/**
 * The lost-write check: proof that every write the stack acknowledged is still there, read back
 * through the service itself, and that none was stored twice.
 */
import pg from 'pg';
import { Pool } from 'undici';
import type { WriteCheck } from '../../chaos-spec.js';
import type { AcknowledgedWrite } from '../traffic/traffic-run.js';
import { NamedError } from '../../../backend/named-error.js';

/** Options of {@link verifyWrites}. */
export interface VerifyWritesOptions {
  /** Origin of the stack's balancer, e.g. `http://127.0.0.1:8080`. */
  balancer: string;
  /** PostgreSQL connection string of the stack's database (for the duplicate check). */
  databaseUrl: string;
  /** Reads in flight at once. @defaultValue 32 */
  concurrency?: number;
  /** Called as reads complete (at most every 100 ms, and once at the end). */
  onProgress?: (done: number, total: number) => void;
  /**
   * Tries per read (and per duplicate query) before the check gives up with
   * {@link WriteCheckUnavailableError}; waits double from 100 ms to 2 s between them, about
   * 10 s in all, so a store restarted by chaos has time to come back. @defaultValue 8
   */
  attempts?: number;
}

/**
 * The stack did not answer a read (5xx, refused, timed out) even after every retry, so whether
 * that write survived is unknown: the check says so instead of counting it lost or verified.
 */
export class WriteCheckUnavailableError extends NamedError {}

/** Ids reported in `lostIds`; `lost` counts them all. */
const MAX_LOST_IDS = 1_000;
/** E-mails per duplicate query: one round trip each, and a parameter array PostgreSQL takes in stride. */
const DUPLICATE_CHUNK = 10_000;
const READ_TIMEOUT_MS = 5_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const backoff = (attempt: number) => Math.min(2_000, 100 * 2 ** (attempt - 1));

/** What one read found: definitive (`verified`, `lost`), or a failure worth another try. */
type ReadOutcome = 'verified' | 'lost' | { retry: string };

async function readBack(pool: Pool, ack: AcknowledgedWrite): Promise<ReadOutcome> {
  try {
    const { statusCode, body } = await pool.request({ path: `/users/${ack.id}`, method: 'GET' });
    if (statusCode === 200) {
      const user = (await body.json()) as { id?: number; email?: string };
      return user.id === ack.id && user.email === ack.email ? 'verified' : 'lost';
    }
    await body.dump();
    // 404: the user is not there. Anything else (5xx from a fault or a store that is down, 429,
    // …) says nothing about the write.
    return statusCode === 404 ? 'lost' : { retry: `GET /users/${ack.id} answered ${statusCode}` };
  } catch (err) {
    return { retry: `GET /users/${ack.id} failed: ${(err as Error).message}` };
  }
}

/** Runs `attempt` up to `attempts` times with backoff while it asks for another try. */
async function withRetries<T>(attempts: number, attempt: () => Promise<T | { retry: string }>, stopped: () => boolean): Promise<T> {
  for (let n = 1; ; n += 1) {
    const outcome = await attempt();
    if (typeof outcome !== 'object' || outcome === null || !('retry' in outcome)) return outcome;
    if (n >= attempts || stopped())
      throw new WriteCheckUnavailableError(`${outcome.retry} (${n} tries); run the check again once the stack is healthy`);
    await sleep(backoff(n));
  }
}

/**
 * Reads every e-mail of `emails` that PostgreSQL stores more than once, with one query per
 * {@link DUPLICATE_CHUNK} e-mails. The schema already forbids it (`users_email_lower_key` is a
 * UNIQUE index on `lower(email)`), so this proves the invariant held under chaos rather than
 * finding what the schema allows; it compares as that index does (lower-case), which also lets
 * each query use the index instead of scanning the table.
 */
async function countDuplicates(databaseUrl: string, emails: string[], attempts: number): Promise<number> {
  const lowered = [...new Set(emails.map((e) => e.toLowerCase()))];
  let duplicated = 0;
  for (let i = 0; i < lowered.length; i += DUPLICATE_CHUNK) {
    const chunk = lowered.slice(i, i + DUPLICATE_CHUNK);
    duplicated += await withRetries(
      attempts,
      async () => {
        const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5_000 });
        client.on('error', () => undefined);
        try {
          await client.connect();
          const { rows } = await client.query<{ email: string; n: number }>(
            'SELECT lower(email) AS email, count(*)::int AS n FROM users WHERE lower(email) = ANY($1::text[]) GROUP BY lower(email) HAVING count(*) > 1',
            [chunk],
          );
          return rows.length;
        } catch (err) {
          return { retry: `the duplicate query failed: ${(err as Error).message}` };
        } finally {
          await client.end().catch(() => undefined);
        }
      },
      () => false,
    );
  }
  return duplicated;
}

/**
 * Reads every acknowledged write back from the service (GET /users/:id through the balancer, so
 * through the cache and every replica, as a user would) with `concurrency` reads in flight.
 * A write is verified when its user answers with the same e-mail, lost on a 404 or another
 * e-mail under its id; a read that fails (5xx, refused, timeout) is retried with backoff, since
 * chaos may still be running, and if it keeps failing the check throws
 * {@link WriteCheckUnavailableError} rather than guess. Meanwhile PostgreSQL is asked which of the
 * acknowledged e-mails it stores more than once (see {@link countDuplicates}: the schema makes
 * that impossible, the query proves it). About 100k writes take a few seconds on a local stack.
 */
export async function verifyWrites(acks: readonly AcknowledgedWrite[], options: VerifyWritesOptions): Promise<WriteCheck> {
  const total = acks.length;
  const attempts = options.attempts ?? 8;
  const concurrency = Math.max(1, Math.min(options.concurrency ?? 32, Math.max(1, total)));
  const pool = new Pool(options.balancer, {
    connections: concurrency,
    pipelining: 1,
    headersTimeout: READ_TIMEOUT_MS,
    bodyTimeout: READ_TIMEOUT_MS,
  });
  let next = 0;
  let done = 0;
  let verified = 0;
  let lost = 0;
  const lostIds: number[] = [];
  let failed = false;
  let reportedAt = 0;
  const progress = (force = false) => {
    const now = Date.now();
    if (!options.onProgress || (!force && now - reportedAt < 100)) return;
    reportedAt = now;
    options.onProgress(done, total);
  };

  const reader = async () => {
    while (!failed && next < total) {
      const ack = acks[next]!;
      next += 1;
      const outcome = await withRetries(
        attempts,
        () => readBack(pool, ack),
        () => failed,
      );
      if (outcome === 'verified') verified += 1;
      else {
        lost += 1;
        if (lostIds.length < MAX_LOST_IDS) lostIds.push(ack.id);
      }
      done += 1;
      progress();
    }
  };

  try {
    progress(true);
    const reads = Promise.all(
      Array.from({ length: total === 0 ? 0 : concurrency }, () =>
        reader().catch((err: unknown) => {
          // One read that cannot be done fails the check: the others stop early.
          failed = true;
          throw err;
        }),
      ),
    );
    const duplicates =
      total === 0
        ? Promise.resolve(0)
        : countDuplicates(
            options.databaseUrl,
            acks.map((a) => a.email),
            attempts,
          );
    const [, duplicated] = await Promise.all([reads, duplicates]);
    progress(true);
    return { acknowledged: total, verified, lost, duplicated, lostIds: lostIds.sort((a, b) => a - b), checkedAt: Date.now() };
  } finally {
    await pool.destroy().catch(() => undefined);
  }
}
