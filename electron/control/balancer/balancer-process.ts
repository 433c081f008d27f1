/**
 * The balancer as a process of its own: the stack's front door keeps serving while the control
 * plane restarts, crashes or is paused (kill -STOP, Ctrl-Z), and no request waits on the control
 * plane's event loop (telemetry, the WebSocket, the trace receiver, the load generator).
 *
 * Started detached by the control plane (RemoteBalancer), which drives it through the token-guarded
 * control API (control-api.ts) and records its pid and ports in the stack's state file, so a
 * restarted control plane re-attaches to it. The token comes in the environment, never argv.
 *
 * Environment: BALANCER_PORT (public, 127.0.0.1), BALANCER_CONTROL_PORT, BALANCER_TOKEN.
 */
import { Balancer } from './balancer.js';
import { portOf, SpanBuffer, startControlApi } from './control-api.js';

const port = Number(process.env.BALANCER_PORT);
const controlPort = Number(process.env.BALANCER_CONTROL_PORT ?? 0);
const token = process.env.BALANCER_TOKEN ?? '';
if (!Number.isInteger(port) || port < 0 || port > 65_535 || token.length < 16) {
  console.error('balancer: BALANCER_PORT and BALANCER_TOKEN (at least 16 characters) are required');
  process.exit(2);
}
// Not inherited by anything this process might start, and not in its environment for longer than needed.
delete process.env.BALANCER_TOKEN;

const log = (line: string) => console.log(`${new Date().toISOString()} ${line}`);
// A bug must cost a request, not the stack's front door: report it and keep serving.
process.on('uncaughtException', (err) => log(`balancer: uncaught ${err.stack ?? err.message}`));
process.on('unhandledRejection', (reason) => log(`balancer: unhandled rejection ${String((reason as Error)?.stack ?? reason)}`));

const spans = new SpanBuffer();
const balancer = new Balancer({ port, traceSink: spans.sink, log });
let control: Awaited<ReturnType<typeof startControlApi>> | undefined;
let stopping = false;
const shutdown = (why: string) => {
  if (stopping) return;
  stopping = true;
  log(`balancer: stopping (${why})`);
  const force = setTimeout(() => process.exit(0), 5_000);
  force.unref();
  void Promise.all([balancer.close(), new Promise((resolve) => control?.close(resolve))]).finally(() => process.exit(0));
};
try {
  const listening = await balancer.listen();
  control = await startControlApi({ balancer, spans, port: controlPort, token, onShutdown: () => shutdown('asked by the control plane') });
  log(`balancer: listening on http://127.0.0.1:${listening}, control API on 127.0.0.1:${portOf(control)} (pid ${process.pid})`);
} catch (err) {
  console.error(`balancer: cannot listen: ${(err as Error).message}`);
  process.exit(1);
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
