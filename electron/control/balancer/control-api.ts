import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StoredSpan } from '../traces/otlp-json.js';
import type { Balancer } from './balancer.js';
import { isLoopbackHost } from './request-guard.js';
import { NamedError } from '../../../backend/named-error.js';

/** Spans kept for the control plane while it does not collect them (paused, restarting). */
const SPAN_BUFFER = 4_096;
const BODY_LIMIT_BYTES = 64 * 1024;
const ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** A bad call to the control API: its status and why. */
class ControlApiError extends NamedError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The balancer's spans, waiting for the control plane to collect them; the oldest go first when it is full. */
export class SpanBuffer {
  /** Whether the control plane wants spans: set on every collection. */
  tracing = false;
  dropped = 0;
  private spans: StoredSpan[] = [];

  /** The trace sink the balancer asks per request: none while tracing is off. */
  readonly sink = (): ((span: StoredSpan) => void) | undefined => (this.tracing ? this.push : undefined);

  /** Every buffered span, emptying the buffer. */
  take(): { spans: StoredSpan[]; dropped: number } {
    const out = { spans: this.spans, dropped: this.dropped };
    this.spans = [];
    this.dropped = 0;
    return out;
  }

  private readonly push = (span: StoredSpan): void => {
    if (this.spans.length >= SPAN_BUFFER) {
      this.spans.shift();
      this.dropped += 1;
    }
    this.spans.push(span);
  };
}

/** Options of {@link startControlApi}. */
export interface ControlApiOptions {
  balancer: Balancer;
  spans: SpanBuffer;
  /** Port on 127.0.0.1. */
  port: number;
  /** Bearer token every call must carry. */
  token: string;
  /** Asked to stop the balancer process (POST /shutdown), after the answer is sent. */
  onShutdown: () => void;
}

function isOrigin(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > 200) return false;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' && url.pathname === '/' && url.search === '' && url.username === '';
  } catch {
    return false;
  }
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > BODY_LIMIT_BYTES) throw new ControlApiError(413, 'body too large');
    chunks.push(chunk);
  }
  if (size === 0) return {};
  try {
    const value: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw new ControlApiError(400, 'the body must be a JSON object');
}

/**
 * The balancer process's control API on 127.0.0.1, for the control plane only (Bearer token,
 * loopback Host):
 *
 * - `GET /state`: pid, port, upstreams;
 * - `PUT /upstreams/:id` `{ origin, ready }`: adds or updates an upstream;
 * - `POST /upstreams/:id/drain` `{ timeoutMs }`: takes it out, answers once its requests finished;
 * - `POST /retain` `{ ids }`: drains every upstream not listed (a re-attached control plane's view);
 * - `GET /snapshot`: counts, latency and status codes since the previous call, per upstream;
 * - `POST /spans` `{ tracing }`: turns the hop's spans on or off and hands over the buffered ones;
 * - `POST /shutdown`: stops the process.
 */
export async function startControlApi(options: ControlApiOptions): Promise<Server> {
  const expected = Buffer.from(`Bearer ${options.token}`);
  const authorized = (req: IncomingMessage) => {
    const given = Buffer.from(req.headers.authorization ?? '');
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
  const route = async (req: IncomingMessage): Promise<unknown> => {
    if (!isLoopbackHost(req.headers.host)) throw new ControlApiError(421, 'loopback only');
    if (!authorized(req)) throw new ControlApiError(401, 'a valid token is required');
    const { balancer, spans } = options;
    const url = req.url ?? '';
    const upstream = /^\/upstreams\/([^/?]+)(\/drain)?$/.exec(url);
    if (req.method === 'GET' && url === '/state') return { pid: process.pid, port: balancer.port, upstreams: balancer.list() };
    if (req.method === 'GET' && url === '/snapshot') return balancer.takeSnapshot();
    if (upstream) {
      const id = upstream[1]!;
      if (!ID.test(id)) throw new ControlApiError(400, 'an upstream id is lower-case letters, digits and dashes');
      const body = await readJson(req);
      if (req.method === 'PUT' && !upstream[2]) {
        if (!isOrigin(body.origin) || typeof body.ready !== 'boolean')
          throw new ControlApiError(400, 'PUT /upstreams/:id takes { origin: "http://host:port", ready: boolean }');
        balancer.add(id, body.origin);
        balancer.setReady(id, body.ready);
        return { ok: true };
      }
      if (req.method === 'POST' && upstream[2]) {
        const timeoutMs = typeof body.timeoutMs === 'number' && body.timeoutMs >= 0 && body.timeoutMs <= 600_000 ? body.timeoutMs : 30_000;
        await balancer.remove(id, timeoutMs);
        return { ok: true };
      }
    }
    if (req.method === 'POST' && url === '/retain') {
      const body = await readJson(req);
      if (!Array.isArray(body.ids) || !body.ids.every((id) => typeof id === 'string'))
        throw new ControlApiError(400, 'POST /retain takes { ids: string[] }');
      const keep = new Set(body.ids as string[]);
      const leaving = balancer.list().filter((u) => !keep.has(u.id));
      for (const u of leaving) void balancer.remove(u.id);
      return { draining: leaving.map((u) => u.id) };
    }
    if (req.method === 'POST' && url === '/spans') {
      const body = await readJson(req);
      spans.tracing = body.tracing === true;
      return spans.take();
    }
    if (req.method === 'POST' && url === '/shutdown') {
      setImmediate(options.onShutdown);
      return { ok: true };
    }
    throw new ControlApiError(404, `no ${req.method ?? ''} ${url.slice(0, 100)}`);
  };
  const answer = (res: ServerResponse, status: number, value: unknown) => {
    const body = JSON.stringify(value);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) }).end(body);
  };
  const server = createServer((req, res) => {
    route(req).then(
      (value) => answer(res, 200, value),
      (err: Error) => {
        if (!res.headersSent) answer(res, err instanceof ControlApiError ? err.status : 500, { error: err.message });
        else res.destroy();
      },
    );
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => console.warn(`balancer control API: ${err.message}`));
  return server;
}

/** The port a started control API listens on. */
export function portOf(server: Server): number {
  return (server.address() as AddressInfo).port;
}
