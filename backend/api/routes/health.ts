import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';

const CHECK_TIMEOUT_MS = 1_000;

const ReadySchema = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('degraded'), Type.Literal('not ready')]),
  draining: Type.Boolean(),
  checks: Type.Object({ postgres: Type.String(), redis: Type.String() }),
});

async function check(probe: () => Promise<unknown>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return 'up';
  } catch (err) {
    return `down: ${(err as Error).message}`;
  } finally {
    clearTimeout(timer);
  }
}

/** Liveness, readiness, and the Prometheus scrape. */
export const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { pool, redis, lifecycle, metrics } = app.deps;
  const tags = ['operations'];

  app.get(
    '/healthz',
    {
      schema: { tags, summary: 'Liveness: the process answers', response: { 200: Type.Object({ status: Type.Literal('ok') }) } },
    },
    async () => ({ status: 'ok' as const }),
  );

  // Redis down means "degraded", not "not ready": every replica shares that Redis, and taking
  // them all out of the balancer would turn a cache outage into a full outage.
  app.get(
    '/readyz',
    {
      schema: {
        tags,
        summary: 'Readiness: PostgreSQL reachable and not draining; Redis down reports "degraded"',
        response: { 200: ReadySchema, 503: ReadySchema },
      },
    },
    async (_request, reply) => {
      const [postgres, cache] = await Promise.all([check(() => pool.query('SELECT 1')), check(() => redis.ping())]);
      const ready = postgres === 'up' && !lifecycle.draining;
      const status = !ready ? 'not ready' : cache === 'up' ? 'ready' : 'degraded';
      return reply.code(ready ? 200 : 503).send({ status, draining: lifecycle.draining, checks: { postgres, redis: cache } });
    },
  );

  app.get('/metrics', { schema: { tags, summary: 'Prometheus metrics', hide: false } }, async (_request, reply) => {
    const body = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(body);
  });
};
