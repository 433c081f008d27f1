/**
 * OTLP/HTTP JSON (ExportTraceServiceRequest) → the spans the trace store keeps. The shape is
 * checked with a compiled TypeBox schema first, so a malformed body is answered with what is wrong
 * and never reaches the store half-read.
 */
import Type from 'typebox';
import { Compile } from 'typebox/compile';
import { SPAN_KINDS, type SpanKind, type TraceSpan } from '../../contract.js';
import { NamedError } from '../../../backend/named-error.js';

/** The body is not an OTLP JSON export request. */
export class OtlpFormatError extends NamedError {}

/** A span as the store keeps it: absolute times in ms since epoch (fractional: µs survive). */
export interface StoredSpan extends Omit<TraceSpan, 'startOffsetMs' | 'durationMs'> {
  traceId: string;
  startMs: number;
  endMs: number;
}

/** Attributes kept per span, and the longest value kept (the waterfall's tooltip shows them). */
const MAX_ATTRIBUTES = 32;
const MAX_VALUE_CHARS = 300;
/**
 * What one stored span may hold at most, so the trace store's byte budget counts in spans of a
 * known size: a span name's characters, its attributes' characters (keys and values together),
 * and its links. Longer names are cut, further attributes and links dropped.
 */
export const SPAN_LIMITS = { nameChars: 256, attributeChars: 4096, links: 16 } as const;

const Id = Type.String({ maxLength: 64 });
const Nanos = Type.Union([Type.String({ pattern: '^[0-9]{1,20}$' }), Type.Integer({ minimum: 0 })]);
const KeyValue = Type.Object({ key: Type.String({ maxLength: 256 }), value: Type.Optional(Type.Unknown()) });
const Attributes = Type.Optional(Type.Array(KeyValue));
const SpanSchema = Type.Object({
  traceId: Id,
  spanId: Id,
  parentSpanId: Type.Optional(Id),
  name: Type.String({ maxLength: 2048 }),
  kind: Type.Optional(Type.Union([Type.Integer(), Type.String({ maxLength: 64 })])),
  startTimeUnixNano: Nanos,
  endTimeUnixNano: Nanos,
  attributes: Attributes,
  status: Type.Optional(
    Type.Object({
      code: Type.Optional(Type.Union([Type.Integer(), Type.String({ maxLength: 64 })])),
      message: Type.Optional(Type.String()),
    }),
  ),
  links: Type.Optional(Type.Array(Type.Object({ traceId: Id, spanId: Id }))),
});
const ExportRequestSchema = Type.Object({
  resourceSpans: Type.Optional(
    Type.Array(
      Type.Object({
        resource: Type.Optional(Type.Object({ attributes: Attributes })),
        scopeSpans: Type.Optional(Type.Array(Type.Object({ spans: Type.Optional(Type.Array(SpanSchema)) }))),
      }),
    ),
  ),
});
const validator = Compile(ExportRequestSchema);

interface KeyValueJson {
  key: string;
  value?: unknown;
}

/** An AnyValue as text: strings as they are, numbers and booleans printed, arrays and maps as JSON. */
export function anyValueText(value: unknown): string {
  if (!value || typeof value !== 'object') return '';
  const v = value as Record<string, unknown>;
  if (typeof v.stringValue === 'string') return v.stringValue;
  if (v.intValue !== undefined) return String(v.intValue);
  if (v.doubleValue !== undefined) return String(v.doubleValue);
  if (v.boolValue !== undefined) return String(v.boolValue);
  if (v.arrayValue && typeof v.arrayValue === 'object')
    return JSON.stringify(((v.arrayValue as { values?: unknown[] }).values ?? []).map(anyValueText));
  if (v.kvlistValue && typeof v.kvlistValue === 'object')
    return JSON.stringify(
      Object.fromEntries(((v.kvlistValue as { values?: KeyValueJson[] }).values ?? []).map((kv) => [kv.key, anyValueText(kv.value)])),
    );
  if (typeof v.bytesValue === 'string') return v.bytesValue;
  return '';
}

function attributesOf(list: KeyValueJson[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  let n = 0;
  let chars = 0;
  for (const kv of list ?? []) {
    if (n >= MAX_ATTRIBUTES) break;
    const text = anyValueText(kv.value);
    const value = text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS)}…` : text;
    chars += kv.key.length + value.length;
    if (chars > SPAN_LIMITS.attributeChars) break;
    out[kv.key] = value;
    n += 1;
  }
  return out;
}

/**
 * An id as lowercase hex. The OTLP JSON encoding says hex; some exporters send the protobuf JSON
 * mapping's base64 instead, which is recognised by its length (24 or 12 characters).
 */
export function hexId(id: string, bytes: 16 | 8): string | null {
  const hexLength = bytes * 2;
  if (id.length === hexLength && /^[0-9a-fA-F]+$/.test(id)) return id.toLowerCase();
  const base64Length = bytes === 16 ? 24 : 12;
  if (id.length === base64Length && /^[A-Za-z0-9+/]+={0,2}$/.test(id)) {
    const hex = Buffer.from(id, 'base64').toString('hex');
    return hex.length === hexLength ? hex : null;
  }
  return null;
}

/** Nanoseconds (a decimal string or a number) → ms, keeping µs. */
export function nanosToMs(nanos: string | number): number {
  if (typeof nanos === 'number') return nanos / 1e6;
  const micros = nanos.length > 3 ? Number(nanos.slice(0, -3)) : 0;
  return micros / 1000;
}

function kindOf(kind: number | string | undefined): SpanKind {
  if (typeof kind === 'number') return SPAN_KINDS[kind] ?? 'unspecified';
  const name = (kind ?? '').replace(/^SPAN_KIND_/, '').toLowerCase();
  return (SPAN_KINDS as readonly string[]).includes(name) ? (name as SpanKind) : 'unspecified';
}

function statusOf(status: { code?: number | string; message?: string } | undefined): StoredSpan['status'] {
  const code = status?.code;
  const name = code === 1 || code === 'STATUS_CODE_OK' ? 'ok' : code === 2 || code === 'STATUS_CODE_ERROR' ? 'error' : 'unset';
  return status?.message ? { code: name, message: status.message.slice(0, MAX_VALUE_CHARS) } : { code: name };
}

/** The spans of an OTLP JSON export request; throws {@link OtlpFormatError} naming the first problem. */
export function parseExportRequest(body: unknown): StoredSpan[] {
  if (!validator.Check(body)) {
    const [first] = validator.Errors(body);
    const where = first?.instancePath ? first.instancePath.slice(1).replaceAll('/', '.') : 'body';
    throw new OtlpFormatError(`not an OTLP JSON ExportTraceServiceRequest: ${where} ${first?.message ?? 'is malformed'}`);
  }
  const spans: StoredSpan[] = [];
  for (const [r, resource] of (body.resourceSpans ?? []).entries()) {
    const named = resource.resource?.attributes?.find((kv) => kv.key === 'service.name');
    const service = (named ? anyValueText(named.value) : '').slice(0, SPAN_LIMITS.nameChars) || 'unknown';
    for (const [s, scope] of (resource.scopeSpans ?? []).entries()) {
      for (const [i, span] of (scope.spans ?? []).entries()) {
        const where = `resourceSpans.${r}.scopeSpans.${s}.spans.${i}`;
        const traceId = hexId(span.traceId, 16);
        const spanId = hexId(span.spanId, 8);
        if (!traceId || !spanId) throw new OtlpFormatError(`${where}: traceId must be 32 hex digits and spanId 16`);
        const parent = span.parentSpanId ? hexId(span.parentSpanId, 8) : null;
        const startMs = nanosToMs(span.startTimeUnixNano);
        const endMs = Math.max(startMs, nanosToMs(span.endTimeUnixNano));
        spans.push({
          traceId,
          spanId,
          parentSpanId: parent,
          name: span.name.length > SPAN_LIMITS.nameChars ? `${span.name.slice(0, SPAN_LIMITS.nameChars)}…` : span.name,
          service,
          kind: kindOf(span.kind),
          startMs,
          endMs,
          attributes: attributesOf(span.attributes),
          status: statusOf(span.status),
          links: (span.links ?? []).slice(0, SPAN_LIMITS.links).flatMap((l) => {
            const [t, id] = [hexId(l.traceId, 16), hexId(l.spanId, 8)];
            return t && id ? [{ traceId: t, spanId: id }] : [];
          }),
        });
      }
    }
  }
  return spans;
}
