import '../telemetry/register-worker.js'; // first: tracing must start before the instrumented packages load
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import os from 'node:os';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ConfigError, loadConfig } from '../config.js';
import { createLogger, maskUrl } from '../log.js';
import { createPool, waitForDatabase } from '../db/pool.js';
import { applyLayout } from '../db/layout.js';
import { migrate } from '../db/migrate.js';
import { SEND_EMAIL_QUEUE } from '../queue.js';
import { createSendEmailProcessor } from './send-email.js';
import { tracing } from '../telemetry/tracing.js';
import { STREAM_COMPONENTS, StreamComponents, streamAdminHandler } from './admin.js';

type AdminHandler = (request: IncomingMessage, response: ServerResponse) => Promise<boolean>;

function metricsServer(registry: Registry, port: number, host: string, admin: AdminHandler | undefined): Promise<Server> {
  const server = createServer((request, response) => {
    if (admin && request.url?.startsWith('/admin/')) {
      admin(request, response).then(
        (handled) => handled || response.writeHead(404).end(),
        () => response.writeHead(500).end(),
      );
      return;
    }
    // /readyz too, so Kubernetes probes the worker the way it probes the api.
    if (request.url === '/healthz' || request.url === '/readyz') {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    } else if (request.url === '/metrics') {
      registry.metrics().then(
        (body) => response.writeHead(200, { 'content-type': registry.contentType }).end(body),
        () => response.writeHead(500).end(),
      );
    } else {
      response.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(port, host, () => resolve(server)));
}

/** The send-email worker: runs jobs until SIGTERM, then finishes the active ones and exits. */
async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.logLevel, 'worker');
  // Two more connections when events are on: the relay and the projector each hold one per batch.
  const poolMax = Math.min(config.dbPoolSize, config.workerConcurrency + 1) + (config.events ? 2 : 0);
  const pool = createPool({ connectionString: config.databaseUrl, max: poolMax, applicationName: 'scalelab-worker' });
  await waitForDatabase(pool, 30_000, (err) => log.warn(`waiting for PostgreSQL: ${err.message}`));
  await migrate(pool);
  await applyLayout(pool, { partitions: config.usersPartitions, events: config.events });

  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const jobs = new Counter({
    name: 'worker_jobs_total',
    help: 'Jobs finished, by outcome',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'worker_job_duration_seconds',
    help: 'Time from start to finish of a job',
    registers: [registry],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  });

  let stream: StreamComponents | undefined;
  if (config.events) {
    const relayed = new Counter({
      name: 'outbox_relayed_total',
      help: 'Outbox rows published to the user-events stream and marked sent',
      registers: [registry],
    });
    const projected = new Counter({
      name: 'projector_events_total',
      help: 'Stream events the projector read, by outcome (applied, or duplicate: applied before)',
      labelNames: ['outcome'],
      registers: [registry],
    });
    // Both series exist from the start, so a rate over them is defined before the first duplicate.
    projected.inc({ outcome: 'applied' }, 0);
    projected.inc({ outcome: 'duplicate' }, 0);
    stream = new StreamComponents({
      pool,
      databaseUrl: config.databaseUrl,
      redisUrl: config.redisUrl,
      streamMaxLen: config.streamMaxLen,
      instanceId: config.instanceId ?? `${os.hostname()}-${process.pid}`,
      log,
      onRelayed: (rows) => relayed.inc(rows),
      onApplied: (result) => {
        if (result.applied > 0) projected.inc({ outcome: 'applied' }, result.applied);
        if (result.duplicates > 0) projected.inc({ outcome: 'duplicate' }, result.duplicates);
      },
    });
    const components = stream;
    new Gauge({
      name: 'stream_component_up',
      help: 'Whether the outbox relay and the projector run in this worker (0 while chaos keeps one down)',
      labelNames: ['component'],
      registers: [registry],
      collect() {
        for (const component of STREAM_COMPONENTS) this.set({ component }, components.isUp(component) ? 1 : 0);
      },
    });
    stream.start();
  }

  // BullMQ's blocking commands need maxRetriesPerRequest: null.
  const connection = new Redis(config.redisUrl, { maxRetriesPerRequest: null, retryStrategy: (times) => Math.min(200 * times, 2_000) });
  connection.on('error', () => undefined);
  // With tracing on, a job's processing span continues the trace of the request that enqueued it.
  const telemetry = tracing()?.bullmq;
  const worker = new Worker(
    SEND_EMAIL_QUEUE,
    createSendEmailProcessor(pool, { workMs: config.emailWorkMs, failRate: config.emailFailRate }),
    {
      connection,
      concurrency: config.workerConcurrency,
      lockDuration: config.workerLockMs,
      stalledInterval: config.workerStalledIntervalMs,
      maxStalledCount: 3,
      ...(telemetry ? { telemetry } : {}),
    },
  );
  worker.on('completed', (job) => {
    jobs.inc({ outcome: 'completed' });
    if (job.processedOn && job.finishedOn) duration.observe((job.finishedOn - job.processedOn) / 1000);
  });
  worker.on('failed', (job, err) => {
    jobs.inc({ outcome: 'failed' });
    log.warn({ jobId: job?.id, attempt: job?.attemptsMade, err: err.message }, 'job failed');
  });
  worker.on('error', (err) => log.error({ err: err.message }, 'worker error'));

  const admin = config.adminToken ? streamAdminHandler(config.adminToken, stream) : undefined;
  const server = config.metricsPort === undefined ? undefined : await metricsServer(registry, config.metricsPort, config.host, admin);
  const address = server?.address();
  log.info(
    {
      queue: SEND_EMAIL_QUEUE,
      concurrency: config.workerConcurrency,
      events: config.events,
      redis: maskUrl(config.redisUrl),
      metricsPort: typeof address === 'object' && address ? address.port : undefined,
    },
    'worker started',
  );

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'draining: finishing active jobs');
    const force = setTimeout(() => process.exit(1), config.shutdownGraceMs);
    force.unref();
    for (const step of [
      () => worker.close(),
      () => stream?.close(),
      () => connection.quit(),
      () => pool.end(),
      () => new Promise((r) => (server ? server.close(r) : r(undefined))),
      () => tracing()?.shutdown(),
    ]) {
      await Promise.resolve()
        .then(step)
        .catch((err: Error) => log.warn({ err: err.message }, 'shutdown step failed'));
    }
    log.info('closed');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  const message = err instanceof ConfigError ? err.message : ((err as Error).stack ?? String(err));
  process.stderr.write(`worker failed to start: ${message}\n`);
  process.exit(1);
});
