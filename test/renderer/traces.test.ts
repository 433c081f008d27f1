import { describe, expect, it } from 'vitest';
import type { CommandName, TraceDetail, TraceList, TraceSpan, TraceSummary, TracingStatus } from '../../electron/contract.js';
import {
  emptyReason,
  formatMs,
  MIN_BAR_PCT,
  serviceColors,
  traceExtent,
  traceRowView,
  waterfallRows,
  waterfallTicks,
} from '../../renderer/features/traces/trace-view.js';
import { createAppStore } from '../../renderer/store/app-store.js';
import { PICK_SPAN_MS, RECENT_MS, traceQueryWindow } from '../../renderer/store/traces-slice.js';
import type { Bridge } from '../../renderer/store/types.js';

const span = (id: string, parent: string | null, start: number, ms: number, extra: Partial<TraceSpan> = {}): TraceSpan => ({
  spanId: id,
  parentSpanId: parent,
  name: id,
  service: 'scalelab-api',
  kind: 'internal',
  startOffsetMs: start,
  durationMs: ms,
  attributes: {},
  status: { code: 'unset' },
  links: [],
  ...extra,
});

const summary = (over: Partial<TraceSummary> = {}): TraceSummary => ({
  traceId: 'a'.repeat(32),
  name: 'GET /users/:id',
  route: '/users/:id',
  method: 'GET',
  status: 200,
  service: 'scalelab-api',
  start: 1_700_000_000_000,
  durationMs: 240,
  spanCount: 4,
  error: false,
  ...over,
});

// A request: the server span, a cache lookup, a slow query under it, and a worker's job that outlives the request.
const spans: TraceSpan[] = [
  span('root', null, 0, 240, { name: 'GET /users/:id', kind: 'server', attributes: { 'http.route': '/users/:id' } }),
  span('pg', 'cache', 12, 205, { name: 'pg.query:SELECT', kind: 'client', attributes: { 'db.statement': 'SELECT 1' } }),
  span('cache', 'root', 5, 220, { name: 'redis-GET', kind: 'client' }),
  span('job', 'root', 230, 70, {
    name: 'welcome-email',
    service: 'scalelab-worker',
    kind: 'consumer',
    status: { code: 'error', message: 'smtp down' },
  }),
  span('orphan', 'never-arrived', 100, 0.01, { name: 'lost-parent' }),
];

describe('waterfall layout', () => {
  it('orders spans as a tree in start order, indented by depth', () => {
    const rows = waterfallRows(spans);
    expect(rows.map((r) => [r.span.spanId, r.depth])).toEqual([
      ['root', 0],
      ['cache', 1],
      ['pg', 2],
      ['job', 1],
      ['orphan', 0],
    ]);
  });

  it('offsets bars by start and sizes them by duration on the whole trace’s axis', () => {
    expect(traceExtent(spans)).toBe(300);
    const byId = Object.fromEntries(waterfallRows(spans).map((r) => [r.span.spanId, r]));
    expect(byId.root).toMatchObject({ leftPct: 0, widthPct: 80 });
    expect(byId.pg!.leftPct).toBeCloseTo(4);
    expect(byId.pg!.widthPct).toBeCloseTo(68.333, 2);
    expect(byId.job!.leftPct).toBeCloseTo(76.667, 2);
    expect(byId.job!.leftPct + byId.job!.widthPct).toBeCloseTo(100);
    // A 10 µs span still shows.
    expect(byId.orphan!.widthPct).toBe(MIN_BAR_PCT);
    for (const r of Object.values(byId)) expect(r.leftPct + r.widthPct).toBeLessThanOrEqual(100.0001);
  });

  it('colours by service and puts the attributes in the hover text', () => {
    const colors = serviceColors(spans);
    expect([...colors.keys()]).toEqual(['scalelab-api', 'scalelab-worker']);
    const rows = waterfallRows(spans);
    expect(rows.find((r) => r.span.spanId === 'job')!.color).toBe(colors.get('scalelab-worker'));
    expect(rows.find((r) => r.span.spanId === 'pg')!.title).toContain('db.statement = SELECT 1');
    expect(rows.find((r) => r.span.spanId === 'job')!.title).toContain('status error: smtp down');
  });

  it('survives a parent cycle and an empty trace', () => {
    const cycle = [span('a', 'b', 0, 1), span('b', 'a', 0.5, 1)];
    expect(
      waterfallRows(cycle)
        .map((r) => r.span.spanId)
        .sort(),
    ).toEqual(['a', 'b']);
    expect(waterfallRows([])).toEqual([]);
  });

  it('formats durations and axis ticks for people', () => {
    expect(formatMs(0.05)).toBe('50 µs');
    expect(formatMs(3.456)).toBe('3.46 ms');
    expect(formatMs(42.26)).toBe('42.3 ms');
    expect(formatMs(205)).toBe('205 ms');
    expect(formatMs(1500)).toBe('1.50 s');
    expect(waterfallTicks(300).map((t) => t.label)).toEqual(['0 µs', '75.0 ms', '150 ms', '225 ms', '300 ms']);
  });
});

describe('trace list text', () => {
  // The root vitest config compiles no JSX, so the components' markup is checked in the e2e test; here, what they print.
  it('shows each trace as duration, route, status and spans, failed ones marked', () => {
    expect(traceRowView(summary({ durationMs: 912.4 }))).toEqual({
      traceId: 'a'.repeat(32),
      what: 'GET /users/:id',
      status: '200',
      duration: '912 ms',
      service: 'scalelab-api',
      spans: '4 spans',
      error: false,
    });
    expect(traceRowView(summary({ status: 503, error: true, durationMs: 15 }))).toMatchObject({
      status: '503',
      duration: '15.0 ms',
      error: true,
    });
    expect(traceRowView(summary({ route: null, method: null, status: null, spanCount: 1 }))).toMatchObject({
      what: 'GET /users/:id',
      status: '–',
      spans: '1 span',
    });
  });

  it('says why the list is empty', () => {
    const tracing = (over: Partial<TracingStatus> = {}): TracingStatus => ({
      receiver: 'http://127.0.0.1:1',
      external: null,
      disabled: false,
      spansReceived: 0,
      tracesKept: 0,
      ...over,
    });
    expect(emptyReason(tracing({ external: 'http://collector:4318' }), false, 'local', false)).toMatch(
      /your own collector \(http:\/\/collector:4318/,
    );
    expect(emptyReason(tracing(), false, 'local', false)).toMatch(/no traffic/);
    expect(emptyReason(tracing({ spansReceived: 10 }), true, 'local', false)).toMatch(/No trace started in this window/);
    expect(emptyReason(tracing(), false, 'docker', true)).toMatch(/bridge network/);
    expect(emptyReason(tracing({ receiver: null }), false, 'local', false)).toMatch(/could not start/);
    expect(emptyReason(tracing({ disabled: true }), false, 'local', false)).toMatch(/OTEL_SDK_DISABLED=true/);
  });
});

describe('the traces slice', () => {
  function scripted(answers: Partial<Record<CommandName, unknown>>) {
    const calls: { command: string; payload: unknown }[] = [];
    const bridge: Bridge = {
      invoke: async (command, payload) => {
        calls.push({ command, payload });
        const value = answers[command];
        return value === undefined
          ? { ok: false, error: { name: 'TraceNotFoundError', message: `no ${command}` } }
          : ({ ok: true, value } as never);
      },
      on: () => () => undefined,
    };
    return { bridge, calls };
  }
  const list: TraceList = {
    traces: [summary()],
    tracing: { receiver: 'http://127.0.0.1:1', external: null, disabled: false, spansReceived: 4, tracesKept: 1 },
  };

  it('lists a picked second ±1 s, and the recent ones without a pick', async () => {
    const { bridge, calls } = scripted({ 'traces:list': list });
    const { store } = createAppStore(bridge);
    const t = 1_700_000_000_000;
    store.getState().pickTraceSecond(t);
    await new Promise((r) => setTimeout(r, 0));
    expect(calls.at(-1)).toEqual({ command: 'traces:list', payload: { from: t - PICK_SPAN_MS, to: t + PICK_SPAN_MS, limit: 30 } });
    expect(store.getState().traceList).toEqual(list);
    expect(traceQueryWindow(null, t)).toEqual({ from: t - RECENT_MS, to: t });
  });

  it("reads an open trace again when the list shows it has grown (the replicas' spans came after the balancer's)", async () => {
    const first: TraceDetail = { summary: { ...summary(), spanCount: 1 }, spans: spans.slice(0, 1) };
    const answers: Partial<Record<CommandName, unknown>> = {
      'traces:get': first,
      'traces:list': { ...list, traces: [{ ...summary(), spanCount: 1 }] },
    };
    const { bridge, calls } = scripted(answers);
    const { store } = createAppStore(bridge);
    await store.getState().showTrace(summary().traceId);
    await store.getState().refreshTraces();
    expect(calls.filter((c) => c.command === 'traces:get')).toHaveLength(1);
    answers['traces:get'] = { summary: summary(), spans };
    answers['traces:list'] = { ...list, traces: [{ ...summary(), spanCount: spans.length }] };
    await store.getState().refreshTraces();
    expect(calls.filter((c) => c.command === 'traces:get')).toHaveLength(2);
    expect(store.getState().openTrace?.spans).toHaveLength(spans.length);
  });

  it('opens a trace, and shows the error of one no longer held', async () => {
    const detail: TraceDetail = { summary: summary(), spans };
    const { bridge } = scripted({ 'traces:get': detail });
    const { store } = createAppStore(bridge);
    await store.getState().showTrace('a'.repeat(32));
    expect(store.getState().openTrace).toEqual(detail);
    const missing = createAppStore(scripted({}).bridge).store;
    await missing.getState().showTrace('c'.repeat(32));
    expect(missing.getState().openTraceError?.name).toBe('TraceNotFoundError');
  });
});
