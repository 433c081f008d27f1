import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Pool } from 'undici';
import type { StoredSpan } from '../traces/otlp-json.js';
import { exchange, ExchangeError } from './exchange.js';
import { forwardHeaders } from './forward-headers.js';
import { bodyOf, discardBody, hasBody } from './request-body.js';
import { refusalOf, type Refusal } from './request-guard.js';
import { BalancerStats, type BalancerSnapshot } from './stats.js';
import { hopOf, recordHop, type Hop } from './trace-hop.js';

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
  /** Where refused requests and protocol errors are reported (rate-limited). @defaultValue console.warn */
  log?: (line: string) => void;
}

/** What the control plane needs of a balancer, in this process ({@link Balancer}) or in its own (RemoteBalancer). */
export interface BalancerHandle {
  readonly port: number | undefined;
  add(id: string, origin: string): void;
  setReady(id: string, ready: boolean): void;
  remove(id: string, timeoutMs?: number): Promise<void>;
  takeSnapshot(): BalancerSnapshot | Promise<BalancerSnapshot | undefined>;
  close(): Promise<void>;
  /** Resolves once every change sent so far is applied (a balancer in another process); absent when changes apply at once. */
  settled?(): Promise<void>;
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

/** Connect-stage failures that are the pool's own doing (it was closed), not the replica's. */
const POOL_CLOSED = new Set(['UND_ERR_CLOSED', 'UND_ERR_DESTROYED', 'UND_ERR_ABORTED']);
const TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'DELETE', 'PUT', 'TRACE']);
const LOG_EVERY_MS = 10_000;

/**
 * The stack's front door on 127.0.0.1: an HTTP reverse proxy over undici connection pools.
 *
 * - Refuses what is not for the replicas (foreign Host, `/admin`, malformed targets) with a 4xx.
 * - Routes each request to the ready upstream with the fewest outstanding requests.
 * - An upstream that cannot be connected to is skipped for `ejectMs` and the request, which it never
 *   saw, goes to another; an idempotent request without a body whose connection broke is retried
 *   once, so a crashed replica costs no GET.
 *   A replica that closes the connection while a large body is still coming (its body limit)
 *   is not ejected: that request alone gets the replica's answer (413) or 502.
 * - Upstreams leave before their process is stopped: `remove` waits for their in-flight requests.
 * - Counts requests, status codes and latency, overall and per upstream ({@link BalancerStats}).
 */
export class Balancer implements BalancerHandle {
  private readonly upstreams = new Map<string, Upstream>();
  private readonly stats = new BalancerStats();
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  private inFlight = 0;
  private rr = 0;
  private unlogged = 0;
  private loggedAt = 0;

  constructor(private readonly options: BalancerOptions) {}

  /** Starts listening; resolves to the port. */
  async listen(): Promise<number> {
    const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => void this.handle(req, res));
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    // `Expect: 100-continue`: refuse before the body is sent, else invite it and proxy as usual.
    server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
      const refusal = refusalOf(req);
      if (refusal) {
        // The client may send its body anyway or not: the connection cannot be trusted to frame the next request.
        res.shouldKeepAlive = false;
        this.refuse(req, res, refusal);
        return;
      }
      res.writeContinue();
      void this.handle(req, res, true);
    });
    server.on('connect', (req: IncomingMessage, socket: Socket) => {
      this.report(`CONNECT ${req.url ?? ''} refused`);
      socket.on('error', () => undefined);
      socket.end('HTTP/1.1 405 Method Not Allowed\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    });
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => this.clientError(err, socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    // Accept errors (EMFILE) are reported, never thrown out of the process.
    server.on('error', (err) => this.report(`listener: ${err.message}`));
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
      pool: new Pool(origin, {
        connections: this.options.connectionsPerUpstream ?? 128,
        pipelining: 1,
        keepAliveTimeout: 4_000,
        headersTimeout: this.options.upstreamTimeoutMs ?? 30_000,
        bodyTimeout: this.options.upstreamTimeoutMs ?? 30_000,
      }),
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
        const previous = upstream.drained;
        upstream.drained = () => {
          previous?.();
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

  private async handle(req: IncomingMessage, res: ServerResponse, checked = false): Promise<void> {
    const started = process.hrtime.bigint();
    let answeredBy: string | undefined;
    let proxyError = false;
    let hop: Hop | undefined;
    let sink: ((span: StoredSpan) => void) | undefined;
    this.inFlight += 1;
    try {
      const refusal = checked ? undefined : refusalOf(req);
      if (refusal) {
        this.refuse(req, res, refusal);
        return;
      }
      sink = this.options.traceSink?.();
      hop = sink ? hopOf(req.headers.traceparent) : undefined;
      const first = this.pick();
      if (!first) {
        proxyError = true;
        this.fail(req, res, 503, 'no api replica is ready');
        return;
      }
      const withBody = hasBody(req);
      // The body goes through a stream of its own: undici destroys the body it was given when an
      // exchange fails, and destroying the request itself would drop the client's connection
      // before it hears why.
      const body = withBody ? bodyOf(req) : null;
      const headers = forwardHeaders(req, hop);
      const retriable = IDEMPOTENT.has(req.method ?? '') && !withBody;
      let upstream = first;
      for (let attempt = 0; ; attempt += 1) {
        answeredBy = upstream.id;
        try {
          await this.forward(upstream, { path: req.url!, method: req.method!, headers, body }, res);
          // The replica answered before reading everything (its body limit): drop the rest.
          if (withBody && !req.complete) discardBody(req);
          return;
        } catch (err) {
          const failure = err instanceof ExchangeError ? err : new ExchangeError('request', err as Error);
          const unreachable = failure.stage === 'connect' && !POOL_CLOSED.has(failure.code);
          if (unreachable) upstream.ejectedUntil = Date.now() + (this.options.ejectMs ?? 1_000);
          // Nothing reached the replica before a connect-stage failure (and undici has not read the
          // body yet), so any request may go elsewhere; one the replica may have half-read is
          // repeated only when repeating it is harmless. Alone, a replica whose kept-alive
          // connection was reset gets the retry itself.
          const canRetry =
            attempt === 0 && (failure.stage === 'connect' || (retriable && failure.stage === 'request' && !TIMEOUTS.has(failure.code)));
          const next = canRetry ? (this.pick(upstream) ?? (unreachable ? undefined : upstream)) : undefined;
          if (next) {
            upstream = next;
            continue;
          }
          proxyError = true;
          if (res.headersSent) res.destroy();
          else if (TIMEOUTS.has(failure.code) && failure.code !== 'UND_ERR_CONNECT_TIMEOUT')
            this.fail(req, res, 504, `${upstream.id} did not answer in time`);
          else if (withBody && failure.stage === 'request')
            this.fail(
              req,
              res,
              502,
              `${upstream.id} closed the connection before reading the whole request (${failure.code || failure.message})`,
            );
          else this.fail(req, res, 502, `${upstream.id} is unreachable (${failure.code || failure.message})`);
          return;
        }
      }
    } catch (err) {
      // A bug here must cost one request, never the process.
      proxyError = true;
      this.report(`request failed: ${(err as Error).message}`);
      if (!res.headersSent) this.fail(req, res, 502, 'the balancer could not pass the request on');
      else res.destroy();
    } finally {
      this.inFlight -= 1;
      const record = () => {
        const micros = Number(process.hrtime.bigint() - started) / 1_000;
        this.stats.record(res.statusCode, micros, answeredBy, proxyError);
        if (hop && sink) recordHop(sink, req, res.statusCode, hop, micros / 1_000, answeredBy, proxyError);
      };
      if (res.writableFinished || res.destroyed) record();
      else res.once('close', record);
    }
  }

  private async forward(upstream: Upstream, request: Parameters<typeof exchange>[1], res: ServerResponse): Promise<void> {
    upstream.inFlight += 1;
    try {
      await exchange(upstream.pool, request, res);
    } finally {
      upstream.inFlight -= 1;
      if (upstream.leaving && upstream.inFlight === 0) upstream.drained?.();
    }
  }

  /** Answers a request the balancer will not pass on. */
  private refuse(req: IncomingMessage, res: ServerResponse, refusal: Refusal): void {
    this.report(`${refusal.status} for ${req.method ?? ''} ${(req.url ?? '').slice(0, 200)} (${refusal.message})`);
    this.fail(req, res, refusal.status, refusal.message);
  }

  /** The balancer's own answer; a client body still coming is read and dropped, so the client hears it. */
  private fail(req: IncomingMessage, res: ServerResponse, status: number, message: string): void {
    const body = JSON.stringify({ statusCode: status, error: STATUS_CODES[status] ?? 'Error', message });
    const headers: Record<string, string | number> = {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    };
    if (status >= 500) headers['retry-after'] = '1';
    if (!req.complete) discardBody(req);
    res.writeHead(status, headers);
    res.end(body);
  }

  /** A request line or header block Node's parser rejected: a 4xx on the raw socket, then close. */
  private clientError(err: NodeJS.ErrnoException, socket: Socket): void {
    // A client hanging up between requests is no malformed request.
    if (err.code !== 'ECONNRESET') this.report(`malformed request: ${err.code ?? err.message}`);
    socket.on('error', () => undefined);
    const busy = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
    if (err.code === 'ECONNRESET' || !socket.writable || busy) {
      socket.destroy();
      return;
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
  }

  /** Logs at most one line per 10 s, with a count of what it did not log. */
  private report(line: string): void {
    const now = Date.now();
    if (now - this.loggedAt < LOG_EVERY_MS) {
      this.unlogged += 1;
      return;
    }
    const skipped = this.unlogged > 0 ? ` (and ${this.unlogged} more since the last report)` : '';
    this.loggedAt = now;
    this.unlogged = 0;
    (this.options.log ?? console.warn)(`balancer: ${line}${skipped}`);
  }
}
