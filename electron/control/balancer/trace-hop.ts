import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { StoredSpan } from '../traces/otlp-json.js';

/** A request's place in a trace: the trace, the client's span (if it sent one), the balancer's span. */
export interface Hop {
  traceId: string;
  parentSpanId: string | null;
  spanId: string;
  sampled: boolean;
  startMs: number;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** Continues the client's `traceparent` (W3C Trace Context) or starts a sampled trace. */
export function hopOf(header: string | string[] | undefined): Hop {
  const m = typeof header === 'string' ? TRACEPARENT.exec(header.trim()) : null;
  const valid = m !== null && !/^0+$/.test(m[1]!) && !/^0+$/.test(m[2]!);
  const ids = randomBytes(24).toString('hex');
  return {
    traceId: valid ? m[1]! : ids.slice(0, 32),
    parentSpanId: valid ? m[2]! : null,
    spanId: ids.slice(32),
    sampled: valid ? (Number.parseInt(m[3]!, 16) & 1) === 1 : true,
    startMs: performance.timeOrigin + performance.now(),
  };
}

/** The `traceparent` the replica gets: the same trace, the balancer's span as its parent. */
export function traceparentOf(hop: Hop): string {
  return `00-${hop.traceId}-${hop.spanId}-${hop.sampled ? '01' : '00'}`;
}

/** The balancer's span of one request: from its arrival to the last byte of the answer. */
export function hopSpan(req: IncomingMessage, status: number, hop: Hop, durationMs: number, upstream: string | undefined, proxyError: boolean): StoredSpan {
  const attributes: Record<string, string> = { 'http.request.method': req.method ?? '', 'url.path': (req.url ?? '/').split('?')[0]!, 'http.response.status_code': String(status) };
  if (upstream) attributes['scalelab.upstream'] = upstream;
  return {
    traceId: hop.traceId,
    spanId: hop.spanId,
    parentSpanId: hop.parentSpanId,
    name: `balancer ${req.method ?? ''}`.trim(),
    service: 'scalelab-balancer',
    kind: 'server',
    startMs: hop.startMs,
    endMs: hop.startMs + durationMs,
    attributes,
    status: { code: proxyError || status >= 500 ? 'error' : 'unset' },
    links: [],
  };
}
