import type { JobsOptions } from 'bullmq';

/** The BullMQ queue holding slow work for the workers. */
export const SEND_EMAIL_QUEUE = 'send-email';
/** The job name of a welcome e-mail. */
export const WELCOME_EMAIL_JOB = 'welcome-email';

/** Payload of a send-email job. */
export interface SendEmailJobData {
  userId: number;
  kind: typeof WELCOME_EMAIL_JOB;
}

/** Retries with exponential backoff (0.5 s, 1 s, 2 s, 4 s); finished jobs are trimmed. */
export const SEND_EMAIL_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 500 },
  removeOnComplete: { age: 3_600, count: 10_000 },
  removeOnFail: { age: 86_400 },
};
