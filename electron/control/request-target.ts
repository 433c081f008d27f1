/**
 * The request target of an HTTP request as the control plane's servers parse it, before any other
 * check: a target that is not a path, or not a valid URL path, is a {@link BadTargetError} (a 400),
 * never an exception thrown out of a request handler.
 */
import type { Duplex } from 'node:stream';
import { NamedError } from '../../backend/named-error.js';

/** A request the server cannot even parse (a bad target or percent-encoding): answered 400. */
export class BadTargetError extends NamedError {}

/**
 * RFC 9112's origin-form (`absolute-path [ "?" query ]`) in RFC 3986's characters: pchar is
 * unreserved / pct-encoded / sub-delims / ":" / "@", the query adds "/" and "?". A `%` must be
 * followed by two hex digits. Browsers send nothing else for this server's own URLs (assets,
 * `/ws`, `?token=`, `?code=`), so anything else is refused rather than guessed at.
 */
const ORIGIN_FORM =
  /^(?:\/(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})*)+(?:\?(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*)?$/;

/**
 * The request target as a URL on this server. Only an origin-form target is accepted (`*`, an
 * absolute URL, `//[` or a stray `%` are a {@link BadTargetError}: 400), and it is parsed against a
 * fixed authority, so `//evil/x` is a path here rather than a host. Never throws anything else.
 */
export function parseTarget(raw: string | undefined): URL {
  const target = raw ?? '/';
  if (!target.startsWith('/')) throw new BadTargetError('the request target must be a path');
  if (target.length > 8_192 || !ORIGIN_FORM.test(target))
    throw new BadTargetError('the request target is not a valid URL path (RFC 3986 characters, %XX escapes)');
  try {
    return new URL(`http://127.0.0.1${target}`);
  } catch {
    throw new BadTargetError('the request target is not a valid URL path');
  }
}

/**
 * True when a Host header names this loopback server (`127.0.0.1:<port>` or `localhost:<port>`):
 * anything else is a DNS-rebinding page's request and is refused before the token is looked at.
 */
export function isOwnHost(host: string | undefined, port: number): boolean {
  return host === `127.0.0.1:${port}` || host === `localhost:${port}`;
}

/**
 * Answers a connection Node's HTTP parser refused (a 'clientError': a bad request line, header
 * or framing) as Node itself would, with 400 (431 for oversized headers, 408 for a slow one),
 * or just closes it when the peer already went.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? '431 Request Header Fields Too Large'
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? '408 Request Timeout'
        : '400 Bad Request';
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
