import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import {
  DEFAULT_TRACES_PER_SECOND,
  KEPT_ATTRIBUTE,
  KeepPolicy,
  PerSecondBudget,
  RATE_LIMITED_SAMPLER,
  SAMPLING_ATTRIBUTE,
  TIMING_ONLY,
  type KeepReason,
} from '../../../backend/telemetry/keep-policy.js';
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

/**
 * How the balancer samples: whether a trace it starts is sampled, and which unsampled hops it
 * records anyway (failed or slow, as timing-only spans, like the replicas do).
 */
export interface HopSampling {
  sampleNew(traceId: string): boolean;
  keep: KeepPolicy;
}

/**
 * The balancer follows the replicas' sampler settings (OTEL_TRACES_SAMPLER / _ARG of its own
 * environment): by default at most 10 new traces a second for the whole stack, so that behind
 * it every replica traces only the requests the balancer sampled, whatever the load. A value it
 * does not know falls back to that default: a balancer never refuses to start over tracing.
 */
export function hopSamplingFromEnv(env: NodeJS.ProcessEnv = process.env): HopSampling {
  const name = (env.OTEL_TRACES_SAMPLER ?? '')
    .trim()
    .toLowerCase()
    .replace(/^parentbased_/, '');
  const arg = Number(env.OTEL_TRACES_SAMPLER_ARG?.trim() || Number.NaN);
  const budget = new PerSecondBudget(
    name === RATE_LIMITED_SAMPLER.replace(/^parentbased_/, '') && Number.isFinite(arg) && arg >= 0 ? arg : DEFAULT_TRACES_PER_SECOND,
  );
  // A kept (failed or slow) hop widens the budget for a while, as in the replicas (keep-policy.ts).
  const keep = new KeepPolicy({ onKept: () => budget.widen() });
  if (name === 'always_on') return { sampleNew: () => true, keep };
  if (name === 'always_off') return { sampleNew: () => false, keep };
  if (name === 'traceidratio') {
    const ratio = Number.isFinite(arg) && arg >= 0 && arg <= 1 ? arg : 1;
    // The trace id's last 8 hex digits are random: a uniform draw from them.
    return { sampleNew: (traceId) => Number.parseInt(traceId.slice(-8), 16) / 2 ** 32 < ratio, keep };
  }
  return { sampleNew: () => budget.take(), keep };
}

let processSampling: HopSampling | undefined;

/** This process's {@link hopSamplingFromEnv}, made on first use. */
function defaultSampling(): HopSampling {
  processSampling ??= hopSamplingFromEnv();
  return processSampling;
}

/** Continues the client's `traceparent` (W3C Trace Context, its sampled flag included) or starts a trace, sampled as `sampling` says. */
export function hopOf(header: string | string[] | undefined, sampling: HopSampling = defaultSampling()): Hop {
  const m = typeof header === 'string' ? TRACEPARENT.exec(header.trim()) : null;
  const valid = m !== null && !/^0+$/.test(m[1]!) && !/^0+$/.test(m[2]!);
  const ids = randomBytes(24).toString('hex');
  const traceId = valid ? m[1]! : ids.slice(0, 32);
  return {
    traceId,
    parentSpanId: valid ? m[2]! : null,
    spanId: ids.slice(32),
    sampled: valid ? (Number.parseInt(m[3]!, 16) & 1) === 1 : sampling.sampleNew(traceId),
    startMs: performance.timeOrigin + performance.now(),
  };
}

/** The `traceparent` the replica gets: the same trace, the balancer's span as its parent. */
export function traceparentOf(hop: Hop): string {
  return `00-${hop.traceId}-${hop.spanId}-${hop.sampled ? '01' : '00'}`;
}

/**
 * The balancer's span of one request, from its arrival to the last byte of the answer, into
 * `sink`: every sampled one, and an unsampled one when it failed or was slow (marked timing
 * only, as the replica marks its own span of it).
 */
export function recordHop(
  sink: (span: StoredSpan) => void,
  req: IncomingMessage,
  status: number,
  hop: Hop,
  durationMs: number,
  upstream: string | undefined,
  proxyError: boolean,
  sampling: HopSampling = defaultSampling(),
): void {
  if (hop.sampled) return sink(hopSpan(req, status, hop, durationMs, upstream, proxyError));
  const kept = sampling.keep.decide(status, durationMs, proxyError);
  if (kept) sink(hopSpan(req, status, hop, durationMs, upstream, proxyError, kept));
}

/** The balancer's span of one request: from its arrival to the last byte of the answer; `kept` for an unsampled one recorded anyway. */
export function hopSpan(
  req: IncomingMessage,
  status: number,
  hop: Hop,
  durationMs: number,
  upstream: string | undefined,
  proxyError: boolean,
  kept?: KeepReason,
): StoredSpan {
  const attributes: Record<string, string> = {
    'http.request.method': req.method ?? '',
    'url.path': (req.url ?? '/').split('?')[0]!,
    'http.response.status_code': String(status),
  };
  if (upstream) attributes['scalelab.upstream'] = upstream;
  if (kept) {
    attributes[SAMPLING_ATTRIBUTE] = TIMING_ONLY;
    attributes[KEPT_ATTRIBUTE] = kept;
  }
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
