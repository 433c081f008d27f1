import type { RuntimeName, TraceSpan, TraceSummary, TracingStatus } from '../../../electron/contract.js';

/** Service colours of a waterfall, in the order services first appear in the trace. */
export const SERVICE_PALETTE = ['#4e9af1', '#9353d3', '#17c964', '#f5a524', '#06b7db', '#ff7eb6', '#c7a000', '#ff8a4c'];
/** Narrowest bar drawn, percent of the trace: a 50 µs span still shows. */
export const MIN_BAR_PCT = 0.4;

/** One row of the waterfall: a span, how deep it sits, and where its bar goes (percent of the trace). */
export interface WaterfallRow {
  span: TraceSpan;
  depth: number;
  leftPct: number;
  widthPct: number;
  color: string;
  /** Hover text: name, service, kind, timing, status and attributes, one per line. */
  title: string;
}

/** A duration for people: µs below a millisecond, ms below a second, then seconds. */
export function formatMs(ms: number): string {
  if (ms < 1) return `${Math.round(ms * 1000)} µs`;
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms.toFixed(ms < 100 ? 1 : 0)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

/** Colour per service, by order of first appearance (spans in start order). */
export function serviceColors(spans: readonly TraceSpan[]): Map<string, string> {
  const colors = new Map<string, string>();
  for (const s of spans) if (!colors.has(s.service)) colors.set(s.service, SERVICE_PALETTE[colors.size % SERVICE_PALETTE.length]!);
  return colors;
}

/** How long the waterfall's axis is: the latest end of any span (not only the root's), at least 1 µs. */
export function traceExtent(spans: readonly TraceSpan[]): number {
  let end = 0;
  for (const s of spans) end = Math.max(end, s.startOffsetMs + s.durationMs);
  return Math.max(end, 0.001);
}

function titleOf(span: TraceSpan): string {
  const lines = [
    `${span.name}`,
    `${span.service} · ${span.kind} · starts +${formatMs(span.startOffsetMs)} · takes ${formatMs(span.durationMs)}`,
  ];
  if (span.status.code !== 'unset') lines.push(`status ${span.status.code}${span.status.message ? `: ${span.status.message}` : ''}`);
  for (const [k, v] of Object.entries(span.attributes)) lines.push(`${k} = ${v}`);
  if (span.links.length > 0) lines.push(`links to ${span.links.map((l) => `${l.traceId.slice(0, 8)}…/${l.spanId}`).join(', ')}`);
  return lines.join('\n');
}

/**
 * The waterfall's rows in tree order (each span followed by its children, in start order), with
 * bars offset by start and sized by duration on the trace's axis. A span whose parent never
 * arrived starts a tree of its own.
 */
export function waterfallRows(spans: readonly TraceSpan[]): WaterfallRow[] {
  const total = traceExtent(spans);
  const colors = serviceColors(spans);
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string | null, TraceSpan[]>();
  for (const s of spans) {
    const parent = s.parentSpanId !== null && ids.has(s.parentSpanId) && s.parentSpanId !== s.spanId ? s.parentSpanId : null;
    const list = children.get(parent) ?? [];
    list.push(s);
    children.set(parent, list);
  }
  for (const list of children.values()) list.sort((a, b) => a.startOffsetMs - b.startOffsetMs);
  const rows: WaterfallRow[] = [];
  const seen = new Set<string>();
  const visit = (span: TraceSpan, depth: number) => {
    if (seen.has(span.spanId)) return;
    seen.add(span.spanId);
    const leftPct = Math.min(100 - MIN_BAR_PCT, (span.startOffsetMs / total) * 100);
    const widthPct = Math.min(100 - leftPct, Math.max(MIN_BAR_PCT, (span.durationMs / total) * 100));
    rows.push({ span, depth, leftPct, widthPct, color: colors.get(span.service)!, title: titleOf(span) });
    for (const child of children.get(span.spanId) ?? []) visit(child, depth + 1);
  };
  for (const root of children.get(null) ?? []) visit(root, 0);
  // A parent cycle (malformed input) leaves spans unvisited: show them at the top level.
  for (const s of spans) visit(s, 0);
  return rows;
}

/** Axis labels of the waterfall: 0, ¼, ½, ¾ and the whole trace. */
export function waterfallTicks(total: number): { pct: number; label: string }[] {
  return [0, 0.25, 0.5, 0.75, 1].map((f) => ({ pct: f * 100, label: formatMs(total * f) }));
}

/** A trace's list entry as the list shows it. */
export interface TraceRowView {
  traceId: string;
  what: string;
  status: string;
  duration: string;
  service: string;
  spans: string;
  error: boolean;
}

export function traceRowView(t: TraceSummary): TraceRowView {
  const what = t.route ? `${t.method ?? ''} ${t.route}`.trim() : t.name;
  return {
    traceId: t.traceId,
    what,
    status: t.status === null ? '–' : String(t.status),
    duration: formatMs(t.durationMs),
    service: t.service,
    spans: `${t.spanCount} span${t.spanCount === 1 ? '' : 's'}`,
    error: t.error,
  };
}

/** Why the list is empty, phrased for the person looking at it. */
export function emptyReason(tracing: TracingStatus | null, picked: boolean, runtime: RuntimeName | null, dockerBridge: boolean): string {
  if (tracing?.disabled) return 'Tracing is off: ScaleLab was started with OTEL_SDK_DISABLED=true, which every replica gets too.';
  if (tracing?.external)
    return `Traces go to your own collector (${tracing.external}, from OTEL_EXPORTER_OTLP_ENDPOINT when ScaleLab started), so none arrive here.`;
  if (tracing && tracing.receiver === null) return 'The trace receiver could not start, so tracing is off; the timeline says why.';
  if (runtime === 'kubernetes')
    return 'Pods in the cluster cannot reach the trace receiver on this machine’s 127.0.0.1: set OTEL_EXPORTER_OTLP_ENDPOINT to a collector before starting ScaleLab.';
  if (runtime === 'docker' && dockerBridge)
    return 'Containers on the Docker bridge network cannot reach the trace receiver on 127.0.0.1: start the stack with Docker host networking, or set OTEL_EXPORTER_OTLP_ENDPOINT to your collector.';
  if (!tracing || tracing.spansReceived === 0)
    return 'No traces yet: no traffic has reached the replicas. Fire traffic; spans arrive about 5 s after their requests.';
  if (picked)
    return 'No trace started in this window. The latest 500 traces are kept, plus the slow and failed ones; spans arrive about 5 s after their requests.';
  return 'No trace in the last 5 minutes.';
}
