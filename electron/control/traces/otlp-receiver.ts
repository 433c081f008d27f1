/**
 * The control plane's OTLP/HTTP trace receiver: `POST /v1/traces` with the JSON encoding, on
 * 127.0.0.1. Replicas' OTLP exporters (OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:<port>, the
 * exporter appends /v1/traces) send their span batches here; the spans go to a {@link TraceStore}.
 *
 * Any local process can reach a loopback port, and a web page can through DNS rebinding, so a
 * request must name this server in its Host header and carry the per-launch token
 * (`authorization: Bearer …`, which replicas get as OTEL_EXPORTER_OTLP_HEADERS in their
 * environment): otherwise a forged "failed request" trace could land in the dashboard.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createGunzip } from 'node:zlib';
import { createBadRequestLog, type BadRequestLog } from '../bad-request-log.js';
import { answerClientError, BadTargetError, isOwnHost, parseTarget } from '../request-target.js';
import { OtlpFormatError, parseExportRequest } from './otlp-json.js';
import type { TraceStore } from './trace-store.js';
import { NamedError } from '../../../backend/named-error.js';

/** Options of {@link OtlpReceiver}. */
export interface OtlpReceiverOptions {
  store: TraceStore;
  /** Port on 127.0.0.1. @defaultValue 0 (a free one) */
  port?: number;
  /** Largest body accepted (after gunzip), bytes. @defaultValue 16 MiB */
  maxBodyBytes?: number;
  /** The token every request must carry as `authorization: Bearer <token>`. @defaultValue a fresh random one */
  token?: string;
  /** Where refused requests are logged (rate-limited). @defaultValue console.warn */
  log?: (line: string) => void;
}

/** The receiver could not start listening. */
export class OtlpReceiverError extends NamedError {}

class BodyTooLargeError extends Error {}

const PATH = '/v1/traces';

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** An OTLP error reply: a google.rpc.Status-like `{ code, message }` the exporter logs. */
const fail = (res: ServerResponse, status: number, message: string) => reply(res, status, { code: status, message });

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
    const source = encoding === 'gzip' ? req.pipe(createGunzip()) : req;
    const chunks: Buffer[] = [];
    let size = 0;
    source.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        source.removeAllListeners('data');
        reject(new BodyTooLargeError());
        return;
      }
      chunks.push(chunk);
    });
    source.on('end', () => resolve(Buffer.concat(chunks)));
    source.on('error', reject);
  });
}

/** See the file's comment. */
export class OtlpReceiver {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly maxBodyBytes: number;
  /** `http://127.0.0.1:<port>` once listening (what OTEL_EXPORTER_OTLP_ENDPOINT is set to). */
  endpoint: string | undefined;
  /** Bodies refused (4xx), for the status. */
  rejected = 0;
  /** The per-launch token (see the file's comment); replicas get it through {@link otlpHeaders}. */
  readonly token: string;
  private readonly logRefusal: BadRequestLog;
  private port = 0;

  constructor(private readonly options: OtlpReceiverOptions) {
    this.maxBodyBytes = options.maxBodyBytes ?? 16 * 1024 * 1024;
    this.token = options.token ?? randomBytes(24).toString('base64url');
    this.logRefusal = createBadRequestLog({ server: 'otlp', write: options.log });
  }

  /** Listens on 127.0.0.1; resolves with the endpoint. */
  async start(): Promise<string> {
    if (this.endpoint) return this.endpoint;
    const server = createServer((req, res) => void this.serve(req, res));
    server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      this.rejected += 1;
      this.logRefusal(`unparseable HTTP: ${err.code ?? err.message}`);
      answerClientError(err, socket);
    });
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) =>
        reject(new OtlpReceiverError(`the trace receiver could not listen on 127.0.0.1:${this.options.port ?? 0}: ${err.message}`)),
      );
      server.listen(this.options.port ?? 0, '127.0.0.1', resolve);
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    this.endpoint = `http://127.0.0.1:${this.port}`;
    return this.endpoint;
  }

  /** Stops listening and drops open connections. Safe to call twice. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Refuses (and logs) a request that does not name this server or lacks the token; true when it was refused. */
  private refused(req: IncomingMessage, res: ServerResponse): boolean {
    const refuse = (status: number, reason: string, message: string) => {
      this.rejected += 1;
      this.logRefusal(reason, req.url);
      req.resume();
      res.setHeader('connection', 'close');
      fail(res, status, message);
      return true;
    };
    if (!isOwnHost(req.headers.host, this.port))
      return refuse(403, 'foreign Host header', 'Host not allowed: this receiver answers only as 127.0.0.1 or localhost');
    const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const x = Buffer.from(given ?? '');
    const y = Buffer.from(this.token);
    if (x.length !== y.length || !timingSafeEqual(x, y))
      return refuse(
        401,
        'missing or wrong token',
        'missing or wrong token: ScaleLab gives its replicas the token as OTEL_EXPORTER_OTLP_HEADERS; send your own services to your own collector',
      );
    return false;
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = parseTarget(req.url);
      if (this.refused(req, res)) return;
      if (url.pathname !== PATH) return fail(res, 404, `this is ScaleLab's OTLP/HTTP trace receiver: POST ${PATH} (JSON encoding)`);
      if (req.method !== 'POST') {
        res.setHeader('allow', 'POST');
        return fail(res, 405, `POST ${PATH}`);
      }
      const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== 'application/json') {
        req.resume();
        this.rejected += 1;
        const protobuf = type === 'application/x-protobuf' || type === 'application/protobuf';
        return fail(
          res,
          415,
          `${protobuf ? 'protobuf is not accepted here' : `content-type "${type || 'none'}" is not accepted`}: send OTLP/HTTP with the JSON encoding (content-type: application/json), e.g. @opentelemetry/exporter-trace-otlp-http, or OTEL_EXPORTER_OTLP_PROTOCOL=http/json`,
        );
      }
      let body: Buffer;
      try {
        body = await readBody(req, this.maxBodyBytes);
      } catch (err) {
        this.rejected += 1;
        if (err instanceof BodyTooLargeError) {
          res.setHeader('connection', 'close');
          return fail(
            res,
            413,
            `the body is larger than ${this.maxBodyBytes} bytes: export smaller batches (OTEL_BSP_MAX_EXPORT_BATCH_SIZE)`,
          );
        }
        return fail(res, 400, `could not read the body: ${(err as Error).message}`);
      }
      let json: unknown;
      try {
        json = JSON.parse(body.toString('utf8'));
      } catch (err) {
        this.rejected += 1;
        return fail(res, 400, `the body is not JSON: ${(err as Error).message}`);
      }
      const spans = parseExportRequest(json);
      this.options.store.add(spans);
      // An empty ExportTraceServiceResponse: every span accepted (no partialSuccess to report).
      reply(res, 200, {});
    } catch (err) {
      this.rejected += 1;
      if (err instanceof BadTargetError) {
        this.logRefusal(err.message, req.url);
        return fail(res, 400, err.message);
      }
      if (err instanceof OtlpFormatError) return fail(res, 400, err.message);
      if (!res.headersSent) fail(res, 500, `the trace receiver failed: ${(err as Error).message}`);
    }
  }
}

/** The exporter's OTEL_EXPORTER_OTLP_HEADERS for `token` (the value is percent-decoded by the SDK). */
export function otlpHeaders(token: string): string {
  return `authorization=Bearer%20${encodeURIComponent(token)}`;
}
