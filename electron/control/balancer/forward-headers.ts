import type { IncomingMessage } from 'node:http';
import { traceparentOf, type Hop } from './trace-hop.js';

/** The dashboard's cookie (headless.ts): sent by browsers to every 127.0.0.1 port, never a replica's business. */
export const DASHBOARD_COOKIE = 'scalelab_token';

/**
 * Headers that describe one connection, not the request (RFC 9110 §7.6.1), plus `host` (the pool
 * sets the upstream's), `expect` (the balancer answers 100-continue itself) and the forwarding
 * headers, which the balancer writes afresh: a client's own X-Forwarded-For would otherwise pick
 * the `request.ip` a replica rate-limits by, since replicas trust a loopback proxy.
 */
const NOT_FORWARDED = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'proxy-authenticate',
  'proxy-authorization',
  'host',
  'expect',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-real-ip',
]);

/** Response headers that describe the replica's connection, not the answer. */
const NOT_RETURNED = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

/** Headers a `Connection:` header names are hop-by-hop too; `keep-alive` and `close` are the usual, already dropped. */
function connectionTokens(header: string | undefined): Set<string> | undefined {
  if (header === undefined) return undefined;
  const tokens = header
    .toLowerCase()
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '' && t !== 'keep-alive' && t !== 'close');
  return tokens.length > 0 ? new Set(tokens) : undefined;
}

/** The Cookie header without the dashboard's cookie; undefined when nothing else is left. */
export function withoutDashboardCookie(cookie: string): string | undefined {
  if (!cookie.includes(DASHBOARD_COOKIE)) return cookie;
  const kept = cookie
    .split(';')
    .map((pair) => pair.trim())
    .filter((pair) => pair !== '' && pair.split('=', 1)[0]!.trim() !== DASHBOARD_COOKIE);
  return kept.length > 0 ? kept.join('; ') : undefined;
}

/** The headers a replica gets for `req`: end-to-end ones, the trace hop, and forwarding headers set from the socket. */
export function forwardHeaders(req: IncomingMessage, hop: Hop | undefined): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  const named = connectionTokens(req.headers.connection);
  for (const name in req.headers) {
    const value = req.headers[name];
    if (value === undefined || NOT_FORWARDED.has(name) || named?.has(name)) continue;
    if (name === 'cookie') {
      const cookie = withoutDashboardCookie(value as string);
      if (cookie !== undefined) headers.cookie = cookie;
    } else {
      headers[name] = value;
    }
  }
  if (hop) headers.traceparent = traceparentOf(hop);
  headers['x-forwarded-for'] = req.socket.remoteAddress ?? '';
  headers['x-forwarded-host'] = req.headers.host ?? '';
  headers['x-forwarded-proto'] = 'http';
  return headers;
}

/** The replica's raw response headers (name, value, …) as Node's writeHead takes them, minus hop-by-hop ones. */
export function returnedHeaders(raw: Buffer[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1');
    if (NOT_RETURNED.has(name.toLowerCase())) continue;
    out.push(name, raw[i + 1]!.toString('latin1'));
  }
  return out;
}
