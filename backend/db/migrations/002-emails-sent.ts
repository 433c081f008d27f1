/**
 * One row per e-mail the worker sent. The job id is the key, so a job that runs twice
 * (retried after its worker died) still records one e-mail.
 */
export default /* sql */ `
CREATE TABLE emails_sent (
  job_id   text        PRIMARY KEY,
  user_id  bigint      NOT NULL,
  kind     text        NOT NULL,
  attempt  integer     NOT NULL,
  sent_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX emails_sent_user_id ON emails_sent (user_id);
`;
