import { STATUS_CODES } from 'node:http';
import type { Plugin } from 'ajv';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { FastifyPluginAsyncTypebox, TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import fp from 'fastify-plugin';
import sensible from '@fastify/sensible';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import rateLimit from '@fastify/rate-limit';
import type { Config } from '../config.js';
import { loggerOptions } from '../log.js';
import { applyLayout } from '../db/layout.js';
import { migrate } from '../db/migrate.js';
import { openConnections, waitForDatabase } from '../db/pool.js';
import { tracing } from '../telemetry/tracing.js';
import { closeDeps, createDeps, type ApiDeps } from './deps.js';
import { formatValidationErrors } from './validation.js';
import { usersRoutes } from './routes/users.js';
import { statsRoutes } from './routes/stats.js';
import { healthRoutes } from './routes/health.js';
import { adminRoutes } from './routes/admin.js';

declare module 'fastify' {
  interface FastifyInstance {
    deps: ApiDeps;
  }
  interface FastifyRequest {
    inFlightCounted?: boolean;
  }
}

/** Largest accepted request body. */
export const BODY_LIMIT_BYTES = 16 * 1024;
/** How long a starting replica waits for PostgreSQL before giving up. */
const DATABASE_WAIT_MS = 30_000;
/** Routes for operators and the control plane: never rate limited, never failed by the error fault. */
const OPERATIONS_PATH = /^\/(healthz|readyz|metrics|admin|docs)(\/|\?|$)/;

/** Options of {@link buildApp}. */
export interface BuildAppOptions {
  config: Config;
  /** Fastify logger setting. @defaultValue pino JSON at config.logLevel */
  logger?: FastifyServerOptions['logger'];
}

function errorBody(statusCode: number, message: string) {
  return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message };
}

/**
 * The service as a plugin: docs, metrics, faults, rate limit and routes over the given deps.
 * Not encapsulated (fastify-plugin), so `app.deps` is visible to whoever registered it.
 */
const usersServicePlugin: FastifyPluginAsyncTypebox<{ deps: ApiDeps }> = async (app, { deps }) => {
  const { config, metrics, faults, cache, redis, pool, lifecycle } = deps;
  app.decorate('deps', deps);

  await app.register(sensible);
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'ScaleLab users API',
        version: '1.0.0',
        description: 'The user-management service that ScaleLab runs, scales and breaks.',
      },
      tags: [
        { name: 'users', description: 'Users CRUD and the welcome e-mail' },
        { name: 'operations', description: 'Health, readiness and metrics' },
      ],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.validation) return reply.code(400).send(errorBody(400, error.message));
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.code(400).send(errorBody(400, `body must be at most 16 KiB (${BODY_LIMIT_BYTES} bytes)`));
    }
    const status = error.statusCode ?? 500;
    if (status < 500) return reply.code(status).send(errorBody(status, error.message));
    if (status === 503) return reply.code(503).send(errorBody(503, error.message));
    request.log.error({ err: error }, 'request failed');
    return reply.code(500).send(errorBody(500, 'internal error; the details are in the server log'));
  });

  const leave = (request: { inFlightCounted?: boolean }) => {
    if (!request.inFlightCounted) return;
    request.inFlightCounted = false;
    metrics.inFlight.value--;
  };
  // Callback-style hooks and one labelled child per route and status: these run on every request.
  type Series = { count: { inc(): void }; time: { observe(value: number): void } };
  const seriesByRoute = new Map<string, Map<number, Series>>();
  app.addHook('onRequest', (request, reply, done) => {
    request.inFlightCounted = true;
    metrics.inFlight.value++;
    tracing()?.noteRoute(request.raw, request.routeOptions.url);
    if (faults.shouldFail() && !OPERATIONS_PATH.test(request.url)) {
      reply.code(500).send(errorBody(500, 'injected fault: this replica fails a share of requests on purpose'));
      return;
    }
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    leave(request);
    const route = request.routeOptions.url ?? 'unmatched';
    let byStatus = seriesByRoute.get(`${request.method}${route}`);
    if (!byStatus) {
      byStatus = new Map();
      seriesByRoute.set(`${request.method}${route}`, byStatus);
    }
    let child = byStatus.get(reply.statusCode);
    if (!child) {
      const labels = { method: request.method, route, status: reply.statusCode };
      child = { count: metrics.requests.labels(labels), time: metrics.duration.labels(labels) };
      byStatus.set(reply.statusCode, child);
    }
    child.count.inc();
    child.time.observe(reply.elapsedTime / 1000);
    // A failed or slow request that tracing did not sample still reaches the trace list.
    tracing()?.noteResponse(request.raw, request.method, route, reply.statusCode, reply.elapsedTime);
    done();
  });
  app.addHook('onRequestAbort', (request, done) => {
    leave(request);
    done();
  });

  if (config.rateLimitPerMinute > 0) {
    await app.register(rateLimit, {
      max: config.rateLimitPerMinute,
      timeWindow: 60_000,
      redis,
      nameSpace: 'scalelab-ratelimit:',
      // With Redis down, requests pass rather than fail: availability over strict limits.
      skipOnError: true,
      keyGenerator: (request) => request.ip,
      allowList: (request) => OPERATIONS_PATH.test(request.url),
      errorResponseBuilder: (_request, context) => ({
        ...errorBody(429, `rate limit of ${context.max} requests per minute exceeded; retry in ${context.after}`),
      }),
    });
  }

  await app.register(healthRoutes);
  await app.register(usersRoutes);
  await app.register(statsRoutes);
  if (config.adminToken) await app.register(adminRoutes, { prefix: '/admin', token: config.adminToken });

  app.addHook('onReady', async () => {
    await waitForDatabase(pool, DATABASE_WAIT_MS, (err) => app.log.warn(`waiting for PostgreSQL: ${err.message}`));
    const applied = await migrate(pool);
    if (applied.length > 0) app.log.info({ applied }, 'applied migrations');
    await applyLayout(pool, { partitions: config.usersPartitions, events: config.events });
    await openConnections(pool);
    if (cache.enabled && redis.status !== 'ready') {
      // Not fatal: the breaker serves from PostgreSQL until Redis answers.
      await Promise.race([new Promise((resolve) => redis.once('ready', resolve)), new Promise((resolve) => setTimeout(resolve, 2_000))]);
    }
  });
  app.addHook('preClose', async () => {
    lifecycle.draining = true;
  });
};

export const usersService = fp(usersServicePlugin, { name: 'scalelab-users-service', fastify: '5.x' });

/** Builds the service with its own connections; `app.close()` closes them. */
/**
 * Ajv coerces the query string "Infinity" (or "1e400") to an integer and then skips minimum and
 * maximum, which only judge finite numbers; `finite: true` on a coerced number refuses it (400).
 */
const finiteKeyword: Plugin<unknown> = (ajv) =>
  // No `type: 'number'`: Ajv guards its number keywords with isFinite, which would skip this one too.
  ajv.addKeyword({
    keyword: 'finite',
    schemaType: 'boolean',
    errors: false,
    validate: (on: boolean, data: unknown) => !on || typeof data !== 'number' || Number.isFinite(data),
  });

export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  const { config } = options;
  const app = Fastify({
    logger: options.logger ?? loggerOptions(config.logLevel, 'api'),
    logController: new LogController({ disableRequestLogging: !config.logRequests }),
    bodyLimit: BODY_LIMIT_BYTES,
    // Requests arrive through ScaleLab's balancer on loopback; X-Forwarded-For names the client.
    trustProxy: 'loopback',
    return503OnClosing: true,
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false },
      plugins: [finiteKeyword],
    },
    schemaErrorFormatter: formatValidationErrors,
  }).withTypeProvider<TypeBoxTypeProvider>();
  const deps = createDeps(config);
  app.addHook('onClose', async () => closeDeps(deps));
  await app.register(usersService, { deps });
  return app;
}
