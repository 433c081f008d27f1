import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { Pool } from 'undici';
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

function forwardHeaders(req: IncomingMessage): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
  }
  const peer = req.socket.remoteAddress ?? '';
  headers['x-forwarded-for'] = req.headers['x-forwarded-for'] ? `${String(req.headers['x-forwarded-for'])}, ${peer}` : peer;
  headers['x-forwarded-host'] = req.headers.host ?? '';
  headers['x-forwarded-proto'] = 'http';
  return headers;
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
          await this.forward(upstream, req, res);
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
      const record = () => this.stats.record(res.statusCode, Number(process.hrtime.bigint() - started) / 1_000, answeredBy, proxyError);
      if (res.writableFinished || res.destroyed) record();
      else res.once('close', record);
    }
  }

  private async forward(upstream: Upstream, req: IncomingMessage, res: ServerResponse): Promise<void> {
    upstream.inFlight += 1;
    try {
      const response = await upstream.pool.request({
        path: req.url ?? '/',
        method: req.method as 'GET',
        headers: forwardHeaders(req),
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
