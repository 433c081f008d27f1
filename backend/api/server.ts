import '../telemetry/register-api.js'; // first: tracing must start before the instrumented packages load
import closeWithGrace from 'close-with-grace';
import { ConfigError, loadConfig } from '../config.js';
import { maskUrl } from '../log.js';
import { buildApp } from './app.js';
import { tracing } from '../telemetry/tracing.js';

/**
 * Listens, and on SIGTERM/SIGINT drains: /readyz turns 503, the listener closes, in-flight
 * requests finish, then pools and the queue close. Past SHUTDOWN_GRACE_MS the process exits anyway.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const app = await buildApp({ config });
  closeWithGrace({ delay: config.shutdownGraceMs }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'shutting down after an uncaught error');
    else app.log.info({ signal }, 'draining');
    app.deps.lifecycle.draining = true;
    if (config.shutdownDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, config.shutdownDelayMs));
    // Keep-alive connections that fall idle after the close began would hold it open until
    // their keep-alive timeout; close each as soon as its last response is sent.
    const sweep = setInterval(() => app.server.closeIdleConnections(), 50);
    try {
      await app.close();
    } finally {
      clearInterval(sweep);
    }
    await tracing()?.shutdown(); // the last requests' spans
    app.log.info('closed');
  });
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  app.log.info(
    { port, database: maskUrl(config.databaseUrl), redis: maskUrl(config.redisUrl), cacheTtlSeconds: config.cacheTtlSeconds },
    `listening on http://${config.host}:${port}`,
  );
}

main().catch((err: unknown) => {
  const message = err instanceof ConfigError ? err.message : ((err as Error).stack ?? String(err));
  process.stderr.write(`api failed to start: ${message}\n`);
  process.exit(1);
});
