/**
 * The traces the control plane keeps: the most recent ones, plus the slow and failed ones that
 * would otherwise scroll away (a trace slower than the running p99 of root spans, or one with an
 * error, moves to a second bounded set when it leaves the recent ones). Spans are grouped by
 * trace id as they come: one trace's spans arrive from several processes in several batches.
 *
 * Counts bound traces and spans per trace, and a byte budget bounds the whole: every span's size
 * is estimated as it arrives (its strings at two bytes a character plus V8's per-object and
 * per-property overhead), and while the total is over the budget the oldest traces leave, recent
 * ones first, so 12,000 spans of the largest size otlp-json.ts lets through cost the budget, not
 * gigabytes.
 */
import type { TraceDetail, TraceSpan, TraceSummary, TracesListInput } from '../../contract.js';
import type { StoredSpan } from './otlp-json.js';

/** Options of {@link TraceStore}. */
export interface TraceStoreOptions {
  /** Most recent traces kept, whatever they are. @defaultValue 500 */
  recent?: number;
  /** Slow or failed traces kept once they are no longer recent. @defaultValue 200 */
  notable?: number;
  /** Spans kept per trace; more are counted and dropped. @defaultValue 1000 */
  maxSpansPerTrace?: number;
  /** Root-span durations the running p99 is taken over. @defaultValue 1000 */
  p99Window?: number;
  /** Estimated bytes of every span held, together; the oldest traces leave beyond it. @defaultValue 64 MiB */
  maxBytes?: number;
}

/** A trace being assembled. */
interface TraceEntry {
  traceId: string;
  spans: StoredSpan[];
  ids: Set<string>;
  summary: TraceSummary | null;
  /** Estimated bytes of its spans. */
  bytes: number;
}

/** V8's rough cost of a span object, its status and attribute objects, and each attribute or link beyond the characters. */
const SPAN_OVERHEAD = 400;
const PROPERTY_OVERHEAD = 64;
const LINK_BYTES = 200;

/** A span's estimated size in memory, bytes (see the file's comment). */
export function spanBytes(span: StoredSpan): number {
  let chars =
    span.traceId.length +
    span.spanId.length +
    (span.parentSpanId?.length ?? 0) +
    span.name.length +
    span.service.length +
    (span.status.message?.length ?? 0);
  let properties = 0;
  for (const key in span.attributes) {
    chars += key.length + span.attributes[key]!.length;
    properties += 1;
  }
  return SPAN_OVERHEAD + 2 * chars + PROPERTY_OVERHEAD * properties + LINK_BYTES * span.links.length;
}

/** Fewer root spans than this and no p99 is taken: nothing counts as slow yet. */
const MIN_FOR_P99 = 20;
/** The p99 is recomputed after this many new root durations. */
const P99_EVERY = 50;

const round = (ms: number) => Math.round(ms * 1000) / 1000;

/** The root: the span without a parent, else the earliest whose parent is not in the trace, else the earliest. */
export function rootOf(spans: readonly StoredSpan[]): StoredSpan | undefined {
  const ids = new Set(spans.map((s) => s.spanId));
  const earliest = (list: readonly StoredSpan[]) =>
    list.reduce<StoredSpan | undefined>((best, s) => (!best || s.startMs < best.startMs ? s : best), undefined);
  return (
    earliest(spans.filter((s) => s.parentSpanId === null)) ?? earliest(spans.filter((s) => !ids.has(s.parentSpanId!))) ?? earliest(spans)
  );
}

function numberOr(text: string | undefined): number | null {
  const n = text === undefined ? NaN : Number(text);
  return Number.isFinite(n) ? n : null;
}

/** The list entry of a trace's spans (not empty). */
function isClientError(span: StoredSpan): boolean {
  const status = numberOr(span.attributes['http.response.status_code'] ?? span.attributes['http.status_code']);
  return status !== null && status >= 400 && status < 500;
}

export function summarize(traceId: string, spans: readonly StoredSpan[]): TraceSummary {
  const root = rootOf(spans)!;
  // The balancer's span is the root but knows no route: name the trace after the api's server span.
  const named = root.attributes['http.route'] ? root : (spans.find((s) => s.kind === 'server' && s.attributes['http.route']) ?? root);
  const a = named.attributes;
  const status = numberOr(a['http.response.status_code'] ?? a['http.status_code']);
  let start = Infinity;
  for (const s of spans) start = Math.min(start, s.startMs);
  return {
    traceId,
    name: named.name,
    route: a['http.route'] ?? null,
    method: a['http.request.method'] ?? a['http.method'] ?? null,
    status,
    service: named.service,
    start: round(start),
    durationMs: round(root.endMs - root.startMs),
    spanCount: spans.length,
    // A 4xx answer is the client's mistake, not a failure (OpenTelemetry's HTTP server rule), even
    // where an instrumentation (Fastify's) marks its span as an error for it.
    error: (status !== null && status >= 500) || spans.some((s) => s.status.code === 'error' && !isClientError(s)),
  };
}

/** See the file's comment. */
export class TraceStore {
  private readonly recent = new Map<string, TraceEntry>();
  private readonly notable = new Map<string, TraceEntry>();
  private readonly limits: Required<TraceStoreOptions>;
  private readonly rootDurations: Float64Array;
  private rootCount = 0;
  private sinceP99 = 0;
  private cached: { p50: number; p99: number } | null = null;
  /** Spans accepted since the store was made. */
  spansReceived = 0;
  /** Spans dropped because their trace had too many. */
  spansDropped = 0;
  /** Traces dropped to stay inside the byte budget. */
  tracesEvicted = 0;
  private heldBytes = 0;

  constructor(options: TraceStoreOptions = {}) {
    this.limits = { recent: 500, notable: 200, maxSpansPerTrace: 1000, p99Window: 1000, maxBytes: 64 * 1024 * 1024, ...options };
    this.rootDurations = new Float64Array(this.limits.p99Window);
  }

  /** Traces held now. */
  get size(): number {
    return this.recent.size + this.notable.size;
  }

  /** Estimated bytes of every span held (at most the budget once an add returns). */
  get bytes(): number {
    return this.heldBytes;
  }

  /** Adds spans (of any traces, in any order; a span seen twice is kept once). */
  add(spans: readonly StoredSpan[]): void {
    for (const span of spans) {
      const entry = this.entry(span.traceId);
      if (entry.ids.has(span.spanId)) continue;
      if (entry.spans.length >= this.limits.maxSpansPerTrace) {
        this.spansDropped += 1;
        continue;
      }
      entry.ids.add(span.spanId);
      entry.spans.push(span);
      entry.summary = null;
      const bytes = spanBytes(span);
      entry.bytes += bytes;
      this.heldBytes += bytes;
      this.spansReceived += 1;
      if (span.parentSpanId === null) this.recordRoot(span.endMs - span.startMs);
      if (this.heldBytes > this.limits.maxBytes) this.evict(entry);
    }
  }

  /**
   * Drops whole traces, oldest first, until the spans fit the byte budget: recent ones (never
   * moved to the notable set: that would free nothing), then notable ones, then, when `current`
   * alone is too big, `current` itself.
   */
  private evict(current: TraceEntry): void {
    const drop = (map: Map<string, TraceEntry>, id: string, entry: TraceEntry) => {
      map.delete(id);
      this.heldBytes -= entry.bytes;
      this.tracesEvicted += 1;
    };
    while (this.heldBytes > this.limits.maxBytes) {
      const recent = this.firstOf(this.recent, current);
      const notable = recent ? undefined : this.firstOf(this.notable, current);
      if (recent) drop(this.recent, ...recent);
      else if (notable) drop(this.notable, ...notable);
      else return drop(this.recent.has(current.traceId) ? this.recent : this.notable, current.traceId, current);
    }
  }

  private firstOf(map: Map<string, TraceEntry>, except: TraceEntry): [string, TraceEntry] | undefined {
    for (const pair of map) if (pair[1] !== except) return pair;
    return undefined;
  }

  /** The running p50 and p99 (nearest rank) of root-span durations (ms), null until enough roots were seen. */
  quantiles(): { p50: number; p99: number } | null {
    const n = Math.min(this.rootCount, this.limits.p99Window);
    if (n < MIN_FOR_P99) return null;
    if (this.cached === null || this.sinceP99 >= P99_EVERY) {
      const sorted = this.rootDurations.slice(0, n).sort();
      const rank = (q: number) => sorted[Math.min(n - 1, Math.ceil(q * n) - 1)]!;
      this.cached = { p50: rank(0.5), p99: rank(0.99) };
      this.sinceP99 = 0;
    }
    return this.cached;
  }

  /** Traces that started in the window and pass the filters, slowest first. */
  list(query: TracesListInput): TraceSummary[] {
    const out: TraceSummary[] = [];
    for (const map of [this.recent, this.notable]) {
      for (const entry of map.values()) {
        const s = this.summaryOf(entry);
        if (s.start < query.from || s.start > query.to) continue;
        if (query.minDurationMs !== undefined && s.durationMs < query.minDurationMs) continue;
        if (query.errorsOnly && !s.error) continue;
        out.push(s);
      }
    }
    out.sort((a, b) => b.durationMs - a.durationMs || b.start - a.start);
    return out.slice(0, query.limit ?? 50);
  }

  /** A trace's summary and its spans in start order, placed relative to its start; undefined when not held. */
  get(traceId: string): TraceDetail | undefined {
    const entry = this.recent.get(traceId) ?? this.notable.get(traceId);
    if (!entry) return undefined;
    const summary = this.summaryOf(entry);
    const spans: TraceSpan[] = [...entry.spans]
      .sort((a, b) => a.startMs - b.startMs)
      .map((s) => ({
        spanId: s.spanId,
        parentSpanId: s.parentSpanId,
        name: s.name,
        service: s.service,
        kind: s.kind,
        startOffsetMs: round(s.startMs - summary.start),
        durationMs: round(s.endMs - s.startMs),
        attributes: s.attributes,
        status: s.status,
        links: s.links,
      }));
    return { summary, spans };
  }

  /** Forgets every trace (the p99 too). */
  clear(): void {
    this.recent.clear();
    this.notable.clear();
    this.heldBytes = 0;
    this.rootCount = 0;
    this.cached = null;
  }

  private summaryOf(entry: TraceEntry): TraceSummary {
    entry.summary ??= summarize(entry.traceId, entry.spans);
    return entry.summary;
  }

  private entry(traceId: string): TraceEntry {
    const found = this.recent.get(traceId) ?? this.notable.get(traceId);
    if (found) return found;
    const entry: TraceEntry = { traceId, spans: [], ids: new Set(), summary: null, bytes: 0 };
    this.recent.set(traceId, entry);
    if (this.recent.size > this.limits.recent) this.retire();
    return entry;
  }

  /** The oldest recent trace leaves; it stays on as a notable one when it was slow or failed. */
  private retire(): void {
    const [oldestId, oldest] = this.recent.entries().next().value as [string, TraceEntry];
    this.recent.delete(oldestId);
    if (oldest.spans.length === 0 || !this.isNotable(oldest)) {
      this.heldBytes -= oldest.bytes;
      return;
    }
    this.notable.set(oldestId, oldest);
    if (this.notable.size > this.limits.notable) {
      const [id, dropped] = this.notable.entries().next().value as [string, TraceEntry];
      this.notable.delete(id);
      this.heldBytes -= dropped.bytes;
    }
  }

  private isNotable(entry: TraceEntry): boolean {
    const summary = this.summaryOf(entry);
    if (summary.error) return true;
    // At or above the p99; and above the median, so that a flat workload (every request alike) is not all "slow".
    const q = this.quantiles();
    return q !== null && summary.durationMs >= q.p99 && summary.durationMs > q.p50;
  }

  private recordRoot(durationMs: number): void {
    this.rootDurations[this.rootCount % this.limits.p99Window] = durationMs;
    this.rootCount += 1;
    this.sinceP99 += 1;
  }
}
