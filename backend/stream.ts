/** The Redis Stream every user change is published to, by the outbox relay in the workers. */
export const USER_EVENTS_STREAM = 'user-events';
/** The consumer group that builds the CQRS read model (GET /stats/users) from the stream. */
export const PROJECTOR_GROUP = 'projector';

/** The kinds of user event, written to the outbox in the same transaction as the change. */
export const USER_EVENT_TYPES = ['user.created', 'user.updated', 'user.deleted'] as const;
export type UserEventType = (typeof USER_EVENT_TYPES)[number];
