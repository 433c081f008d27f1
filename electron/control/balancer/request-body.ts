/**
 * A client request's body as the balancer handles it: whether there is one, a stream of it that
 * undici may destroy without touching the client's connection, and dropping what nobody will read.
 */
import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';

/** A client body left unread after an early answer is read and dropped up to this much, then its connection is closed. */
const DISCARD_LIMIT_BYTES = 64 * 1024 * 1024;

/** Whether the request comes with a body: chunked, or a content-length other than 0. */
export function hasBody(req: IncomingMessage): boolean {
  return (
    req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0')
  );
}

/** The request's body as a stream undici may destroy without touching the client's connection. */
export function bodyOf(req: IncomingMessage): PassThrough {
  const body = new PassThrough();
  req.on('error', (err) => body.destroy(err));
  body.on('error', () => undefined);
  req.pipe(body);
  return body;
}

/** Reads and drops the rest of a body nobody will read, up to a limit; past it the connection closes. */
export function discardBody(req: IncomingMessage): void {
  let dropped = 0;
  req.unpipe();
  req.removeAllListeners('data');
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > DISCARD_LIMIT_BYTES) req.socket.destroy();
  });
  req.resume();
}
