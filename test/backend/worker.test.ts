import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEND_EMAIL_JOB_OPTIONS, SEND_EMAIL_QUEUE, WELCOME_EMAIL_JOB } from '../../backend/queue.js';
import { createSendEmailProcessor } from '../../backend/worker/send-email.js';
import { migrate } from '../../backend/db/migrate.js';
import { startStores, type Stores } from './support/stores.js';
import { eventually } from './support/api.js';
import { startBackend, type BackendChild } from './support/process.js';

let stores: Stores;
let pool: pg.Pool;
let connection: Redis;
let queue: Queue;
const workers: BackendChild[] = [];

async function emailsFor(jobId: string): Promise<number> {
  const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM emails_sent WHERE job_id = $1', [jobId]);
  return Number(rows[0]!.n);
}

async function newUser(email: string): Promise<number> {
  const { rows } = await pool.query<{ id: number }>('INSERT INTO users (name, email) VALUES ($1, $2) RETURNING id', ['Job', email]);
  return Number(rows[0]!.id);
}

function worker(env: Record<string, string>): BackendChild {
  const child = startBackend('worker', stores.dir, { DATABASE_URL: stores.databaseUrl, REDIS_URL: stores.redisUrl, ...env });
  workers.push(child);
  return child;
}

/** A worker that has connected and installed its signal handlers. */
async function startedWorker(env: Record<string, string>): Promise<BackendChild> {
  const w = worker(env);
  await eventually('the worker has started', async () => (await w.log()).includes('worker started'), 20_000);
  return w;
}

beforeAll(async () => {
  stores = await startStores();
  pool = new pg.Pool({ connectionString: stores.databaseUrl });
  pool.on('error', () => undefined); // the server stops at teardown
  await migrate(pool);
  connection = new Redis(stores.redisUrl, { maxRetriesPerRequest: null });
  queue = new Queue(SEND_EMAIL_QUEUE, { connection });
});

afterAll(async () => {
  for (const w of workers) w.child.kill('SIGKILL');
  await queue?.close();
  connection?.disconnect();
  await pool?.end();
  await stores?.stop();
});

describe('send-email worker', () => {
  it('retries a job whose worker was killed mid-job, and records exactly one e-mail', async () => {
    const userId = await newUser('killed-worker@example.com');
    // Slow jobs and a short lock, so the killed worker's job is found stalled within seconds.
    const timing = { WORKER_LOCK_MS: '1500', WORKER_STALLED_INTERVAL_MS: '1000' };
    const first = worker({ ...timing, EMAIL_WORK_MS: '4000' });
    const job = await queue.add(
      WELCOME_EMAIL_JOB,
      { userId, kind: WELCOME_EMAIL_JOB },
      { ...SEND_EMAIL_JOB_OPTIONS, jobId: 'killed-mid-job' },
    );
    await eventually('the first worker takes the job', async () => (await job.getState()) === 'active', 20_000);
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    expect(await emailsFor('killed-mid-job')).toBe(0);

    const second = worker({ ...timing, EMAIL_WORK_MS: '100' });
    await eventually(
      'the job completes on the second worker',
      async () => (await queue.getJob('killed-mid-job').then((j) => j?.getState())) === 'completed',
      30_000,
    );
    expect(await emailsFor('killed-mid-job')).toBe(1);
    const done = await queue.getJob('killed-mid-job');
    expect(done?.returnvalue).toEqual({ recorded: true });
    second.child.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });
  });

  it('records one e-mail when the same job runs twice', async () => {
    const userId = await newUser('twice@example.com');
    const process = createSendEmailProcessor(pool, { workMs: 0, failRate: 0 });
    const job = { id: 'run-twice', data: { userId, kind: WELCOME_EMAIL_JOB }, attemptsMade: 0 } as Parameters<typeof process>[0];
    expect(await process(job)).toEqual({ recorded: true });
    expect(await process({ ...job, attemptsMade: 1 } as typeof job)).toEqual({ recorded: false });
    expect(await emailsFor('run-twice')).toBe(1);
  });

  it('retries a failed attempt with backoff, recording nothing for failures', async () => {
    const userId = await newUser('flaky@example.com');
    const w = await startedWorker({ EMAIL_WORK_MS: '0', EMAIL_FAIL_RATE: '1' });
    const job = await queue.add(
      WELCOME_EMAIL_JOB,
      { userId, kind: WELCOME_EMAIL_JOB },
      { ...SEND_EMAIL_JOB_OPTIONS, attempts: 3, backoff: { type: 'exponential', delay: 100 }, jobId: 'always-fails' },
    );
    await eventually('the job runs out of attempts', async () => (await job.getState()) === 'failed', 20_000);
    const failed = await queue.getJob('always-fails');
    expect(failed?.attemptsMade).toBe(3);
    expect(failed?.failedReason).toContain('simulated mail server failure');
    expect(await emailsFor('always-fails')).toBe(0);
    w.child.kill('SIGTERM');
    await w.exited;
  });

  it('drains on SIGTERM: the active job finishes before the worker exits', async () => {
    const userId = await newUser('drain@example.com');
    const w = await startedWorker({ EMAIL_WORK_MS: '1500' });
    const job = await queue.add(WELCOME_EMAIL_JOB, { userId, kind: WELCOME_EMAIL_JOB }, { ...SEND_EMAIL_JOB_OPTIONS, jobId: 'drained' });
    await eventually('the worker takes the job', async () => (await job.getState()) === 'active', 20_000);
    w.child.kill('SIGTERM');
    expect(await w.exited).toEqual({ code: 0, signal: null });
    expect(await emailsFor('drained')).toBe(1);
  });
});
