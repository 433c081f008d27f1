import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { terminate } from '../../electron/control/runtimes/local/child.js';

/**
 * The traffic benchmark's target: the cheapest HTTP server Node can be, so that whatever limits a
 * load generator against it is the generator (and the machine), not the service. It runs in its
 * own process so it never shares an event loop with the generator under test.
 */

/** The body of every answer: a user-shaped JSON object, small like a real user (bench/results/backend.md: 139 B). */
export const ENDPOINT_BODY = JSON.stringify({
  id: 1,
  name: 'Bench User',
  email: 'bench@example.com',
  createdAt: '2026-01-01T00:00:00.000Z',
});

// CommonJS for `node -e`; prints its port once listening. keepAliveTimeout is raised so idle
// pooled connections between two measured runs are not torn down and re-opened mid-run.
const SOURCE = `
const http = require('node:http');
const body = Buffer.from(process.env.ENDPOINT_BODY);
const headers = { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length };
const server = http.createServer((req, res) => {
  req.resume();
  res.writeHead(200, headers);
  res.end(body);
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
process.on('SIGTERM', () => process.exit(0));
`;

/** A running endpoint. */
export interface Endpoint {
  /** http://127.0.0.1:<port> */
  url: string;
  pid: number;
  /** Stops the process; safe to call twice. */
  stop(): Promise<void>;
}

/** Starts the endpoint in a child node process and resolves once it listens. */
export async function startEndpoint(): Promise<Endpoint> {
  const child: ChildProcess = spawn(process.execPath, ['-e', SOURCE], {
    env: { ...process.env, ENDPOINT_BODY },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => resolve(Number(line)));
    child.once('error', reject);
    child.once('exit', (code, signal) => reject(new Error(`the endpoint exited before listening (${signal ?? `exit ${code}`})`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    stop: () => terminate(child, 'SIGTERM', 3_000),
  };
}
