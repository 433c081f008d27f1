import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Value } from 'typebox/value';
import { WebSocketServer, type WebSocket } from 'ws';
import { APP_CSP } from './app-csp.js';
import { EVENT_NAMES, RequestMessageSchema, type EventName, type Events, type ServerMessage } from './contract.js';
import type { ClientContext, ControlPlane } from './control/control-plane.js';
import { createBadRequestLog, type BadRequestLog } from './control/bad-request-log.js';
import { answerClientError, BadTargetError, isOwnHost, parseTarget } from './control/request-target.js';
import { LOGIN_CODE_PATH, LoginCodes } from './dashboard-login.js';
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
  /** Where refused requests are logged (rate-limited, never with a query or a token). @defaultValue console.warn */
  log?: (line: string) => void;
}

/** A running headless server. */
export interface Headless {
  url: string;
  /** The dashboard URL with the token, for a terminal or an in-process window: never a command line. */
  dashboardUrl: string;
  token: string;
  /**
   * A token-free dashboard URL with a one-time code (valid once, for a minute) that the server
   * trades for the token's cookie: the URL to hand a browser on its command line.
   */
  loginUrl(): string;
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
// The app's one policy (app-csp.ts, also the <meta> of the page), plus what only a header can say.
// The status page (no build yet) runs one inline script, allowed by its nonce.
const csp = (nonce?: string) =>
  `${nonce ? APP_CSP.replace("script-src 'self'", `script-src 'self' 'nonce-${nonce}'`) : APP_CSP}; frame-ancestors 'none'`;

/** A decoded path; a bad percent-encoding (`/%`, `/%E0%A4%A`) or a NUL is a {@link BadTargetError}. */
function decodePath(pathname: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    throw new BadTargetError('the path has a bad percent-encoding');
  }
  if (decoded.includes('\0')) throw new BadTargetError('the path holds a NUL');
  return decoded;
}

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
  const cookie = (req.headers.cookie ?? '')
    .split(';')
    .map((c) => c.trim().split('='))
    .find(([k]) => k === COOKIE);
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
  const codes = new LoginCodes();
  const logRefusal: BadRequestLog = createBadRequestLog({ server: 'dashboard', write: options.log });
  let port = 0;

  const allowedHost = (host: string | undefined) => isOwnHost(host, port);

  // Whatever a request holds, the handler answers it: nothing a client sends may end this process.
  const server: Server = createServer((req, res) => {
    serveHttp(req, res).catch((err: unknown) => {
      if (err instanceof BadTargetError) {
        logRefusal(err.message, req.url);
        return deny(res, 400, err.message);
      }
      logRefusal(`the server failed: ${(err as Error).message}`, req.url);
      if (!res.headersSent) deny(res, 500, "the dashboard server failed on this request; see the control plane's log");
      else res.destroy();
    });
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // Node's own parser refused the bytes (a bad request line, header or framing): say so, log it.
    logRefusal(`unparseable HTTP: ${err.code ?? err.message}`);
    answerClientError(err, socket);
  });
  async function serveHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = parseTarget(req.url);
    if (!allowedHost(req.headers.host)) {
      logRefusal('foreign Host header', req.url);
      return deny(res, 403, 'Host not allowed');
    }
    // A one-time code from loginUrl(): traded once for the cookie, then the token-free dashboard.
    const code = url.searchParams.get('code');
    if (code !== null && url.pathname === '/' && (req.method === 'GET' || req.method === 'HEAD')) {
      if (!codes.redeem(code)) {
        logRefusal('unknown, used or expired login code', req.url);
        return deny(
          res,
          401,
          'this login link was already used or has expired: run `scalelab up --open` again, or open the dashboard URL that `scalelab up` or `scalelab serve` printed',
        );
      }
      res.writeHead(303, { location: '/', 'set-cookie': cookieHeader(), 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
      res.end();
      return;
    }
    const given = tokenOf(req, url);
    if (!given || !same(given, token)) {
      logRefusal('missing or wrong token', req.url);
      return deny(res, 401, 'missing or wrong token: open the dashboard URL that `scalelab up` or `scalelab serve` printed');
    }
    if (req.method === 'POST' && url.pathname === LOGIN_CODE_PATH) {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
      res.end(JSON.stringify({ url: loginUrl() }));
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return deny(res, 405, 'method not allowed');
    if (url.pathname === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(cp.telemetry.prometheus());
      return;
    }
    const nonce = randomBytes(16).toString('base64');
    const headers: Record<string, string> = {
      'content-security-policy': csp(),
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
    };
    if (url.searchParams.has('token')) headers['set-cookie'] = cookieHeader();
    const file = path.resolve(rendererDir, `.${decodePath(url.pathname)}`);
    const inside = file.startsWith(rendererDir + path.sep);
    if (inside && existsSync(file) && statSync(file).isFile())
      return sendFile(res, file, { ...headers, 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    const index = path.join(rendererDir, 'index.html');
    if (existsSync(index)) return sendFile(res, index, { ...headers, 'content-type': TYPES['.html']! });
    res.writeHead(200, { ...headers, 'content-security-policy': csp(nonce), 'content-type': TYPES['.html']! });
    res.end(STATUS_PAGE.replace('__NONCE__', nonce));
  }

  function cookieHeader(): string {
    return `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`;
  }

  function loginUrl(): string {
    return `http://127.0.0.1:${port}/?code=${codes.issue()}`;
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });
  server.on('upgrade', (req, socket, head) => {
    // Node hands an upgrading socket over without its error listener: a client resetting it
    // before ws takes over must not become an uncaught 'error' event.
    socket.on('error', () => socket.destroy());
    const refuse = (status: number, text: string, reason: string) => {
      logRefusal(`WebSocket upgrade: ${reason}`, req.url);
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    let url: URL;
    try {
      url = parseTarget(req.url);
    } catch (err) {
      return refuse(400, 'Bad Request', (err as Error).message);
    }
    const origin = req.headers.origin;
    if (!allowedHost(req.headers.host)) return refuse(403, 'Forbidden', 'foreign Host header');
    // Browsers always send Origin; only the dashboard's own origin may connect.
    if (origin !== undefined && origin !== `http://127.0.0.1:${port}` && origin !== `http://localhost:${port}`)
      return refuse(403, 'Forbidden', 'foreign Origin');
    const given = tokenOf(req, url);
    if (!given || !same(given, token)) return refuse(401, 'Unauthorized', 'missing or wrong token');
    if (url.pathname !== '/ws') return refuse(404, 'Not Found', 'not /ws');
    try {
      wss.handleUpgrade(req, socket, head, (ws) => attach(ws));
    } catch (err) {
      refuse(400, 'Bad Request', (err as Error).message);
    }
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
        send({
          id,
          result: {
            ok: false,
            error: {
              name: 'ContractError',
              message: 'expected a JSON message {"id": <integer>, "command": "<domain:verb>", "payload": {…}}',
            },
          },
        });
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
    loginUrl,
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

/** Streams a file; one removed or unreadable since it was looked up ends the response, not the process. */
function sendFile(res: ServerResponse, file: string, headers: Record<string, string>): void {
  const stream = createReadStream(file);
  stream.once('error', () => {
    if (!res.headersSent) deny(res, 404, 'not found');
    else res.destroy();
  });
  stream.once('open', () => {
    res.writeHead(200, headers);
    stream.pipe(res);
  });
}

function deny(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify({ statusCode: status, message }));
}
