import type { IncomingMessage, ServerResponse } from 'node:http';
import { KubeStatusError, reasonOf } from './status.js';

/** Bodies past this are refused with 413, as the API server caps requests (3 MiB there). */
const MAX_BODY = 3 * 1024 * 1024;

/** Writes a JSON answer. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'cache-control': 'no-cache, private',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** Writes a failure Status for `err`; anything that is not a KubeStatusError is a 500 InternalError. */
export function sendError(res: ServerResponse, err: unknown): void {
  const status =
    err instanceof KubeStatusError ? err : new KubeStatusError(500, reasonOf(500), `Internal error occurred: ${(err as Error).message}`);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, status.code, status.toStatus());
}

/** Reads a whole request body. */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new KubeStatusError(413, 'BadRequest', 'Request entity too large: limit is 3145728');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
