import pino, { type Logger, type LoggerOptions } from 'pino';

/** Paths that may hold secrets; pino replaces them with "[redacted]". */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'config.databaseUrl',
  'config.redisUrl',
  'config.adminToken',
  '*.password',
];

/** pino options shared by the api and the worker: JSON lines, secrets redacted. */
export function loggerOptions(level: string, name: string): LoggerOptions {
  return { level, name, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
}

/** A standalone logger for processes that are not Fastify (the worker). */
export function createLogger(level: string, name: string): Logger {
  return pino(loggerOptions(level, name));
}

/** A connection string without its password, safe to log. */
export function maskUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable url)';
  }
}
