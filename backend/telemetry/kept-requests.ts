/**
 * The failed and slow requests that head sampling left out, recorded after the fact: as each
 * request ends, one that was not sampled is judged on its status and duration (keep-policy.ts),
 * and a kept one becomes a single server span with its name, route, status and duration, marked
 * `scalelab.sampling: unsampled: timing only`. It joins the caller's trace when the request
 * carried a traceparent (the balancer's hop is then its parent), so the Slow requests panel lists
 * it under its route like any other trace. A request costs one ring-buffer write and two
 * comparisons here; only a kept one costs a span.
 */
import type { IncomingMessage } from 'node:http';
import type * as OtelApi from '@opentelemetry/api';
import { KEPT_ATTRIBUTE, SAMPLING_ATTRIBUTE, TIMING_ONLY, type KeepPolicy } from './keep-policy.js';
import { SAMPLED, type MarkedRequest } from './request-gate.js';

/** Options of {@link KeptRequests}. */
export interface KeptRequestsOptions {
  api: typeof OtelApi;
  tracer: OtelApi.Tracer;
  policy: KeepPolicy;
  /** Paths never traced (probes, scrapes). */
  ignore: RegExp;
}

/** See the file's comment. */
export class KeptRequests {
  /** Spans recorded after the fact, since start. */
  kept = 0;

  constructor(private readonly options: KeptRequestsOptions) {}

  /**
   * A request has been answered: `route` is its route pattern (or 'unmatched'), `elapsedMs` its
   * time from arrival to the last byte. Records a span when it was not sampled and is kept.
   */
  note(raw: IncomingMessage, method: string, route: string, status: number, elapsedMs: number): void {
    if ((raw as MarkedRequest)[SAMPLED]) return;
    const { api, tracer, policy, ignore } = this.options;
    const reason = policy.decide(status, elapsedMs);
    if (reason === undefined || ignore.test(raw.url ?? '')) return;
    const endMs = performance.timeOrigin + performance.now();
    // The caller's context (the balancer's hop, sampled out): the span continues its trace.
    const parent = api.propagation.extract(api.ROOT_CONTEXT, raw.headers);
    const attributes: OtelApi.Attributes = {
      'http.request.method': method,
      'http.route': route,
      'url.path': (raw.url ?? '/').split('?')[0]!,
      'http.response.status_code': status,
      [SAMPLING_ATTRIBUTE]: TIMING_ONLY,
      [KEPT_ATTRIBUTE]: reason,
    };
    if (reason === 'slow') attributes['scalelab.slow_threshold_ms'] = Math.round(policy.slowThresholdMs());
    const span = tracer.startSpan(
      `${method} ${route} (timing only)`,
      { kind: api.SpanKind.SERVER, startTime: endMs - elapsedMs, attributes },
      parent,
    );
    if (status >= 500) span.setStatus({ code: api.SpanStatusCode.ERROR, message: `answered ${status}` });
    span.end(endMs);
    this.kept += 1;
  }
}
