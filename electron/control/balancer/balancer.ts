import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { Pool } from 'undici';
import type { StoredSpan } from '../traces/otlp-json.js';
import { BalancerStats, type BalancerSnapshot } from './stats.js';

/** Options of {@link Balancer}. */
export interface BalancerOptions {
  /** Port on 127.0.0.1; 0 picks a free one. */
  port: number;
  /** Connections kept per upstream. @defaultValue 128 */
  connectionsPerUpstream?: number;
  /** How long an upstream that refused a connection is skipped before it is tried again. @defaultValue 1000 */
  ejectMs?: number;
  /** Longest wait for an upstream's answer before the client gets 504. @defaultValue 30000 */
  upstreamTimeoutMs?: number;
  /**
   * Asked per request: where to put the balancer's own span of it (the hop in the trace's
   * waterfall). Given one, the balancer continues a client's W3C `traceparent` or starts a trace,
   * and passes its span on to the replica. @defaultValue none: headers pass through untouched
   */
  traceSink?: () => ((span: StoredSpan) => void) | undefined;
}

/** A request's place in a trace: the trace, the client's span (if it sent one), the balancer's span. */
interface Hop {
  traceId: string;
  parentSpanId: string | null;
  spanId: string;
  sampled: boolean;
  startMs: number;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** Continues the client's `traceparent` (W3C Trace Context) or starts a sampled trace. */
function hopOf(header: string | string[] | undefined): Hop {
  const m = typeof header === 'string' ? TRACEPARENT.exec(header.trim()) : null;
  const valid = m !== null && !/^0+$/.test(m[1]!) && !/^0+$/.test(m[2]!);
  const ids = randomBytes(24).toString('hex');
  return {
    traceId: valid ? m[1]! : ids.slice(0, 32),
    parentSpanId: valid ? m[2]! : null,
    spanId: ids.slice(32),
    sampled: valid ? (Number.parseInt(m[3]!, 16) & 1) === 1 : true,
    startMs: performance.timeOrigin + performance.now(),
  };
}

interface Upstream {
  id: string;
  origin: string;
  pool: Pool;
  /** Routable: the runtime saw its readiness probe pass. */
  ready: boolean;
  /** Leaving: no new requests; resolves `drained` when the last in-flight one finishes. */
  leaving: boolean;
  inFlight: number;
  ejectedUntil: number;
  drained?: () => void;
}

/** An upstream as the control plane reports it. */
export interface UpstreamState {
  id: string;
  origin: string;
  ready: boolean;
  leaving: boolean;
  inFlight: number;
}

/** Errors raised before the upstream saw the request: safe to send elsewhere. */
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_CLOSED', 'UND_ERR_DESTROYED']);
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'DELETE', 'PUT', 'TRACE']);
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'proxy-authenticate', 'proxy-authorization', 'host']);

function forwardHeaders(req: IncomingMessage, hop: Hop | undefined): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
  }
  if (hop) headers.traceparent = `00-${hop.traceId}-${hop.spanId}-${hop.sampled ? '01' : '00'}`;
  const peer = req.socket.remoteAddress ?? '';
  headers['x-forwarded-for'] = req.headers['x-forwarded-for'] ? `${String(req.headers['x-forwarded-for'])}, ${peer}` : peer;
  headers['x-forwarded-host'] = req.headers.host ?? '';
  headers['x-forwarded-proto'] = 'http';
  return headers;
}

/** The balancer's span of one request: from its arrival to the last byte of the answer. */
function hopSpan(req: IncomingMessage, status: number, hop: Hop, durationMs: number, upstream: string | undefined, proxyError: boolean): StoredSpan {
  const attributes: Record<string, string> = { 'http.request.method': req.method ?? '', 'url.path': (req.url ?? '/').split('?')[0]!, 'http.response.status_code': String(status) };
  if (upstream) attributes['scalelab.upstream'] = upstream;
  return {
    traceId: hop.traceId,
    spanId: hop.spanId,
    parentSpanId: hop.parentSpanId,
    name: `balancer ${req.method ?? ''}`.trim(),
    service: 'scalelab-balancer',
    kind: 'server',
    startMs: hop.startMs,
    endMs: hop.startMs + durationMs,
    attributes,
    status: { code: proxyError || status >= 500 ? 'error' : 'unset' },
    links: [],
  };
}

function responseHeaders(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');
}

/**
 * The stack's front door on 127.0.0.1: an HTTP reverse proxy over undici connection pools.
 *
 * - Routes each request to the ready upstream with the fewest outstanding requests.
 * - An upstream that refuses a connection is skipped for `ejectMs`, and an idempotent request
 *   without a body is retried once on another upstream, so a crashed replica costs no request.
 * - Upstreams leave before their process is stopped: `remove` waits for their in-flight requests.
 * - Counts requests, status codes and latency, overall and per upstream ({@link BalancerStats}).
 */
export class Balancer {
  private readonly upstreams = new Map<string, Upstream>();
  private readonly stats = new BalancerStats();
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  private inFlight = 0;
  private rr = 0;

  constructor(private readonly options: BalancerOptions) {}

  /** Starts listening; resolves to the port. */
  async listen(): Promise<number> {
    const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => void this.handle(req, res));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    return (server.address() as AddressInfo).port;
  }

  get port(): number | undefined {
    return (this.server?.address() as AddressInfo | null)?.port;
  }

  /** Adds an upstream (not routable until {@link setReady}). Re-adding an id replaces its origin. */
  add(id: string, origin: string): void {
    const existing = this.upstreams.get(id);
    if (existing?.origin === origin && !existing.leaving) return;
    if (existing) void existing.pool.close().catch(() => undefined);
    this.upstreams.set(id, {
      id,
      origin,
      pool: new Pool(origin, { connections: this.options.connectionsPerUpstream ?? 128, pipelining: 1, keepAliveTimeout: 4_000, headersTimeout: this.options.upstreamTimeoutMs ?? 30_000, bodyTimeout: this.options.upstreamTimeoutMs ?? 30_000 }),
      ready: false,
      leaving: false,
      inFlight: 0,
      ejectedUntil: 0,
    });
  }

  /** Marks an upstream routable (its readiness probe passes) or not (it failed or exited). */
  setReady(id: string, ready: boolean): void {
    const upstream = this.upstreams.get(id);
    if (!upstream) return;
    upstream.ready = ready;
    if (ready) upstream.ejectedUntil = 0;
  }

  /**
   * Takes an upstream out of rotation, waits (up to `timeoutMs`) for its in-flight requests,
   * then forgets it. Its process can then be stopped without failing a request.
   */
  async remove(id: string, timeoutMs = 30_000): Promise<void> {
    const upstream = this.upstreams.get(id);
    if (!upstream) return;
    upstream.leaving = true;
    if (upstream.inFlight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        upstream.drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    if (this.upstreams.get(id) === upstream) this.upstreams.delete(id);
    await upstream.pool.close().catch(() => undefined);
  }

  /** Upstreams and their state. */
  list(): UpstreamState[] {
    return [...this.upstreams.values()].map(({ id, origin, ready, leaving, inFlight }) => ({ id, origin, ready, leaving, inFlight }));
  }

  /** Counts since the previous call. */
  takeSnapshot(): BalancerSnapshot {
    const perUpstream = new Map<string, number>();
    for (const upstream of this.upstreams.values()) perUpstream.set(upstream.id, upstream.inFlight);
    return this.stats.take(this.inFlight, perUpstream);
  }

  /** Stops listening and closes every pool. Safe to call twice. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const force = setTimeout(() => {
        for (const socket of this.sockets) socket.destroy();
      }, 2_000);
      await closed;
      clearTimeout(force);
    }
    const pools = [...this.upstreams.values()].map((u) => u.pool.close().catch(() => undefined));
    this.upstreams.clear();
    await Promise.all(pools);
  }

  /** Least outstanding requests among routable upstreams; ties go round-robin. */
  private pick(exclude?: Upstream): Upstream | undefined {
    const now = Date.now();
    let best: Upstream[] = [];
    let least = Infinity;
    for (const upstream of this.upstreams.values()) {
      if (!upstream.ready || upstream.leaving || upstream.ejectedUntil > now || upstream === exclude) continue;
      if (upstream.inFlight < least) {
        least = upstream.inFlight;
        best = [upstream];
      } else if (upstream.inFlight === least) {
        best.push(upstream);
      }
    }
    if (best.length === 0) return undefined;
    this.rr = (this.rr + 1) % 1_000_000;
    return best[this.rr % best.length];
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const sink = this.options.traceSink?.();
    const hop = sink ? hopOf(req.headers.traceparent) : undefined;
    this.inFlight += 1;
    const first = this.pick();
    let answeredBy: string | undefined;
    let proxyError = false;
    try {
      if (!first) {
        proxyError = true;
        this.fail(res, 503, 'no api replica is ready');
        return;
      }
      let upstream: Upstream = first;
      const retriable = IDEMPOTENT.has(req.method ?? '') && !hasBody(req);
      for (let attempt = 0; ; attempt += 1) {
        answeredBy = upstream.id;
        try {
          await this.forward(upstream, req, res, hop);
          return;
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code ?? '';
          const unreachable = CONNECT_ERRORS.has(code) && !res.headersSent;
          if (unreachable) upstream.ejectedUntil = Date.now() + (this.options.ejectMs ?? 1_000);
          const next: Upstream | undefined = unreachable && retriable && attempt === 0 ? this.pick(upstream) : undefined;
          if (next) {
            upstream = next;
            continue;
          }
          proxyError = true;
          if (res.headersSent) res.destroy();
          else if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') this.fail(res, 504, `${upstream.id} did not answer in time`);
          else this.fail(res, 502, `${upstream.id} is unreachable (${code || (err as Error).message})`);
          return;
        }
      }
    } finally {
      this.inFlight -= 1;
      const record = () => {
        const micros = Number(process.hrtime.bigint() - started) / 1_000;
        this.stats.record(res.statusCode, micros, answeredBy, proxyError);
        if (hop?.sampled && sink) sink(hopSpan(req, res.statusCode, hop, micros / 1_000, answeredBy, proxyError));
      };
      if (res.writableFinished || res.destroyed) record();
      else res.once('close', record);
    }
  }

  private async forward(upstream: Upstream, req: IncomingMessage, res: ServerResponse, hop: Hop | undefined): Promise<void> {
    upstream.inFlight += 1;
    try {
      const response = await upstream.pool.request({
        path: req.url ?? '/',
        method: req.method as 'GET',
        headers: forwardHeaders(req, hop),
        body: hasBody(req) ? req : null,
      });
      res.writeHead(response.statusCode, responseHeaders(response.headers));
      await pipeline(response.body, res);
    } finally {
      upstream.inFlight -= 1;
      if (upstream.leaving && upstream.inFlight === 0) upstream.drained?.();
    }
  }

  private fail(res: ServerResponse, status: number, message: string): void {
    const body = JSON.stringify({ statusCode: status, error: status === 503 ? 'Service Unavailable' : status === 504 ? 'Gateway Timeout' : 'Bad Gateway', message });
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'retry-after': '1' });
    res.end(body);
  }
}
