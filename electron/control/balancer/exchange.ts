import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Dispatcher, Pool } from 'undici';
import { returnedHeaders } from './forward-headers.js';
import { NamedError } from '../../../backend/named-error.js';

/**
 * How far an exchange got before it failed:
 * - `connect`: no connection took the request, so nothing reached the replica;
 * - `request`: the request was being written, no answer had begun (the replica may have seen it);
 * - `response`: the replica's answer had begun and is already on its way to the client.
 */
export type ExchangeStage = 'connect' | 'request' | 'response';

/** An exchange with a replica that failed, and how far it got. */
export class ExchangeError extends NamedError {
  /** The underlying error's code (`ECONNREFUSED`, `EPIPE`, `UND_ERR_HEADERS_TIMEOUT`, …), or ''. */
  readonly code: string;

  constructor(
    readonly stage: ExchangeStage,
    cause: Error,
  ) {
    super(cause.message, { cause });
    this.code = (cause as NodeJS.ErrnoException).code ?? '';
  }
}

/** One request as it goes to a replica. */
export interface ExchangeRequest {
  path: string;
  method: string;
  headers: Record<string, string | string[]>;
  body: Readable | null;
}

/**
 * Sends one request through `pool` and relays the answer into `res` as it arrives, with
 * backpressure both ways. Resolves when the answer is complete (or the client left and the
 * exchange was aborted); rejects with an {@link ExchangeError} saying how far it got.
 *
 * It speaks undici's raw dispatch handler (onConnect/onHeaders/onData…), the form undici runs
 * natively: the newer controller form parses every response's headers into an object first,
 * which this hot path does not need.
 */
export function exchange(pool: Pool, request: ExchangeRequest, res: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    let stage: ExchangeStage = 'connect';
    let abort: ((err?: Error) => void) | undefined;
    let resume: (() => void) | undefined;
    let settled = false;
    const onDrain = () => resume?.();
    const onClientGone = () => {
      if (!res.writableFinished) abort?.(new Error('the client went away'));
    };
    res.once('close', onClientGone);
    const settle = (err?: ExchangeError) => {
      if (settled) return;
      settled = true;
      res.off('close', onClientGone);
      res.off('drain', onDrain);
      if (err) reject(err);
      else resolve();
    };
    const handler: Dispatcher.DispatchHandler = {
      onConnect(abortRequest) {
        abort = abortRequest;
        stage = 'request';
        if (res.destroyed) abortRequest(new Error('the client went away'));
      },
      onHeaders(statusCode, rawHeaders, resumeUpstream) {
        if (statusCode < 200) return true;
        stage = 'response';
        resume = resumeUpstream;
        if (res.destroyed) return false;
        res.writeHead(statusCode, returnedHeaders(rawHeaders));
        return true;
      },
      onData(chunk) {
        if (res.destroyed) return false;
        if (res.write(chunk)) return true;
        res.once('drain', onDrain);
        return false;
      },
      onComplete() {
        res.end();
        settle();
      },
      onError(err) {
        // The client left first: nothing is owed to anyone.
        if (res.destroyed && stage !== 'connect') settle();
        else settle(new ExchangeError(stage, err));
      },
    };
    pool.dispatch(
      { path: request.path, method: request.method as Dispatcher.HttpMethod, headers: request.headers, body: request.body },
      handler,
    );
  });
}
