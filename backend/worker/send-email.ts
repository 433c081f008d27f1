import type { Job } from 'bullmq';
import type pg from 'pg';
import type { SendEmailJobData } from '../queue.js';

/** Options of {@link createSendEmailProcessor}. */
export interface SendEmailOptions {
  /** Simulated time to send one e-mail, ms. */
  workMs: number;
  /** Share of attempts that fail on purpose, so retries can be seen. */
  failRate: number;
}

/** What one send-email job did. */
export type SendEmailResult = { recorded: boolean } | { skipped: string };

/**
 * Sends (simulates) a welcome e-mail and records it in emails_sent. The job id is the row's key,
 * so a job that runs twice, because its first worker died after sending, records one e-mail.
 */
export function createSendEmailProcessor(pool: pg.Pool, options: SendEmailOptions) {
  return async (job: Job<SendEmailJobData>): Promise<SendEmailResult> => {
    const { rows } = await pool.query<{ id: number }>('SELECT id FROM users WHERE id = $1', [job.data.userId]);
    if (rows.length === 0) return { skipped: `user ${job.data.userId} no longer exists` };
    if (options.workMs > 0) await new Promise((resolve) => setTimeout(resolve, options.workMs));
    if (options.failRate > 0 && Math.random() < options.failRate) {
      throw new Error('simulated mail server failure (EMAIL_FAIL_RATE)');
    }
    const result = await pool.query(
      `INSERT INTO emails_sent (job_id, user_id, kind, attempt) VALUES ($1, $2, $3, $4)
       ON CONFLICT (job_id) DO NOTHING`,
      [job.id, job.data.userId, job.data.kind, job.attemptsMade + 1],
    );
    return { recorded: (result.rowCount ?? 0) > 0 };
  };
}
