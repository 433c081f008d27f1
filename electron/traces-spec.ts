/**
 * Traces' part of the contract: `traces:list` and `traces:get`, and what they answer. The control
 * plane receives the replicas' OpenTelemetry spans (OTLP/HTTP, JSON encoding), groups them by trace
 * and keeps the recent ones plus the slow and failed ones (electron/control/traces/).
 */
import Type, { type Static } from 'typebox';

/** A W3C trace id: 32 lowercase hex digits. */
export const TraceIdSchema = Type.String({ pattern: '^[0-9a-f]{32}$', description: 'a trace id: 32 hex digits' });

/** `traces:list`: the traces that started in `from`–`to` (ms since epoch), slowest first. */
export const TracesListSchema = Type.Object(
  {
    from: Type.Number({ minimum: 0 }),
    to: Type.Number({ minimum: 0 }),
    /** Most traces answered. @defaultValue 50 */
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
    /** Only traces at least this slow (their root span's duration). */
    minDurationMs: Type.Optional(Type.Number({ minimum: 0 })),
    /** Only traces with a failed span (status ERROR or an HTTP 5xx). */
    errorsOnly: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type TracesListInput = Static<typeof TracesListSchema>;

/** `traces:get`: every span of one trace. */
export const TracesGetSchema = Type.Object({ traceId: TraceIdSchema }, { additionalProperties: false });
export type TracesGetInput = Static<typeof TracesGetSchema>;

/** One trace in a list. */
export interface TraceSummary {
  traceId: string;
  /** The root span's name, e.g. `GET /users/:id`. */
  name: string;
  /** From the root span's attributes (`http.route`, `http.request.method`, `http.response.status_code`); null when absent. */
  route: string | null;
  method: string | null;
  status: number | null;
  /** The root span's `service.name`. */
  service: string;
  /** When the trace started, ms since epoch. */
  start: number;
  /** The root span's duration, ms. */
  durationMs: number;
  spanCount: number;
  /** A span ended with status ERROR, or the request answered 5xx. */
  error: boolean;
}

export const SPAN_KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'] as const;
export type SpanKind = (typeof SPAN_KINDS)[number];

/** One span, placed for a waterfall. */
export interface TraceSpan {
  spanId: string;
  /** null for a root (or a span whose parent never arrived). */
  parentSpanId: string | null;
  name: string;
  service: string;
  kind: SpanKind;
  /** ms after the trace's first span started. */
  startOffsetMs: number;
  durationMs: number;
  /** A subset of its attributes (at most 32, long values cut), as text. */
  attributes: Record<string, string>;
  status: { code: 'unset' | 'ok' | 'error'; message?: string };
  /** Spans of other traces it links to (a job's span links to the request that queued it). */
  links: { traceId: string; spanId: string }[];
}

/** `traces:get`'s answer: the trace's summary and its spans, in start order. */
export interface TraceDetail {
  summary: TraceSummary;
  spans: TraceSpan[];
}

/** Where the replicas' traces go. */
export interface TracingStatus {
  /** The control plane's OTLP receiver (what replicas get as OTEL_EXPORTER_OTLP_ENDPOINT), null when it could not start. */
  receiver: string | null;
  /** The user's own collector, when OTEL_EXPORTER_OTLP_ENDPOINT was set as the control plane started: replicas send there instead. */
  external: string | null;
  /** OTEL_SDK_DISABLED=true where the control plane started: replicas get it too, and nothing is traced. */
  disabled: boolean;
  /** Spans received since the control plane started. */
  spansReceived: number;
  /** Traces held now. */
  tracesKept: number;
}

/** `traces:list`'s answer. */
export interface TraceList {
  traces: TraceSummary[];
  tracing: TracingStatus;
}
