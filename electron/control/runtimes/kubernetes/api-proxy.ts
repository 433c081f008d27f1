import { request as httpRequest, createServer, type IncomingMessage, type OutgoingHttpHeaders, type Server } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from 'node:https';
import { Agent as HttpAgent } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'host',
  'authorization',
]);

/** Options of {@link ApiServerProxy}. */
export interface ApiServerProxyOptions {
  kc: KubeConfig;
  /**
   * Maps a local request path (with its query) to the API server path it goes to, e.g. the
   * api Service's proxy; undefined answers 404.
   */
  route: (path: string) => string | undefined;
  /** Longest wait for the API server's answer. @defaultValue 30000 */
  timeoutMs?: number;
}

/**
 * A plain-HTTP listener on 127.0.0.1 that forwards every request to the API server's service or
 * pod proxy with the kubeconfig's credentials. The balancer, telemetry's /metrics scrapes and the
 * chaos fault hooks reach the pods through it, as `kubectl proxy` would let them, without a
 * port-forward per pod.
 */
export class ApiServerProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private agent: HttpAgent | HttpsAgent | undefined;
  private base: RequestOptions | undefined;
  private closed = false;

  constructor(private readonly options: ApiServerProxyOptions) {}

  /** Listens on 127.0.0.1:`port` (0: a free one) and resolves the port. */
  async listen(port = 0): Promise<number> {
    const cluster = this.options.kc.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    const target = new URL(cluster.server);
    const base: RequestOptions = {
      hostname: target.hostname,
      port: target.port || (target.protocol === 'https:' ? 443 : 80),
      protocol: target.protocol,
      headers: {},
    };
    // Credentials (bearer token, client certificate, CA) exactly as the client library sends them.
    await this.options.kc.applyToHTTPSOptions(base);
    this.agent =
      target.protocol === 'https:'
        ? new HttpsAgent({
            keepAlive: true,
            maxSockets: 64,
            ca: base.ca,
            cert: base.cert,
            key: base.key,
            rejectUnauthorized: base.rejectUnauthorized,
          })
        : new HttpAgent({ keepAlive: true, maxSockets: 64 });
    this.base = { ...base, agent: this.agent, pathPrefix: target.pathname.replace(/\/$/, '') } as RequestOptions;
    const server = createServer((req, res) => this.forward(req, res));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    return (server.address() as AddressInfo).port;
  }

  /** The local URL, once listening. */
  get url(): string | undefined {
    const address = this.server?.address() as AddressInfo | null | undefined;
    return address ? `http://127.0.0.1:${address.port}` : undefined;
  }

  private forward(req: IncomingMessage, res: import('node:http').ServerResponse): void {
    const path = this.options.route(req.url ?? '/');
    if (!path || !this.base) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not routed by the ScaleLab API-server proxy\n');
      return;
    }
    const headers: OutgoingHttpHeaders = { ...(this.base.headers as OutgoingHttpHeaders) };
    for (const [name, value] of Object.entries(req.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
    // The api's own bearer token (chaos fault hooks) travels in a header the API server passes on.
    if (req.headers.authorization) headers['x-scalelab-authorization'] = req.headers.authorization;
    const { pathPrefix, ...base } = this.base as RequestOptions & { pathPrefix: string };
    const send = base.protocol === 'https:' ? httpsRequest : httpRequest;
    const upstream = send(
      { ...base, method: req.method, path: pathPrefix + path, headers, timeout: this.options.timeoutMs ?? 30_000 },
      (answer) => {
        const out: OutgoingHttpHeaders = {};
        for (const [name, value] of Object.entries(answer.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
        res.writeHead(answer.statusCode ?? 502, out);
        answer.pipe(res);
      },
    );
    upstream.on('timeout', () => upstream.destroy(new Error('the API server did not answer in time')));
    upstream.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`the API server proxy failed: ${err.message}\n`);
    });
    req.pipe(upstream);
  }

  /** Stops listening and drops open connections. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const server = this.server;
    for (const socket of this.sockets) socket.destroy();
    this.agent?.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
