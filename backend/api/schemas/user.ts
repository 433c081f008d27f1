import Type, { type Static } from 'typebox';

/** A user as the API returns it. */
export const UserSchema = Type.Object({
  id: Type.Integer({ minimum: 1 }),
  name: Type.String(),
  email: Type.String({ format: 'email' }),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
export type User = Static<typeof UserSchema>;

const NameSchema = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S', description: '1 to 200 characters, not blank' });
const EmailSchema = Type.String({ format: 'email', maxLength: 254, description: 'unique, compared case-insensitively' });

/** Body of POST /users. Unknown fields are rejected, not dropped. */
export const CreateUserSchema = Type.Object({ name: NameSchema, email: EmailSchema }, { additionalProperties: false });
export type CreateUser = Static<typeof CreateUserSchema>;

/** Body of PATCH /users/:id: at least one field. */
export const UpdateUserSchema = Type.Object(
  { name: Type.Optional(NameSchema), email: Type.Optional(EmailSchema) },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateUser = Static<typeof UpdateUserSchema>;

/**
 * `:id` in paths: a positive integer of at most 15 digits, so JavaScript represents it exactly.
 * Matched as a string: Ajv's integer coercion lets "Infinity" through, which PostgreSQL rejects.
 */
export const UserIdParamsSchema = Type.Object({
  id: Type.String({ pattern: '^[1-9][0-9]{0,14}$', description: 'a positive integer' }),
});

/** Query of GET /users: keyset pagination. */
export const ListUsersQuerySchema = Type.Object(
  {
    // finite: a query string may spell Infinity (see finiteKeyword in app.ts).
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20, finite: true }),
    cursor: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,32}$', description: 'nextCursor of the previous page' })),
  },
  { additionalProperties: false },
);

export const UserPageSchema = Type.Object({
  items: Type.Array(UserSchema),
  nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'pass as ?cursor= for the next page; null on the last page' }),
});

/**
 * Headers of the reads (GET /users, GET /users/:id). `x-min-lsn`: a WAL position the client has
 * seen, such as the `x-write-lsn` of its last write; the read then comes from a server that has
 * replayed it, so the client reads its own writes even from the read replica.
 */
export const ReadHeadersSchema = Type.Object({
  'x-min-lsn': Type.Optional(
    Type.String({
      pattern: '^[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}$',
      description: 'a PostgreSQL WAL position, e.g. 0/3000148, as x-write-lsn returned it',
    }),
  ),
});

/** Headers of POST /users/:id/send-email. */
export const SendEmailHeadersSchema = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9._-]+$', description: 'the same key enqueues the e-mail once' }),
  ),
});

export const EnqueuedSchema = Type.Object({ jobId: Type.String(), queue: Type.String() });

/** Every error body: the status, its name, and a message saying what was wrong. */
export const ErrorSchema = Type.Object({ statusCode: Type.Integer(), error: Type.String(), message: Type.String() });
