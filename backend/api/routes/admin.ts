import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  BlockFaultSchema,
  CpuFaultSchema,
  ErrorFaultSchema,
  FaultsSchema,
  LatencyFaultSchema,
  LeakFaultSchema,
} from '../schemas/faults.js';

/** Options of {@link adminRoutes}. */
export interface AdminRoutesOptions {
  /** The bearer token every admin request must carry. */
  token: string;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Carries the admin token where `Authorization` cannot reach the replica (Kubernetes' API-server proxy). */
export const ADMIN_AUTH_HEADER = 'x-scalelab-authorization';

/**
 * Fault hooks for the control plane's chaos features, under /admin. Registered only when
 * ADMIN_TOKEN is set; every request needs `Authorization: Bearer <ADMIN_TOKEN>`, or the same value in
 * `X-Scalelab-Authorization` (a Kubernetes API server's proxy consumes `Authorization` itself).
 */
export const adminRoutes: FastifyPluginAsyncTypebox<AdminRoutesOptions> = async (app, options) => {
  const { faults } = app.deps;
  const expected = digest(`Bearer ${options.token}`);
  const response = { 200: FaultsSchema };
  const schema = { hide: true, response };

  app.addHook('onRequest', async (request, reply) => {
    // Comparing digests keeps the comparison constant-time whatever the header's length.
    const header = request.headers[ADMIN_AUTH_HEADER] ?? request.headers.authorization ?? '';
    const given = digest(Array.isArray(header) ? (header[0] ?? '') : header);
    if (!timingSafeEqual(given, expected)) return reply.unauthorized('admin routes need Authorization: Bearer <ADMIN_TOKEN>');
  });

  app.get('/faults', { schema }, async () => faults.snapshot());

  app.put('/faults/latency', { schema: { ...schema, body: LatencyFaultSchema } }, async (request) => {
    if (request.body.dbMs !== undefined) faults.dbLatencyMs = request.body.dbMs;
    if (request.body.cacheMs !== undefined) faults.cacheLatencyMs = request.body.cacheMs;
    return faults.snapshot();
  });

  app.put('/faults/errors', { schema: { ...schema, body: ErrorFaultSchema } }, async (request) => {
    faults.errorRate = request.body.rate;
    return faults.snapshot();
  });

  app.post('/faults/cpu', { schema: { ...schema, body: CpuFaultSchema } }, async (request) => {
    faults.burnCpu(request.body.threads, request.body.durationMs);
    return faults.snapshot();
  });

  app.post('/faults/leak', { schema: { ...schema, body: LeakFaultSchema } }, async (request) => {
    faults.leakMemory(request.body.mbPerSecond, request.body.maxMb);
    return faults.snapshot();
  });

  app.post('/faults/block', { schema: { ...schema, body: BlockFaultSchema } }, async (request) => {
    faults.blockEventLoop(request.body.ms);
    return faults.snapshot();
  });

  app.delete('/faults', { schema }, async () => {
    faults.clear();
    return faults.snapshot();
  });
};
