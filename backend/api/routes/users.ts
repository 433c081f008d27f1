import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { EmailTakenError } from '../../db/users.js';
import { SEND_EMAIL_JOB_OPTIONS, SEND_EMAIL_QUEUE, WELCOME_EMAIL_JOB, type SendEmailJobData } from '../../queue.js';
import {
  CreateUserSchema,
  EnqueuedSchema,
  ErrorSchema,
  ListUsersQuerySchema,
  ReadHeadersSchema,
  SendEmailHeadersSchema,
  UpdateUserSchema,
  UserIdParamsSchema,
  UserPageSchema,
  UserSchema,
  type User,
} from '../schemas/user.js';
import { refuseBadText } from '../validation.js';

const ENQUEUE_TIMEOUT_MS = 2_000;
/** NULs and lone surrogates in a user's text are the client's mistake (400), never a 500 or a silent U+FFFD. */
const textGuard = refuseBadText(['name', 'email']);
const JSON_TYPE = 'application/json; charset=utf-8';

function encodeCursor(id: number): string {
  return Buffer.from(String(id)).toString('base64url');
}

function decodeCursor(cursor: string): number | undefined {
  const id = Number(Buffer.from(cursor, 'base64url').toString());
  return Number.isSafeInteger(id) && id >= 0 ? id : undefined;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Response header of every write when a read replica is configured: the WAL position to pass back as x-min-lsn. */
export const WRITE_LSN_HEADER = 'x-write-lsn';

/**
 * The users CRUD, and the welcome e-mail that goes through the queue.
 *
 * With a read replica, every write answers with the primary's WAL position after its commit
 * (header x-write-lsn) and leaves it as the user's write marker (cache.ts), so reads of that user
 * from any api replica come from a server that has replayed it; GET /users honours it as x-min-lsn.
 */
export const usersRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { users, cache, queue, metrics, router } = app.deps;
  const load = (id: number, minLsn?: string) => users.byId(id, minLsn);
  const tags = ['users'];

  /** The WAL position after a committed write; undefined when it cannot be read (the marker then sends reads to the primary). */
  const writePosition = async (log: { warn(obj: object, msg: string): void }): Promise<string | undefined> => {
    try {
      return await router.writeLsn();
    } catch (err) {
      log.warn({ err }, 'could not read the WAL position after a write; its reads go to the primary');
      return undefined;
    }
  };

  app.post(
    '/users',
    {
      schema: {
        tags,
        summary: 'Create a user',
        body: CreateUserSchema,
        response: { 201: UserSchema, 400: ErrorSchema, 409: ErrorSchema },
      },
      preValidation: textGuard,
    },
    async (request, reply) => {
      try {
        const user = await users.create(request.body.name, request.body.email);
        if (router.hasReplica) {
          const lsn = await writePosition(request.log);
          await cache.created(user.id, lsn);
          if (lsn) reply.header(WRITE_LSN_HEADER, lsn);
        }
        return reply.code(201).header('location', `/users/${user.id}`).send(user);
      } catch (err) {
        if (err instanceof EmailTakenError) return reply.conflict(err.message);
        throw err;
      }
    },
  );

  app.get(
    '/users',
    {
      schema: {
        tags,
        summary: 'List users, oldest first, a page at a time (keyset pagination)',
        querystring: ListUsersQuerySchema,
        headers: ReadHeadersSchema,
        response: { 200: UserPageSchema, 400: ErrorSchema },
      },
    },
    async (request, reply) => {
      const afterId = request.query.cursor === undefined ? 0 : decodeCursor(request.query.cursor);
      if (afterId === undefined) return reply.badRequest('querystring.cursor is not a cursor this API returned');
      const page = await users.list(request.query.limit + 1, afterId, request.headers['x-min-lsn']);
      const items = page.slice(0, request.query.limit);
      const last = items.at(-1);
      return { items, nextCursor: page.length > request.query.limit && last ? encodeCursor(last.id) : null };
    },
  );

  app.get(
    '/users/:id',
    {
      schema: {
        tags,
        summary: 'Read a user (cached)',
        params: UserIdParamsSchema,
        headers: ReadHeadersSchema,
        response: { 200: UserSchema, 404: ErrorSchema },
      },
    },
    async (request, reply) => {
      const json = await cache.read(Number(request.params.id), load, request.headers['x-min-lsn']);
      // The cache holds the response body itself: sent as it is, not serialized again.
      return json === null ? reply.notFound(`user ${request.params.id} not found`) : reply.type(JSON_TYPE).send(json as unknown as User);
    },
  );

  app.patch(
    '/users/:id',
    {
      schema: {
        tags,
        summary: "Change a user's name or e-mail",
        params: UserIdParamsSchema,
        body: UpdateUserSchema,
        response: { 200: UserSchema, 400: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema },
      },
      preValidation: textGuard,
    },
    async (request, reply) => {
      try {
        const id = Number(request.params.id);
        const user = await users.update(id, request.body);
        const lsn = router.hasReplica ? await writePosition(request.log) : undefined;
        await cache.invalidate(id, lsn);
        if (lsn) reply.header(WRITE_LSN_HEADER, lsn);
        return user ?? reply.notFound(`user ${request.params.id} not found`);
      } catch (err) {
        if (err instanceof EmailTakenError) return reply.conflict(err.message);
        throw err;
      }
    },
  );

  app.delete(
    '/users/:id',
    {
      schema: { tags, summary: 'Delete a user', params: UserIdParamsSchema, response: { 204: Type.Null(), 404: ErrorSchema } },
    },
    async (request, reply) => {
      const id = Number(request.params.id);
      const deleted = await users.delete(id);
      const lsn = router.hasReplica ? await writePosition(request.log) : undefined;
      await cache.invalidate(id, lsn);
      if (lsn) reply.header(WRITE_LSN_HEADER, lsn);
      return deleted ? reply.code(204).send(null) : reply.notFound(`user ${request.params.id} not found`);
    },
  );

  app.post(
    '/users/:id/send-email',
    {
      schema: {
        tags,
        summary: 'Queue a welcome e-mail; a worker sends it',
        params: UserIdParamsSchema,
        headers: SendEmailHeadersSchema,
        response: { 202: EnqueuedSchema, 404: ErrorSchema, 503: ErrorSchema },
      },
    },
    async (request, reply) => {
      const id = Number(request.params.id);
      if ((await cache.read(id, load)) === null) return reply.notFound(`user ${id} not found`);
      const key = request.headers['idempotency-key'];
      const jobId = key ? `welcome-${id}-${key}` : randomUUID();
      const data: SendEmailJobData = { userId: id, kind: WELCOME_EMAIL_JOB };
      try {
        await withTimeout(queue.add(WELCOME_EMAIL_JOB, data, { ...SEND_EMAIL_JOB_OPTIONS, jobId }), ENQUEUE_TIMEOUT_MS, 'enqueue');
      } catch (err) {
        request.log.warn({ err }, 'could not enqueue send-email job');
        return reply.serviceUnavailable('the e-mail queue is unavailable (Redis unreachable); retry later');
      }
      metrics.jobsEnqueued.inc();
      return reply.code(202).send({ jobId, queue: SEND_EMAIL_QUEUE });
    },
  );
};
