import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { readUserStats } from '../../db/read-model.js';
import { UserStatsSchema } from '../schemas/stats.js';

/**
 * GET /stats/users: the read side of CQRS. Served from the projector's tables, never from an
 * aggregate over users, so its cost does not grow with the users table; it trails the writes by
 * the relay's and the projector's delay, which `freshness` shows.
 */
export const statsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/stats/users',
    {
      schema: {
        tags: ['users'],
        summary: 'Sign-ups per minute and users per e-mail domain, from the event-sourced read model',
        response: { 200: UserStatsSchema },
      },
    },
    async () => readUserStats(app.deps.pool),
  );
};
