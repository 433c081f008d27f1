import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { request as httpRequest } from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TraceDetail, TraceList } from '../../../electron/contract.js';
import { ControlPlane } from '../../../electron/control/control-plane.js';
import { OtlpReceiver } from '../../../electron/control/traces/otlp-receiver.js';
import {
  balancerSpanSink,
  DEFAULT_SAMPLING,
  readSampling,
  readTracingDisabled,
  replicaTraceEnv,
  samplingEnv,
  setLocalSpanSink,
  setTraceTargets,
} from '../../../electron/control/traces/trace-env.js';
import { TraceStore } from '../../../electron/control/traces/trace-store.js';
import { removeTempHome } from '../../support/temp-home.js';

// The receiver over real HTTP on 127.0.0.1, with OTLP JSON as @opentelemetry/exporter-trace-otlp-http sends it.

const T0 = 1_700_000_000_000;
/** What every replica samples with unless the control plane's environment says otherwise. */
const SAMPLING = { ...DEFAULT_SAMPLING };
const nanos = (ms: number) => `${BigInt(Math.round(ms * 1000)) * 1000n}`;
const hex = (n: number, digits: number) => n.toString(16).padStart(digits, '0');
const traceId = (n: number) => hex(n, 32);
const spanId = (n: number) => hex(n, 16);

interface SpanInput {
  trace: number;
  span: number;
  parent?: number;
  name: string;
  start: number;
  ms: number;
  kind?: number;
  attrs?: Record<string, string | number | boolean>;
  error?: boolean;
}

function attr(key: string, v: string | number | boolean) {
  return {
    key,
    value:
      typeof v === 'string'
        ? { stringValue: v }
        : typeof v === 'boolean'
          ? { boolValue: v }
          : Number.isInteger(v)
            ? { intValue: v }
            : { doubleValue: v },
  };
}

/** One ExportTraceServiceRequest from one process. */
function batch(service: string, spans: SpanInput[]) {
  return {
    resourceSpans: [
      {
        resource: { attributes: [attr('service.name', service)] },
        scopeSpans: [
          {
            scope: { name: 'test' },
            spans: spans.map((s) => ({
              traceId: traceId(s.trace),
              spanId: spanId(s.span),
              ...(s.parent ? { parentSpanId: spanId(s.parent) } : {}),
              name: s.name,
              kind: s.kind ?? 1,
              startTimeUnixNano: nanos(s.start),
              endTimeUnixNano: nanos(s.start + s.ms),
              attributes: Object.entries(s.attrs ?? {}).map(([k, v]) => attr(k, v)),
              status: { code: s.error ? 2 : 0 },
              links: [],
            })),
          },
        ],
      },
    ],
  };
}

const request = (trace: number, start: number, ms: number, status = 200): SpanInput => ({
  trace,
  span: trace * 100 + 1,
  name: 'GET /users/:id',
  start,
  ms,
  kind: 2,
  attrs: { 'http.route': '/users/:id', 'http.request.method': 'GET', 'http.response.status_code': status },
});

/** Each receiver's token by endpoint: what its replicas get in OTEL_EXPORTER_OTLP_HEADERS. */
const tokens = new Map<string, string>();
const tokenFromEnv = (env: Record<string, string>) =>
  decodeURIComponent(/^authorization=Bearer%20(.+)$/.exec(env.OTEL_EXPORTER_OTLP_HEADERS ?? '')?.[1] ?? '');

async function post(
  endpoint: string,
  body: unknown,
  headers: Record<string, string> = { 'content-type': 'application/json' },
): Promise<{ status: number; body: { message?: string } }> {
  const res = await fetch(`${endpoint}/v1/traces`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tokens.get(endpoint)}`, ...headers },
    body: typeof body === 'string' ? body : body instanceof Uint8Array ? new Uint8Array(body) : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { message?: string } };
}

describe('the OTLP receiver and the trace store', () => {
  let home: string;
  let controlPlane: ControlPlane;
  let endpoint: string;

  beforeAll(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'scalelab-traces-'));
    controlPlane = new ControlPlane({ home });
    await controlPlane.tracing.ready;
    endpoint = controlPlane.tracing.endpoint!;
    tokens.set(endpoint, tokenFromEnv(replicaTraceEnv('loopback')));
  });
  afterAll(async () => {
    await controlPlane.close();
    await removeTempHome(home);
  });

  it('listens on 127.0.0.1 and gives loopback replicas its endpoint', () => {
    expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(replicaTraceEnv('loopback')).toEqual({
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_EXPORTER_OTLP_HEADERS: expect.stringMatching(/^authorization=Bearer%20[\w-]{32}$/),
      ...SAMPLING,
    });
    expect(replicaTraceEnv('elsewhere')).toEqual({});
  });

  it('refuses a request without the token, with a wrong one, or under a foreign Host, and stores nothing of it', async () => {
    const forged = batch('scalelab-api', [request(77, T0 + 50, 30, 500)]);
    expect((await post(endpoint, forged, { 'content-type': 'application/json', authorization: '' })).status).toBe(401);
    expect((await post(endpoint, forged, { 'content-type': 'application/json', authorization: 'Bearer wrong' })).status).toBe(401);
    const rebound = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        `${endpoint}/v1/traces`,
        {
          method: 'POST',
          headers: { host: 'evil.example', 'content-type': 'application/json', authorization: `Bearer ${tokens.get(endpoint)}` },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify(forged));
    });
    expect(rebound).toBe(403);
    expect(await controlPlane.handle('traces:get', { traceId: traceId(77) })).toMatchObject({
      ok: false,
      error: { name: 'TraceNotFoundError' },
    });
  });

  it('assembles one trace from batches of several processes, split across posts', async () => {
    const api = batch('scalelab-api', [
      request(1, T0, 240),
      {
        trace: 1,
        span: 103,
        parent: 102,
        name: 'pg.query:SELECT scalelab',
        start: T0 + 12,
        ms: 205,
        kind: 3,
        attrs: { 'db.system': 'postgresql', 'db.statement': 'SELECT * FROM users WHERE id = $1' },
      },
    ]);
    const cache = batch('scalelab-api', [{ trace: 1, span: 102, parent: 101, name: 'redis-GET', start: T0 + 5, ms: 220, kind: 3 }]);
    const worker = batch('scalelab-worker', [
      { trace: 1, span: 104, parent: 101, name: 'welcome-email process', start: T0 + 230, ms: 5, kind: 5 },
    ]);
    // Children first, the root last, each in its own post: the store groups them by trace id.
    expect(await post(endpoint, worker)).toEqual({ status: 200, body: {} });
    expect((await post(endpoint, cache)).status).toBe(200);
    expect((await post(endpoint, api)).status).toBe(200);
    // A retried batch does not double the spans.
    expect((await post(endpoint, api)).status).toBe(200);

    const list = await controlPlane.handle('traces:list', { from: T0 - 1000, to: T0 + 1000 });
    expect(list.ok).toBe(true);
    const { traces, tracing } = (list as { value: TraceList }).value;
    expect(tracing).toMatchObject({ receiver: endpoint, spansReceived: 4 });
    expect(traces).toEqual([
      {
        traceId: traceId(1),
        name: 'GET /users/:id',
        route: '/users/:id',
        method: 'GET',
        status: 200,
        service: 'scalelab-api',
        start: T0,
        durationMs: 240,
        spanCount: 4,
        error: false,
      },
    ]);

    const got = await controlPlane.handle('traces:get', { traceId: traceId(1) });
    expect(got.ok).toBe(true);
    const detail = (got as { value: TraceDetail }).value;
    expect(detail.spans.map((s) => [s.name, s.service, s.kind, s.parentSpanId, s.startOffsetMs, s.durationMs])).toEqual([
      ['GET /users/:id', 'scalelab-api', 'server', null, 0, 240],
      ['redis-GET', 'scalelab-api', 'client', spanId(101), 5, 220],
      ['pg.query:SELECT scalelab', 'scalelab-api', 'client', spanId(102), 12, 205],
      ['welcome-email process', 'scalelab-worker', 'consumer', spanId(101), 230, 5],
    ]);
    expect(detail.spans[2]!.attributes).toMatchObject({ 'db.system': 'postgresql', 'db.statement': 'SELECT * FROM users WHERE id = $1' });
    expect(detail.spans[0]!.status).toEqual({ code: 'unset' });
  });

  it('accepts gzip bodies', async () => {
    const body = gzipSync(JSON.stringify(batch('scalelab-api', [request(2, T0 + 100, 10)])));
    expect((await post(endpoint, body, { 'content-type': 'application/json', 'content-encoding': 'gzip' })).status).toBe(200);
    const got = await controlPlane.handle('traces:get', { traceId: traceId(2) });
    expect(got.ok).toBe(true);
  });

  it('answers 400 with what is wrong to bodies that are not OTLP JSON, and keeps serving', async () => {
    const notJson = await post(endpoint, '{"resourceSpans": [');
    expect(notJson.status).toBe(400);
    expect(notJson.body.message).toMatch(/not JSON/);
    const wrongShape = await post(endpoint, { resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: 'x', name: 1 }] }] }] });
    expect(wrongShape.status).toBe(400);
    expect(wrongShape.body.message).toMatch(/resourceSpans\.0\.scopeSpans\.0\.spans\.0/);
    const badId = await post(endpoint, {
      resourceSpans: [
        { scopeSpans: [{ spans: [{ traceId: 'zz', spanId: 'yy', name: 'a', startTimeUnixNano: '1', endTimeUnixNano: '2' }] }] },
      ],
    });
    expect(badId.status).toBe(400);
    expect(badId.body.message).toMatch(/32 hex digits/);
    expect((await post(endpoint, 'null')).status).toBe(400);
    // Still up.
    expect((await post(endpoint, batch('scalelab-api', [request(3, T0 + 200, 10)]))).status).toBe(200);
  });

  it('answers 415 to protobuf, saying to use the JSON encoding', async () => {
    const res = await post(endpoint, new Uint8Array([0x0a, 0x00]), { 'content-type': 'application/x-protobuf' });
    expect(res.status).toBe(415);
    expect(res.body.message).toMatch(/JSON encoding/);
  });

  it('answers 413 to a body over the cap and 404 elsewhere', async () => {
    const store = new TraceStore();
    const small = new OtlpReceiver({ store, maxBodyBytes: 1000 });
    const at = await small.start();
    tokens.set(at, small.token);
    try {
      const res = await post(at, { resourceSpans: [], pad: 'x'.repeat(5000) });
      expect(res.status).toBe(413);
      expect((await fetch(`${at}/v1/metrics`, { method: 'POST', headers: { authorization: `Bearer ${small.token}` } })).status).toBe(404);
    } finally {
      await small.close();
      await small.close();
    }
  });

  it('rejects bad traces:list and traces:get payloads, and names a trace it does not hold', async () => {
    const bad = await controlPlane.handle('traces:list', { from: 'yesterday', to: 1 });
    expect(bad).toMatchObject({ ok: false, error: { name: 'ContractError' } });
    const badId = await controlPlane.handle('traces:get', { traceId: 'nope' });
    expect(badId).toMatchObject({ ok: false, error: { name: 'ContractError' } });
    const missing = await controlPlane.handle('traces:get', { traceId: traceId(999) });
    expect(missing).toMatchObject({ ok: false, error: { name: 'TraceNotFoundError' } });
  });
});

describe('retention and filters', () => {
  const spansOf = (service: string, list: SpanInput[]) => batch(service, list);
  /** The store fed through the same parser the receiver uses. */
  async function fed(store: TraceStore, list: SpanInput[]): Promise<void> {
    const receiver = new OtlpReceiver({ store });
    const at = await receiver.start();
    tokens.set(at, receiver.token);
    try {
      for (let i = 0; i < list.length; i += 50) expect((await post(at, spansOf('scalelab-api', list.slice(i, i + 50)))).status).toBe(200);
    } finally {
      await receiver.close();
    }
  }

  it('keeps the most recent N traces plus the slow and failed ones', async () => {
    const store = new TraceStore({ recent: 50, notable: 5 });
    const list: SpanInput[] = [];
    // 200 fast requests (10 ms), with a slow one (900 ms) at 20 and a failed one at 30.
    for (let i = 1; i <= 200; i += 1)
      list.push(i === 20 ? request(i, T0 + i * 10, 900) : i === 30 ? request(i, T0 + i * 10, 12, 503) : request(i, T0 + i * 10, 10));
    await fed(store, list);
    expect(store.size).toBe(52);
    const all = store.list({ from: 0, to: Number.MAX_SAFE_INTEGER, limit: 500 });
    const ids = all.map((t) => t.traceId);
    expect(ids).toContain(traceId(20));
    expect(ids).toContain(traceId(30));
    expect(ids).toContain(traceId(200));
    expect(ids).toContain(traceId(151));
    expect(ids).not.toContain(traceId(150));
    expect(ids).not.toContain(traceId(21));
    // Slowest first.
    expect(all[0]).toMatchObject({ traceId: traceId(20), durationMs: 900 });
    expect(store.get(traceId(20))?.spans).toHaveLength(1);
  });

  it('bounds the slow and failed ones too, oldest out first', async () => {
    const store = new TraceStore({ recent: 10, notable: 3 });
    const list: SpanInput[] = [];
    for (let i = 1; i <= 60; i += 1) list.push(request(i, T0 + i * 10, i % 10 === 0 ? 500 : 10, i % 10 === 0 ? 500 : 200));
    await fed(store, list);
    const failed = store.list({ from: 0, to: Number.MAX_SAFE_INTEGER, errorsOnly: true, limit: 500 }).map((t) => t.traceId);
    // 10, 20, 30, 40, 50 retired as notable (3 kept: 30, 40, 50) and 60 still recent.
    expect(failed.sort()).toEqual([30, 40, 50, 60].map(traceId));
  });

  it("counts a 4xx answer as the client's mistake even where a span is marked an error, a failed query as a failure", async () => {
    const store = new TraceStore();
    // Fastify's request span carries the 404 and an error status; a pg span failing is a real failure.
    const notFound = (trace: number, start: number) => [
      request(trace, start, 5, 404),
      {
        trace,
        span: trace * 100 + 2,
        parent: trace * 100 + 1,
        name: 'request',
        start,
        ms: 4,
        attrs: { 'http.response.status_code': 404 },
        error: true,
      },
    ];
    const failedQuery = [
      request(2, T0 + 100, 5),
      { trace: 2, span: 202, parent: 201, name: 'pg.query:users-by-id', start: T0 + 101, ms: 2, error: true },
    ];
    await fed(store, [...notFound(1, T0), ...failedQuery]);
    const errors = store.list({ from: 0, to: Number.MAX_SAFE_INTEGER, errorsOnly: true }).map((t) => t.traceId);
    expect(errors).toEqual([traceId(2)]);
  });

  it('filters by window, minimum duration and errors, and limits', () => {
    const store = new TraceStore();
    const parse = (list: SpanInput[]) =>
      list.map((s) => ({
        traceId: traceId(s.trace),
        spanId: spanId(s.span),
        parentSpanId: null,
        name: s.name,
        service: 'api',
        kind: 'server' as const,
        startMs: s.start,
        endMs: s.start + s.ms,
        attributes: Object.fromEntries(Object.entries(s.attrs ?? {}).map(([k, v]) => [k, String(v)])),
        status: { code: 'unset' as const },
        links: [],
      }));
    store.add(parse([request(1, T0, 50), request(2, T0 + 1000, 300), request(3, T0 + 2000, 20, 500), request(4, T0 + 3000, 700)]));
    const ids = (q: Parameters<TraceStore['list']>[0]) => store.list(q).map((t) => Number.parseInt(t.traceId, 16));
    expect(ids({ from: T0, to: T0 + 3000 })).toEqual([4, 2, 1, 3]);
    expect(ids({ from: T0 + 500, to: T0 + 2500 })).toEqual([2, 3]);
    expect(ids({ from: T0, to: T0 + 3000, minDurationMs: 100 })).toEqual([4, 2]);
    expect(ids({ from: T0, to: T0 + 3000, errorsOnly: true })).toEqual([3]);
    expect(ids({ from: T0, to: T0 + 3000, limit: 1 })).toEqual([4]);
  });

  it('sends traces to the user’s own collector, wherever the replica runs, when one is set', () => {
    setTraceTargets({ receiver: 'http://127.0.0.1:1', external: 'http://collector:4318' });
    expect(replicaTraceEnv('loopback')).toEqual({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', ...SAMPLING });
    expect(replicaTraceEnv('elsewhere')).toEqual({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', ...SAMPLING });
    setTraceTargets({});
    expect(replicaTraceEnv('loopback')).toEqual({});
  });

  it('gives replicas bounded sampling by default, or the sampler set where the control plane starts', () => {
    expect(readSampling({})).toEqual({ OTEL_TRACES_SAMPLER: 'parentbased_ratelimited', OTEL_TRACES_SAMPLER_ARG: '10' });
    expect(readSampling({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.01' })).toEqual({
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.01',
    });
    setTraceTargets({ receiver: 'http://127.0.0.1:1', sampling: readSampling({ OTEL_TRACES_SAMPLER: 'always_on' }) });
    expect(replicaTraceEnv('loopback')).toEqual({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1', OTEL_TRACES_SAMPLER: 'always_on' });
    // The balancer process gets the same settings for the traces it starts.
    expect(samplingEnv()).toEqual({ OTEL_TRACES_SAMPLER: 'always_on' });
    setTraceTargets({});
  });

  it('turns tracing off in every replica and the balancer with OTEL_SDK_DISABLED=true', () => {
    expect(readTracingDisabled({ OTEL_SDK_DISABLED: 'true' })).toBe(true);
    expect(readTracingDisabled({ OTEL_SDK_DISABLED: 'false' })).toBe(false);
    expect(readTracingDisabled({})).toBe(false);
    setLocalSpanSink(() => undefined);
    setTraceTargets({ receiver: 'http://127.0.0.1:1', disabled: true });
    expect(replicaTraceEnv('loopback')).toEqual({ OTEL_SDK_DISABLED: 'true' });
    expect(balancerSpanSink()).toBeUndefined();
    setTraceTargets({ receiver: 'http://127.0.0.1:1', headers: 'authorization=Bearer%20t' });
    expect(replicaTraceEnv('loopback')).toEqual({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1',
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20t',
      ...SAMPLING,
    });
    expect(balancerSpanSink()).toBeTypeOf('function');
    setTraceTargets({});
    setLocalSpanSink(undefined);
  });
});
