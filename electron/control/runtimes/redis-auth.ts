/**
 * What the stack's Redis user (`default`, whose password is the stack's Redis password) may do:
 * every key and command the api, the worker, BullMQ and telemetry use, but no administration
 * (CONFIG, DEBUG, SHUTDOWN, MONITOR, ACL, replication) and no FLUSHALL/FLUSHDB, so a leaked
 * password still cannot reconfigure, stop or wipe Redis.
 */
export const REDIS_ACL_RULES = '~* &* +@all -@admin -flushall -flushdb';

/** The config line that sets the password and {@link REDIS_ACL_RULES} (requirepass, with an ACL). */
export function redisAclLine(password: string): string {
  return `user default on ">${password}" ${REDIS_ACL_RULES}`;
}

/**
 * How a Redis container gets its password and ACL without a command line that shows it (the host's
 * `ps`, `docker inspect`, `kubectl describe`): the password comes in the environment
 * (REDIS_PASSWORD, as POSTGRES_PASSWORD does), this shell writes it to a 0600 config file in the
 * working folder (/data, which the image's entrypoint hands to the redis user), then execs the
 * image's own entrypoint with that file first, so redis-server is the container's main process.
 * Used as `[...REDIS_AUTH_COMMAND, ...redis-server arguments]` in place of the image's entrypoint;
 * the Helm chart's redis-deployment.yaml says the same (test/kubernetes/chart.test.ts compares them).
 */
export const REDIS_AUTH_COMMAND = [
  'sh',
  '-c',
  `umask 077 && printf 'user default on ">%s" ${REDIS_ACL_RULES}\\n' "$REDIS_PASSWORD" > ./scalelab-auth.conf && exec docker-entrypoint.sh redis-server ./scalelab-auth.conf "$@"`,
  'redis-server',
] as const;
