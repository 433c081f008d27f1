import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../backend/config.js';

const required = { DATABASE_URL: 'postgres://u:p@127.0.0.1/db', REDIS_URL: 'redis://127.0.0.1:6379' };

describe('configuration from the environment', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig(required);
    expect(config).toMatchObject({ port: 3000, host: '127.0.0.1', cacheTtlSeconds: 60, rateLimitPerMinute: 0, dbPoolSize: 10 });
    expect(config.adminToken).toBeUndefined();
  });

  it('names the missing variables', () => {
    expect(() => loadConfig({})).toThrow(new ConfigError('invalid environment: DATABASE_URL, REDIS_URL: is required'));
  });

  it('names a variable with a bad value', () => {
    expect(() => loadConfig({ ...required, CACHE_TTL_SECONDS: 'soon' })).toThrow(/CACHE_TTL_SECONDS: must be integer/);
    expect(() => loadConfig({ ...required, ADMIN_TOKEN: 'short' })).toThrow(/ADMIN_TOKEN/);
  });

  it('converts numbers and booleans', () => {
    expect(loadConfig({ ...required, PORT: '8080', LOG_REQUESTS: 'true', EMAIL_FAIL_RATE: '0.25' })).toMatchObject({
      port: 8080,
      logRequests: true,
      emailFailRate: 0.25,
    });
  });
});
