import Type, { type Static } from 'typebox';
import { Value } from 'typebox/value';
import { DEFAULT_KEEP_PER_SECOND, DEFAULT_KEEP_SLOW_MS } from './telemetry/keep-policy.js';
import { NamedError } from './named-error.js';

/**
 * Every setting of the service, read only from environment variables.
 * Each field documents its variable and default; README.md lists them too.
 */
export const ConfigSchema = Type.Object({
  /** PORT: TCP port of the API. @defaultValue 3000 */
  port: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  /** HOST: address to bind. Loopback by default; containers set 0.0.0.0. @defaultValue 127.0.0.1 */
  host: Type.String({ minLength: 1, default: '127.0.0.1' }),
  /** DATABASE_URL: PostgreSQL connection string. Required. */
  databaseUrl: Type.String({ minLength: 1 }),
  /** REDIS_URL: Redis connection string, used by the cache, the rate limiter and the queue. Required. */
  redisUrl: Type.String({ minLength: 1 }),
  /** CACHE_TTL_SECONDS: how long a user stays cached. 0 disables the cache. @defaultValue 60 */
  cacheTtlSeconds: Type.Integer({ minimum: 0, maximum: 86_400, default: 60 }),
  /** RATE_LIMIT_PER_MINUTE: requests per client per minute; 0 turns rate limiting off. @defaultValue 0 */
  rateLimitPerMinute: Type.Integer({ minimum: 0, default: 0 }),
  /** ADMIN_TOKEN: enables the /admin fault hooks, guarded by this bearer token. Unset: no admin routes. */
  adminToken: Type.Optional(Type.String({ minLength: 16 })),
  /** DB_POOL_SIZE: maximum PostgreSQL connections per replica. @defaultValue 10 */
  dbPoolSize: Type.Integer({ minimum: 1, maximum: 500, default: 10 }),
  /**
   * DB_POOL_MIN: PostgreSQL connections per replica opened at start and kept while idle (at most
   * DB_POOL_SIZE), so a burst after a quiet spell does not wait for new backends. @defaultValue 4
   */
  dbPoolMin: Type.Integer({ minimum: 0, maximum: 500, default: 4 }),
  /** SHUTDOWN_GRACE_MS: how long in-flight work may take after SIGTERM before the process exits anyway. @defaultValue 10000 */
  shutdownGraceMs: Type.Integer({ minimum: 0, default: 10_000 }),
  /** SHUTDOWN_DELAY_MS: after SIGTERM, how long /readyz reports 503 before the listener closes, so balancers notice. @defaultValue 0 */
  shutdownDelayMs: Type.Integer({ minimum: 0, default: 0 }),
  /** LOG_LEVEL: pino level. @defaultValue info */
  logLevel: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info' },
  ),
  /** LOG_REQUESTS: log every request (costly under load). @defaultValue false */
  logRequests: Type.Boolean({ default: false }),
  /** INSTANCE_ID: name of this replica in logs and metrics. @defaultValue the hostname and pid */
  instanceId: Type.Optional(Type.String({ minLength: 1 })),
  /** EMAIL_WORK_MS: simulated duration of one send-email job, in the worker. @defaultValue 200 */
  emailWorkMs: Type.Integer({ minimum: 0, default: 200 }),
  /** EMAIL_FAIL_RATE: fraction of send-email attempts that fail, to show retries. @defaultValue 0 */
  emailFailRate: Type.Number({ minimum: 0, maximum: 1, default: 0 }),
  /** WORKER_CONCURRENCY: jobs one worker runs at once. @defaultValue 5 */
  workerConcurrency: Type.Integer({ minimum: 1, maximum: 1000, default: 5 }),
  /** WORKER_LOCK_MS: BullMQ lock duration; a worker silent this long loses its job to another. @defaultValue 30000 */
  workerLockMs: Type.Integer({ minimum: 1000, default: 30_000 }),
  /** WORKER_STALLED_INTERVAL_MS: how often stalled jobs (their worker died) are moved back to waiting. @defaultValue 30000 */
  workerStalledIntervalMs: Type.Integer({ minimum: 500, default: 30_000 }),
  /** DATABASE_REPLICA_URL: a PostgreSQL streaming replica; reads that miss the cache and list queries go there, writes to DATABASE_URL. Unset: every query goes to the primary. */
  databaseReplicaUrl: Type.Optional(Type.String({ minLength: 1 })),
  /** USERS_PARTITIONS: hash partitions of the users table by id; 0 keeps one table. Existing rows are moved on start. @defaultValue 0 */
  usersPartitions: Type.Integer({ minimum: 0, maximum: 64, default: 0 }),
  /** EVENTS: every user change writes an outbox event; workers relay it to the Redis Stream and project the read model. @defaultValue true */
  events: Type.Boolean({ default: true }),
  /** STREAM_MAX_LEN: approximate cap of the user-events stream's length (XADD MAXLEN ~). @defaultValue 1000000 */
  streamMaxLen: Type.Integer({ minimum: 1_000, default: 1_000_000 }),
  /** METRICS_PORT: the worker's /metrics and /healthz port; 0 picks a free one, unset disables it. */
  metricsPort: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
});
export type Config = Static<typeof ConfigSchema>;

/**
 * Tracing settings: the standard OpenTelemetry variables, read apart from {@link loadConfig} because
 * tracing starts before anything else (see backend/telemetry/tracing.ts). With no endpoint set,
 * tracing is off and the OpenTelemetry SDK is not even loaded.
 */
export const TracingConfigSchema = Type.Object({
  /** OTEL_EXPORTER_OTLP_ENDPOINT: base URL of an OTLP/HTTP collector (JSON); `/v1/traces` is appended. Unset: no tracing unless the next one is set. */
  endpoint: Type.Optional(Type.String({ minLength: 1 })),
  /** OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: full URL of the collector's traces endpoint; wins over OTEL_EXPORTER_OTLP_ENDPOINT. */
  tracesEndpoint: Type.Optional(Type.String({ minLength: 1 })),
  /** OTEL_SERVICE_NAME: `service.name` of the spans. @defaultValue scalelab-api, or scalelab-worker in the worker */
  serviceName: Type.Optional(Type.String({ minLength: 1 })),
  /**
   * OTEL_TRACES_SAMPLER: `parentbased_ratelimited` (a traceparent's sampled flag, else at most
   * OTEL_TRACES_SAMPLER_ARG new traces a second) or a standard one (always_on, always_off,
   * traceidratio and their parentbased_ forms). See backend/telemetry/sampling.ts. @defaultValue parentbased_ratelimited
   */
  sampler: Type.Optional(Type.String({ minLength: 1 })),
  /** OTEL_TRACES_SAMPLER_ARG: new traces per second for parentbased_ratelimited (@defaultValue 10), the ratio for the traceidratio ones (@defaultValue 1). */
  samplerArg: Type.Optional(Type.String({ minLength: 1 })),
  /** TRACE_KEEP_SLOW_MS: an unsampled request at least this slow, and at least the running p99, is kept as a timing-only span. @defaultValue 100 */
  keepSlowMs: Type.Number({ minimum: 0, default: DEFAULT_KEEP_SLOW_MS }),
  /** TRACE_KEEP_PER_SECOND: at most this many unsampled failed requests, and as many slow ones, are kept each second. @defaultValue 100 */
  keepPerSecond: Type.Integer({ minimum: 0, default: DEFAULT_KEEP_PER_SECOND }),
  /** OTEL_BSP_SCHEDULE_DELAY: ms between two exports of finished spans; short, so a dashboard sees a request within a second or two. @defaultValue 1000 */
  exportDelayMs: Type.Integer({ minimum: 1, default: 1_000 }),
  /** OTEL_SDK_DISABLED: true turns tracing off even with an endpoint set. @defaultValue false */
  disabled: Type.Boolean({ default: false }),
});
/** The tracing settings, and whether tracing is on (an endpoint is set and the SDK is not disabled). */
export type TracingConfig = Static<typeof TracingConfigSchema> & { enabled: boolean };

const TRACING_ENV_NAMES: Record<keyof Static<typeof TracingConfigSchema>, string> = {
  endpoint: 'OTEL_EXPORTER_OTLP_ENDPOINT',
  tracesEndpoint: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  serviceName: 'OTEL_SERVICE_NAME',
  sampler: 'OTEL_TRACES_SAMPLER',
  samplerArg: 'OTEL_TRACES_SAMPLER_ARG',
  keepSlowMs: 'TRACE_KEEP_SLOW_MS',
  keepPerSecond: 'TRACE_KEEP_PER_SECOND',
  exportDelayMs: 'OTEL_BSP_SCHEDULE_DELAY',
  disabled: 'OTEL_SDK_DISABLED',
};

/** Reads the tracing settings from `env`; throws ConfigError naming a bad variable. */
export function loadTracingConfig(env: NodeJS.ProcessEnv = process.env): TracingConfig {
  const raw: Record<string, unknown> = {};
  for (const [key, name] of Object.entries(TRACING_ENV_NAMES)) {
    const value = env[name];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const config = Value.Convert(TracingConfigSchema, Value.Default(TracingConfigSchema, raw));
  const errors = [...Value.Errors(TracingConfigSchema, config)];
  if (errors.length > 0) {
    const lines = errors.map(
      (e) => `${TRACING_ENV_NAMES[e.instancePath.replace(/^\//, '') as keyof typeof TRACING_ENV_NAMES] ?? e.instancePath}: ${e.message}`,
    );
    throw new ConfigError(`invalid environment: ${lines.join('; ')}`);
  }
  if (!Value.Check(TracingConfigSchema, config)) throw new ConfigError('invalid environment: tracing settings');
  return { ...config, enabled: !config.disabled && (config.endpoint !== undefined || config.tracesEndpoint !== undefined) };
}

/** Thrown when the environment holds an invalid setting; the message names the variable. */
export class ConfigError extends NamedError {}

const ENV_NAMES: Record<keyof Config, string> = {
  port: 'PORT',
  host: 'HOST',
  databaseUrl: 'DATABASE_URL',
  redisUrl: 'REDIS_URL',
  cacheTtlSeconds: 'CACHE_TTL_SECONDS',
  rateLimitPerMinute: 'RATE_LIMIT_PER_MINUTE',
  adminToken: 'ADMIN_TOKEN',
  dbPoolSize: 'DB_POOL_SIZE',
  dbPoolMin: 'DB_POOL_MIN',
  shutdownGraceMs: 'SHUTDOWN_GRACE_MS',
  shutdownDelayMs: 'SHUTDOWN_DELAY_MS',
  logLevel: 'LOG_LEVEL',
  logRequests: 'LOG_REQUESTS',
  instanceId: 'INSTANCE_ID',
  emailWorkMs: 'EMAIL_WORK_MS',
  emailFailRate: 'EMAIL_FAIL_RATE',
  workerConcurrency: 'WORKER_CONCURRENCY',
  workerLockMs: 'WORKER_LOCK_MS',
  workerStalledIntervalMs: 'WORKER_STALLED_INTERVAL_MS',
  metricsPort: 'METRICS_PORT',
  databaseReplicaUrl: 'DATABASE_REPLICA_URL',
  usersPartitions: 'USERS_PARTITIONS',
  events: 'EVENTS',
  streamMaxLen: 'STREAM_MAX_LEN',
};

/** Reads and validates the configuration from `env`; throws ConfigError naming the bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw: Record<string, unknown> = {};
  for (const [key, name] of Object.entries(ENV_NAMES)) {
    const value = env[name];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const converted = Value.Convert(ConfigSchema, Value.Default(ConfigSchema, raw));
  const errors = [...Value.Errors(ConfigSchema, converted)];
  if (errors.length > 0) {
    const lines = errors.map((e) => {
      const key = e.instancePath.replace(/^\//, '') as keyof Config;
      const missing = e.keyword === 'required' ? ((e.params as { requiredProperties?: string[] }).requiredProperties ?? []) : [];
      const names = missing.length > 0 ? missing.map((m) => ENV_NAMES[m as keyof Config] ?? m) : [ENV_NAMES[key] ?? key];
      return `${names.join(', ')}: ${e.keyword === 'required' ? 'is required' : e.message}`;
    });
    throw new ConfigError(`invalid environment: ${lines.join('; ')}`);
  }
  return converted as Config;
}
