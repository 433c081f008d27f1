/**
 * The transactional outbox and the CQRS read model the projector builds from it.
 *
 * `outbox` is filled by a trigger on users (see db/outbox.ts, installed by applyLayout so it follows
 * a users table that is re-created as a partitioned one) and drained by the workers' relay into the
 * Redis Stream `user-events`. Each payload carries the old e-mail too, so every event is a
 * self-contained delta and the projection does not depend on the order events arrive in.
 *
 * The read_model_* tables belong to the projector: signups per minute (a deletion does not un-count
 * a sign-up), current users per lower-cased e-mail domain, the event ids already applied (duplicates
 * from a re-published or re-delivered entry are skipped), and one row of progress.
 */
export default /* sql */ `
CREATE TABLE outbox (
  id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id    uuid        NOT NULL UNIQUE DEFAULT gen_random_uuid(),
  type        text        NOT NULL,
  user_id     bigint      NOT NULL,
  payload     jsonb       NOT NULL,
  occurred_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  sent_at     timestamptz
);
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;

CREATE TABLE read_model_signups (
  minute  timestamptz PRIMARY KEY,
  signups integer     NOT NULL
);
CREATE TABLE read_model_domains (
  domain text    PRIMARY KEY,
  users  integer NOT NULL
);
CREATE TABLE read_model_applied (
  event_id   uuid        PRIMARY KEY,
  applied_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE read_model_state (
  id               integer     PRIMARY KEY CHECK (id = 1),
  events           bigint      NOT NULL,
  last_event_id    uuid,
  last_occurred_at timestamptz,
  updated_at       timestamptz NOT NULL
);
INSERT INTO read_model_state (id, events, updated_at) VALUES (1, 0, now());
`;
