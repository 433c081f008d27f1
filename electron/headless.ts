import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Value } from 'typebox/value';
import { WebSocketServer, type WebSocket } from 'ws';
import { EVENT_NAMES, RequestMessageSchema, type EventName, type Events, type ServerMessage } from './contract.js';
import type { ClientContext, ControlPlane } from './control/control-plane.js';
import { STATUS_PAGE } from './status-page.js';

/** Options of {@link startHeadless}. */
export interface HeadlessOptions {
  controlPlane: ControlPlane;
  /** Port on 127.0.0.1; 0 picks a free one. */
  port: number;
  /** Per-launch token; a fresh random one by default. */
  token?: string;
  /** Folder of the built renderer. @defaultValue dist/renderer next to this build, when present */
  rendererDir?: string;
}

/** A running headless server. */
export interface Headless {
  url: string;
  /** The dashboard URL with the token: the one to open. */
  dashboardUrl: string;
  token: string;
  close(): Promise<void>;
}

const COOKIE = 'scalelab_token';
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.ico': 'image/x-icon',
};
const csp = (nonce?: string) => `default-src 'self'; script-src 'self'${nonce ? ` 'nonce-${nonce}'` : ''}; style-src 'self' 'unsafe-inline'; connect-src 'self' ws://127.0.0.1:* ws://localhost:*; img-src 'self' data:; frame-ancestors 'none'`;

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function tokenOf(req: IncomingMessage, url: URL): string | undefined {
  const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
  if (bearer) return bearer;
  const query = url.searchParams.get('token');
  if (query) return query;
  const cookie = (req.headers.cookie ?? '').split(';').map((c) => c.trim().split('=')).find(([k]) => k === COOKIE);
  return cookie?.[1];
}

function defaultRendererDir(): string {
  // dist/electron/headless.js → dist/renderer; electron/headless.ts → dist/renderer.
  // From source, ../renderer is the renderer's *source* (its index.html loads main.tsx): never serve it.
  const here = path.dirname(fileURLToPath(import.meta.url));
  const inDist = path.basename(path.dirname(here)) === 'dist';
  return inDist ? path.resolve(here, '..', 'renderer') : path.resolve(here, '..', 'dist', 'renderer');
}

/**
 * Serves the dashboard and the contract over WebSocket on 127.0.0.1, for a browser tab and the
 * CLI. Every HTTP request and WebSocket upgrade must carry the per-launch token (query `token`,
 * `Authorization: Bearer`, or the cookie set when the dashboard URL is opened); cross-origin
 * upgrades and foreign Host headers (DNS rebinding) are refused.
 */
export async function startHeadless(options: HeadlessOptions): Promise<Headless> {
  const token = options.token ?? randomBytes(24).toString('base64url');
  const rendererDir = options.rendererDir ?? defaultRendererDir();
  const cp = options.controlPlane;
  const sockets = new Set<Socket>();
  let port = 0;

  const allowedHost = (host: string | undefined) => host === `127.0.0.1:${port}` || host === `localhost:${port}`;

  const server: Server = createServer((req, res) => void serveHttp(req, res));
  async function serveHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (!allowedHost(req.headers.host)) return deny(res, 403, 'Host not allowed');
    const given = tokenOf(req, url);
    if (!given || !same(given, token)) return deny(res, 401, 'missing or wrong token: open the dashboard URL that `scalelab up` or `scalelab serve` printed');
    if (req.method !== 'GET' && req.method !== 'HEAD') return deny(res, 405, 'method not allowed');
    if (url.pathname === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(cp.telemetry.prometheus());
      return;
    }
    const nonce = randomBytes(16).toString('base64');
    const headers: Record<string, string> = { 'content-security-policy': csp(), 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'cache-control': 'no-store' };
    if (url.searchParams.has('token')) headers['set-cookie'] = `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`;
    const file = path.resolve(rendererDir, `.${decodeURIComponent(url.pathname)}`);
    const inside = file.startsWith(rendererDir + path.sep);
    if (inside && existsSync(file) && statSync(file).isFile()) {
      res.writeHead(200, { ...headers, 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
      createReadStream(file).pipe(res);
      return;
    }
    const index = path.join(rendererDir, 'index.html');
    if (existsSync(index)) {
      res.writeHead(200, { ...headers, 'content-type': TYPES['.html']! });
      createReadStream(index).pipe(res);
    } else {
      res.writeHead(200, { ...headers, 'content-security-policy': csp(nonce), 'content-type': TYPES['.html']! });
      res.end(STATUS_PAGE.replace('__NONCE__', nonce));
    }
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const origin = req.headers.origin;
    const refuse = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (!allowedHost(req.headers.host)) return refuse(403, 'Forbidden');
    // Browsers always send Origin; only the dashboard's own origin may connect.
    if (origin !== undefined && origin !== `http://127.0.0.1:${port}` && origin !== `http://localhost:${port}`) return refuse(403, 'Forbidden');
    const given = tokenOf(req, url);
    if (!given || !same(given, token)) return refuse(401, 'Unauthorized');
    if (url.pathname !== '/ws') return refuse(404, 'Not Found');
    wss.handleUpgrade(req, socket, head, (ws) => attach(ws));
  });

  function attach(ws: WebSocket): void {
    const cleanups: (() => void)[] = [];
    const send = (message: ServerMessage) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
    };
    const client: ClientContext = {
      send: <E extends EventName>(event: E, data: Events[E]) => send({ event, data }),
      onClose: (cleanup) => cleanups.push(cleanup),
    };
    for (const event of EVENT_NAMES.filter((e) => e !== 'log')) cleanups.push(cp.on(event, (data) => client.send(event, data)));
    ws.on('message', (raw, isBinary) => {
      let message: unknown;
      try {
        message = isBinary ? undefined : JSON.parse(raw.toString());
      } catch {
        message = undefined;
      }
      if (!Value.Check(RequestMessageSchema, message)) {
        const id = typeof (message as { id?: unknown })?.id === 'number' ? (message as { id: number }).id : -1;
        send({ id, result: { ok: false, error: { name: 'ContractError', message: 'expected a JSON message {"id": <integer>, "command": "<domain:verb>", "payload": {…}}' } } });
        return;
      }
      void cp.handle(message.command, message.payload, client).then((result) => send({ id: message.id, result }));
    });
    ws.on('close', () => {
      for (const cleanup of cleanups) cleanup();
    });
    ws.on('error', () => ws.terminate());
  }

  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  let closed = false;
  return {
    url,
    dashboardUrl: `${url}/?token=${token}`,
    token,
    async close() {
      if (closed) return;
      closed = true;
      for (const ws of wss.clients) ws.close(1001, 'control plane stopping');
      wss.close();
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      setTimeout(() => {
        for (const socket of sockets) socket.destroy();
      }, 1_000).unref();
      await done;
    },
  };
}

function deny(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify({ statusCode: status, message }));
}
