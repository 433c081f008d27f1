/**
 * The control plane's OTLP/HTTP trace receiver: `POST /v1/traces` with the JSON encoding, on
 * 127.0.0.1. Replicas' OTLP exporters (OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:<port>, the
 * exporter appends /v1/traces) send their span batches here; the spans go to a {@link TraceStore}.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createGunzip } from 'node:zlib';
import { OtlpFormatError, parseExportRequest } from './otlp-json.js';
import type { TraceStore } from './trace-store.js';

/** Options of {@link OtlpReceiver}. */
export interface OtlpReceiverOptions {
  store: TraceStore;
  /** Port on 127.0.0.1. @defaultValue 0 (a free one) */
  port?: number;
  /** Largest body accepted (after gunzip), bytes. @defaultValue 16 MiB */
  maxBodyBytes?: number;
}

/** The receiver could not start listening. */
export class OtlpReceiverError extends Error {
  constructor(message: string) {
    super(message);
    this.name = this.constructor.name;
  }
}

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

  constructor(private readonly options: OtlpReceiverOptions) {
    this.maxBodyBytes = options.maxBodyBytes ?? 16 * 1024 * 1024;
  }

  /** Listens on 127.0.0.1; resolves with the endpoint. */
  async start(): Promise<string> {
    if (this.endpoint) return this.endpoint;
    const server = createServer((req, res) => void this.serve(req, res));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new OtlpReceiverError(`the trace receiver could not listen on 127.0.0.1:${this.options.port ?? 0}: ${err.message}`)));
      server.listen(this.options.port ?? 0, '127.0.0.1', resolve);
    });
    this.server = server;
    this.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
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

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
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
        return fail(res, 415, `${protobuf ? 'protobuf is not accepted here' : `content-type "${type || 'none'}" is not accepted`}: send OTLP/HTTP with the JSON encoding (content-type: application/json), e.g. @opentelemetry/exporter-trace-otlp-http, or OTEL_EXPORTER_OTLP_PROTOCOL=http/json`);
      }
      let body: Buffer;
      try {
        body = await readBody(req, this.maxBodyBytes);
      } catch (err) {
        this.rejected += 1;
        if (err instanceof BodyTooLargeError) {
          res.setHeader('connection', 'close');
          return fail(res, 413, `the body is larger than ${this.maxBodyBytes} bytes: export smaller batches (OTEL_BSP_MAX_EXPORT_BATCH_SIZE)`);
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
      if (err instanceof OtlpFormatError) return fail(res, 400, err.message);
      if (!res.headersSent) fail(res, 500, `the trace receiver failed: ${(err as Error).message}`);
    }
  }
}
