import Type, { type Static } from 'typebox';

/** Response of GET /stats/users: the CQRS read model the projector builds from the user-events stream. */
export const UserStatsSchema = Type.Object({
  total: Type.Integer({ description: 'users now, by the read model' }),
  signupsPerMinute: Type.Array(Type.Object({ minute: Type.String({ format: 'date-time' }), signups: Type.Integer({ minimum: 1 }) }), {
    description: 'minutes of the last hour with any sign-up, oldest first; a deleted user still counts',
  }),
  domains: Type.Array(Type.Object({ domain: Type.String(), users: Type.Integer({ minimum: 1 }) }), {
    description: 'the 20 e-mail domains (lower-cased) with the most users',
  }),
  freshness: Type.Object({
    events: Type.Integer({ minimum: 0, description: 'events the projector has applied' }),
    lastEventId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()], { description: 'the newest event applied; null before any' }),
    lastOccurredAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
      description: 'when that change happened; null before any',
    }),
    projectedAt: Type.String({ format: 'date-time', description: 'when the projector last applied anything' }),
  }),
});
export type UserStats = Static<typeof UserStatsSchema>;
