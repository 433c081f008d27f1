import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStores, type Stores } from './support/stores.js';
import { call, eventually } from './support/api.js';
import { startApiProcess, startBackend, type BackendChild } from './support/process.js';
import { DEFAULT_TRACES_PER_SECOND, WIDENED_TRACES_PER_SECOND } from '../../backend/telemetry/keep-policy.js';

// The api and the worker run as the local runtime runs them from dist/: the single-file bundles,
// which is where tracing has to work (their instrumented packages load from node_modules).
const BUNDLES = ['dist/backend/api/server.bundle.mjs', 'dist/backend/worker/main.bundle.mjs'];
const TOKEN = 'tracing-test-admin-token';
const auth = { authorization: `Bearer ${TOKEN}` };

/** OTLP span kinds (SpanKind enum of the protocol). */
const SERVER = 2;
const CONSUMER = 5;

interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean };
}
/** One span as the OTLP/HTTP JSON encoding carries it, with its resource's service.name. */
interface ExportedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
  attributes?: OtlpAttribute[];
  links?: { traceId: string; spanId: string }[];
}

/** A real OTLP/HTTP JSON receiver on 127.0.0.1, keeping every span it is sent. */
class Receiver {
  readonly spans: ExportedSpan[] = [];
  readonly contentTypes = new Set<string>();
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        if (request.method !== 'POST' || request.url !== '/v1/traces') return void response.writeHead(404).end();
        this.contentTypes.add(String(request.headers['content-type']));
        let body = Buffer.concat(chunks);
        if (request.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        const payload = JSON.parse(body.toString('utf8')) as {
          resourceSpans?: { resource?: { attributes?: OtlpAttribute[] }; scopeSpans?: { spans?: Omit<ExportedSpan, 'service'>[] }[] }[];
        };
        for (const rs of payload.resourceSpans ?? []) {
          const service = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
          for (const ss of rs.scopeSpans ?? []) for (const span of ss.spans ?? []) this.spans.push({ ...span, service });
        }
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  }

  trace(traceId: string): ExportedSpan[] {
    return this.spans.filter((s) => s.traceId === traceId);
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

function attribute(span: ExportedSpan, key: string): string | number | boolean | undefined {
  const value = span.attributes?.find((a) => a.key === key)?.value;
  if (!value) return undefined;
  return value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : undefined) ?? value.doubleValue ?? value.boolValue;
}

function durationMs(span: ExportedSpan): number {
  return Number(BigInt(String(span.endTimeUnixNano)) - BigInt(String(span.startTimeUnixNano))) / 1e6;
}

/** A W3C trace context as a client (or the balancer in front) sends it. */
function clientContext(): { traceId: string; parentId: string; traceparent: string } {
  const traceId = randomBytes(16).toString('hex');
  const parentId = randomBytes(8).toString('hex');
  return { traceId, parentId, traceparent: `00-${traceId}-${parentId}-01` };
}

function isPg(span: ExportedSpan): boolean {
  return attribute(span, 'db.system') === 'postgresql' || attribute(span, 'db.system.name') === 'postgresql';
}

function isRedis(span: ExportedSpan): boolean {
  return attribute(span, 'db.system') === 'redis' || attribute(span, 'db.system.name') === 'redis';
}

/** True when `descendant` lies under `ancestor` in the spans of one trace. */
function isUnder(spans: ExportedSpan[], descendant: ExportedSpan, ancestor: ExportedSpan): boolean {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  for (let s = byId.get(descendant.parentSpanId ?? ''); s; s = byId.get(s.parentSpanId ?? ''))
    if (s.spanId === ancestor.spanId) return true;
  return false;
}

let stores: Stores;
let pool: pg.Pool;
const receiver = new Receiver();
let api: BackendChild & { url: string };
let worker: BackendChild;
const children: BackendChild[] = [];

async function newUser(email: string): Promise<number> {
  const { rows } = await pool.query<{ id: number }>('INSERT INTO users (name, email) VALUES ($1, $2) RETURNING id', ['Traced', email]);
  return Number(rows[0]!.id);
}

beforeAll(async () => {
  for (const bundle of BUNDLES) {
    if (!existsSync(bundle))
      throw new Error(`${bundle} is missing: run \`npm run build\` first (this test runs the built bundles, as the local runtime does)`);
  }
  process.env.SCALELAB_BACKEND = 'dist';
  stores = await startStores();
  await receiver.start();
  // A short export delay so that spans arrive within the test's patience.
  const tracingEnv = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '100' };
  const env = { DATABASE_URL: stores.databaseUrl, REDIS_URL: stores.redisUrl };
  api = await startApiProcess(stores.dir, { ...env, ...tracingEnv, ADMIN_TOKEN: TOKEN });
  children.push(api);
  worker = startBackend('worker', stores.dir, { ...env, ...tracingEnv, EMAIL_WORK_MS: '20', EVENTS: 'false' });
  children.push(worker);
  await eventually('the worker has started', async () => (await worker.log()).includes('worker started'), 30_000);
  pool = new pg.Pool({ connectionString: stores.databaseUrl });
  pool.on('error', () => undefined);
}, 90_000);

afterAll(async () => {
  for (const c of children) c.child.kill('SIGKILL');
  await pool?.end();
  await receiver.close();
  await stores?.stop();
});

describe('tracing (OpenTelemetry, OTLP/HTTP JSON)', () => {
  it("GET /users/:id on a cache miss continues the client's trace with HTTP, Redis and pg spans", async () => {
    const id = await newUser('traced-read@example.com');
    const { traceId, parentId, traceparent } = clientContext();
    const response = await call(`${api.url}/users/${id}`, 'GET', undefined, { traceparent });
    expect(response.status).toBe(200);

    await eventually(
      "the request's spans are exported",
      async () => {
        const spans = receiver.trace(traceId);
        return spans.some((s) => s.kind === SERVER) && spans.some(isRedis) && spans.some(isPg);
      },
      15_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; got ${JSON.stringify(receiver.trace(traceId).map((s) => s.name))}`);
    });
    const spans = receiver.trace(traceId);
    expect([...receiver.contentTypes]).toContain('application/json');
    const server = spans.find((s) => s.kind === SERVER)!;
    // The client's span is the server span's parent: the trace is continued, not restarted.
    expect(server.parentSpanId).toBe(parentId);
    expect(server.service).toBe('scalelab-api');
    expect(attribute(server, 'http.route')).toBe('/users/:id');
    expect(server.name).toBe('GET /users/:id');
    expect(attribute(server, 'http.response.status_code') ?? attribute(server, 'http.status_code')).toBe(200);
    const redis = spans.filter(isRedis);
    const pgSpans = spans.filter(isPg);
    expect(redis.every((s) => isUnder(spans, s, server))).toBe(true);
    expect(pgSpans.every((s) => isUnder(spans, s, server))).toBe(true);
    expect(pgSpans.some((s) => String(attribute(s, 'db.query.text') ?? attribute(s, 'db.statement')).includes('users'))).toBe(true);
  });

  it("the worker's span for a send-email job joins the trace of the request that enqueued it", async () => {
    const id = await newUser('traced-email@example.com');
    const { traceId, traceparent } = clientContext();
    const response = await call(`${api.url}/users/${id}/send-email`, 'POST', undefined, { traceparent });
    expect(response.status).toBe(202);

    const joins = (s: ExportedSpan) =>
      s.service === 'scalelab-worker' &&
      s.kind === CONSUMER &&
      (s.traceId === traceId || (s.links ?? []).some((l) => l.traceId === traceId));
    await eventually("the worker's processing span is exported", async () => receiver.spans.some(joins), 20_000).catch((err: Error) => {
      const worker = receiver.spans.filter((s) => s.service === 'scalelab-worker').map((s) => `${s.name}/${s.kind}/${s.traceId}`);
      throw new Error(`${err.message}; worker spans: ${JSON.stringify(worker.slice(0, 20))}`);
    });
    const processing = receiver.spans.find(joins)!;
    const trace = receiver.trace(traceId);
    const enqueuing = trace.find((s) => s.service === 'scalelab-api' && s.spanId === processing.parentSpanId);
    const linked = (processing.links ?? []).some((l) => trace.some((s) => s.spanId === l.spanId));
    // A child of the api's enqueuing span, or linked to it.
    expect(enqueuing !== undefined || linked).toBe(true);
    // The job's own database work is inside the job's span.
    await eventually(
      "the job's pg spans are exported",
      async () => receiver.spans.some((s) => isPg(s) && s.service === 'scalelab-worker' && s.traceId === processing.traceId),
      10_000,
    );
  });

  it('an injected database latency shows on the span around the pg query', async () => {
    const put = await call(`${api.url}/admin/faults/latency`, 'PUT', { dbMs: 200 }, auth);
    expect(put.status).toBe(200);
    try {
      const id = await newUser('traced-slow@example.com');
      const { traceId, traceparent } = clientContext();
      const response = await call(`${api.url}/users/${id}`, 'GET', undefined, { traceparent });
      expect(response.status).toBe(200);
      await eventually(
        "the slow request's spans are exported",
        async () => receiver.trace(traceId).some(isPg) && receiver.trace(traceId).some((s) => s.kind === SERVER),
        15_000,
      );
      const spans = receiver.trace(traceId);
      const pgSpan = spans.find(isPg)!;
      // The span that holds the delay is the pg span or one of its ancestors below the server span.
      const server = spans.find((s) => s.kind === SERVER)!;
      const holders = spans.filter(
        (s) =>
          (s === pgSpan || isUnder(spans, pgSpan, s)) && s !== server && isUnder(spans, s, server) && (isPg(s) || s.name.includes('db')),
      );
      const slowest = Math.max(...holders.map(durationMs));
      expect(slowest).toBeGreaterThanOrEqual(200);
      expect(durationMs(server)).toBeGreaterThanOrEqual(200);
    } finally {
      await call(`${api.url}/admin/faults/latency`, 'PUT', { dbMs: 0 }, auth);
    }
  });

  it('without an endpoint, the api loads no OpenTelemetry package and exports nothing', async () => {
    // NODE_DEBUG=module logs every package the process requires, tracing's included.
    const env = { DATABASE_URL: stores.databaseUrl, REDIS_URL: stores.redisUrl, NODE_DEBUG: 'module' };
    const plain = await startApiProcess(stores.dir, env);
    children.push(plain);
    const traced = await startApiProcess(stores.dir, { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '100' });
    children.push(traced);
    const id = await newUser('untraced@example.com');
    const { traceId, traceparent } = clientContext();
    expect((await call(`${plain.url}/users/${id}`, 'GET', undefined, { traceparent })).status).toBe(200);

    const plainLog = await plain.log();
    const tracedLog = await traced.log();
    // Both logs show the packages loaded from node_modules (pg among them), so the check can see a load.
    expect(plainLog).toMatch(/node_modules\/pg\//);
    expect(tracedLog).toMatch(/node_modules\/@opentelemetry\/sdk-trace-node\//);
    expect(plainLog).not.toMatch(/@opentelemetry|bullmq-otel|@fastify\/otel/);
    await new Promise((r) => setTimeout(r, 500)); // three export intervals
    expect(receiver.trace(traceId)).toEqual([]);
    plain.child.kill('SIGTERM');
    traced.child.kill('SIGTERM');
  });
});

describe(`tracing with bounded cost (the default sampler, parentbased_ratelimited at ${DEFAULT_TRACES_PER_SECOND} new traces a second)`, () => {
  const PER_SECOND = DEFAULT_TRACES_PER_SECOND;
  const sink = new Receiver();
  let bounded: BackendChild & { url: string };
  let cached: number;
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const newIds = () => ({ traceId: randomBytes(16).toString('hex'), parentId: randomBytes(8).toString('hex') });
  const status = (s: ExportedSpan) => attribute(s, 'http.response.status_code') ?? attribute(s, 'http.status_code');
  const isServer = (s: ExportedSpan) => s.kind === SERVER && s.service === 'scalelab-api';
  /** `count` GETs of `path`, `concurrency` at a time; the statuses. */
  async function burst(
    path: string,
    count: number,
    concurrency: number,
    headers: () => Record<string, string> = () => ({}),
  ): Promise<number[]> {
    const statuses: number[] = [];
    let left = count;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (left-- > 0) {
          const response = await fetch(`${bounded.url}${path}`, { headers: headers() });
          await response.arrayBuffer();
          statuses.push(response.status);
        }
      }),
    );
    return statuses;
  }

  beforeAll(async () => {
    await sink.start();
    // No OTEL_TRACES_SAMPLER: the service's own default, which is also what ScaleLab passes.
    bounded = await startApiProcess(stores.dir, {
      DATABASE_URL: stores.databaseUrl,
      REDIS_URL: stores.redisUrl,
      ADMIN_TOKEN: TOKEN,
      OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    children.push(bounded);
    cached = await newUser('bounded-cached@example.com');
    expect((await call(`${bounded.url}/users/${cached}`, 'GET')).status).toBe(200);
  }, 60_000);
  afterAll(() => sink.close());

  it('under a burst of fast requests only a bounded number of traces reach the receiver', async () => {
    await sleep(1_100); // a fresh second's budget, and the warm-up's spans exported
    const before = new Set(sink.spans.map((s) => s.traceId));
    const started = Date.now();
    const requests = 3_000;
    const statuses = await burst(`/users/${cached}`, requests, 32);
    const seconds = Math.floor(Date.now() / 1000) - Math.floor(started / 1000) + 1;
    expect(statuses.every((s) => s === 200)).toBe(true);
    await sleep(1_000);
    const fresh = sink.spans.filter((s) => !before.has(s.traceId));
    const sampled = new Set(fresh.filter((s) => isServer(s) && attribute(s, 'scalelab.sampling') === undefined).map((s) => s.traceId));
    const traces = new Set(fresh.map((s) => s.traceId));
    // A slow request kept on its own (a timing-only span) widens the budget, by design, to
    // WIDENED_TRACES_PER_SECOND for a while: on a loaded machine a burst has some. Either way it is bounded.
    const widened = fresh.some((s) => attribute(s, 'scalelab.sampling') !== undefined);
    const perSecond = widened ? Math.max(PER_SECOND, WIDENED_TRACES_PER_SECOND) : PER_SECOND;
    expect(sampled.size).toBeGreaterThanOrEqual(1);
    expect(sampled.size, widened ? 'widened by a slow request' : 'at the base budget').toBeLessThanOrEqual(perSecond * seconds);
    expect(sampled.size).toBeLessThan(requests / 2);
    // Beyond them only the slowest requests (≥ 100 ms and ≥ the running p99), as single spans.
    expect(traces.size).toBeLessThanOrEqual(perSecond * seconds + Math.ceil(0.02 * requests));
  });

  it('every request that failed arrives as a trace, whether it was sampled or not', async () => {
    expect((await call(`${bounded.url}/admin/faults/errors`, 'PUT', { rate: 0.3 }, auth)).status).toBe(200);
    try {
      // Forwarded as the balancer forwards the ones it did not sample: a traceparent flagged 00.
      const failed: { traceId: string; parentId: string }[] = [];
      for (let batch = 0; batch < 8; batch++) {
        await Promise.all(
          Array.from({ length: 40 }, async () => {
            const ids = newIds();
            const response = await call(`${bounded.url}/users/${cached}`, 'GET', undefined, {
              traceparent: `00-${ids.traceId}-${ids.parentId}-00`,
            });
            if (response.status === 500) failed.push(ids);
          }),
        );
        await sleep(250); // about 50 failures a second: all within the default 100 kept a second
      }
      // Straight to the replica, no traceparent: sampled (the first few a second) or kept.
      const from = sink.spans.length;
      const rootStatuses = await burst(`/users/${cached}`, 200, 8);
      const rootFailures = rootStatuses.filter((s) => s === 500).length;
      expect(failed.length).toBeGreaterThan(20);
      expect(rootFailures).toBeGreaterThan(5);
      const arrived = (ids: { traceId: string }) => sink.trace(ids.traceId).some((s) => isServer(s) && status(s) === 500);
      await eventually('every failed request has arrived', async () => failed.every(arrived), 5_000).catch((err: Error) => {
        throw new Error(`${err.message}: ${failed.filter((ids) => !arrived(ids)).length} of ${failed.length} missing`);
      });
      const rootArrived = () =>
        sink.spans.slice(from).filter((s) => isServer(s) && status(s) === 500 && attribute(s, 'http.route') === '/users/:id').length;
      await eventually('every failed request without a traceparent has arrived', async () => rootArrived() >= rootFailures, 5_000).catch(
        (err: Error) => {
          throw new Error(`${err.message}: ${rootArrived()} of ${rootFailures}`);
        },
      );
      const [span] = sink.trace(failed[0]!.traceId);
      // One span, in the caller's trace, under its route, saying it has the timing only.
      expect(sink.trace(failed[0]!.traceId)).toHaveLength(1);
      expect(span!.parentSpanId).toBe(failed[0]!.parentId);
      expect(span!.name).toBe('GET /users/:id (timing only)');
      expect(attribute(span!, 'http.route')).toBe('/users/:id');
      expect(attribute(span!, 'scalelab.sampling')).toBe('unsampled: timing only');
      expect(attribute(span!, 'scalelab.kept')).toBe('error');
      // Requests that went well and fast are not kept.
      const fine = sink.spans.filter((s) => attribute(s, 'scalelab.kept') !== undefined && status(s) === 200 && durationMs(s) < 100);
      expect(fine).toEqual([]);
    } finally {
      await call(`${bounded.url}/admin/faults/errors`, 'PUT', { rate: 0 }, auth);
    }
  });

  it('a request slowed by an injected 200 ms database latency arrives within 5 s, in the middle of a burst', async () => {
    const slowId = await newUser('bounded-slow@example.com');
    expect((await call(`${bounded.url}/admin/faults/latency`, 'PUT', { dbMs: 200 }, auth)).status).toBe(200);
    try {
      // The burst spends this second's budget of new traces first, so the slow request is not sampled.
      const load = burst(`/users/${cached}`, 600, 16);
      await sleep(100);
      const ids = newIds();
      const [forwarded, direct] = await Promise.all([
        call(`${bounded.url}/users/${slowId}`, 'GET', undefined, { traceparent: `00-${ids.traceId}-${ids.parentId}-00` }),
        // a cache miss again: the first read above did not go through the cache-aside fill yet
        (async () => {
          const other = await newUser('bounded-slow-direct@example.com');
          return { id: other, response: await call(`${bounded.url}/users/${other}`, 'GET') };
        })(),
      ]);
      const answered = Date.now();
      expect(forwarded.status).toBe(200);
      expect(direct.response.status).toBe(200);
      const slowServer = (s: ExportedSpan, path: string) =>
        isServer(s) && durationMs(s) >= 200 && (attribute(s, 'url.path') === path || attribute(s, 'http.target') === path);
      await eventually(
        'the slow requests have arrived',
        async () =>
          sink.trace(ids.traceId).some((s) => slowServer(s, `/users/${slowId}`)) &&
          sink.spans.some((s) => slowServer(s, `/users/${direct.id}`)),
        5_000,
      );
      expect(Date.now() - answered).toBeLessThan(5_000);
      const kept = sink.trace(ids.traceId).find((s) => isServer(s))!;
      expect(attribute(kept, 'scalelab.kept')).toBe('slow');
      await load;
    } finally {
      await call(`${bounded.url}/admin/faults/latency`, 'PUT', { dbMs: 0 }, auth);
    }
  });

  it(`a kept slow request widens head sampling: the next requests are traced in full, beyond ${DEFAULT_TRACES_PER_SECOND} a second`, async () => {
    const fresh = await newUser('bounded-widen-slow@example.com');
    const widened = await newUser('bounded-widened@example.com');
    expect((await call(`${bounded.url}/users/${widened}`, 'GET')).status).toBe(200); // cached now
    expect((await call(`${bounded.url}/admin/faults/latency`, 'PUT', { dbMs: 200 }, auth)).status).toBe(200);
    try {
      // Forwarded unsampled (flag 00), a cache miss: judged by the keep policy, kept as slow.
      const ids = newIds();
      expect(
        (await call(`${bounded.url}/users/${fresh}`, 'GET', undefined, { traceparent: `00-${ids.traceId}-${ids.parentId}-00` })).status,
      ).toBe(200);
    } finally {
      await call(`${bounded.url}/admin/faults/latency`, 'PUT', { dbMs: 0 }, auth);
    }
    await sleep(1_000 - (Date.now() % 1_000) + 20); // a fresh second
    const statuses = await burst(`/users/${widened}`, 80, 4);
    expect(statuses.every((st) => st === 200)).toBe(true);
    const inFull = () =>
      sink.spans.filter(
        (s) => isServer(s) && attribute(s, 'url.path') === `/users/${widened}` && attribute(s, 'scalelab.sampling') === undefined,
      ).length;
    // Unwidened, at most DEFAULT_TRACES_PER_SECOND in each of the (at most two) seconds the burst spans.
    await eventually('the burst arrives traced in full', async () => inFull() > 2 * DEFAULT_TRACES_PER_SECOND, 5_000).catch(
      (err: Error) => {
        throw new Error(`${err.message}: ${inFull()} of 80 in full`);
      },
    );
  });
});
