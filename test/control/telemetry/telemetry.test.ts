import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Instance, Sample, TrafficSecond } from '../../../electron/contract.js';
import { BalancerStats } from '../../../electron/control/balancer/stats.js';
import { freePort } from '../../../electron/control/runtimes/local/ports.js';
import { DeltaTracker } from '../../../electron/control/telemetry/deltas.js';
import { renderPrometheus } from '../../../electron/control/telemetry/exporter.js';
import { ProcessStats } from '../../../electron/control/telemetry/process-stats.js';
import { PrometheusParseError, parsePrometheusText, sumSeries } from '../../../electron/control/telemetry/prometheus-text.js';
import { Telemetry, TelemetryStateError, type TelemetrySource } from '../../../electron/control/telemetry/telemetry.js';
import { LATENCY_BUCKETS, latencyBucket, type GeneratorCounts } from '../../../electron/control/traffic/generator-counters.js';
import { call, eventually } from '../../backend/support/api.js';
import { startApiProcess, startBackend, type BackendChild } from '../../backend/support/process.js';
import { startStores, type Stores } from '../../backend/support/stores.js';

const STACK = 'telemetry-test';

/** A source over processes this file started. The balancer snapshot is undefined unless given: no balancer runs here. */
function source(parts: Partial<Omit<TelemetrySource, 'stack'>> & { metrics?: Record<string, string> } = {}): TelemetrySource {
  return {
    stack: STACK,
    instances: parts.instances ?? (() => []),
    metricsUrl: parts.metricsUrl ?? ((i) => parts.metrics?.[i.id]),
    takeBalancerSnapshot: parts.takeBalancerSnapshot ?? (() => undefined),
    redisUrl: parts.redisUrl ?? (() => undefined),
    databaseUrl: parts.databaseUrl ?? (() => undefined),
    generator: parts.generator,
    generatorCounts: parts.generatorCounts,
  };
}

function instance(id: string, service: Instance['service'], pid: number | undefined, startedAt: number): Instance {
  return { id, service, phase: 'ready', restarts: 0, pid, startedAt };
}

/** Attaches and waits for the immediate first tick, so later sampleNow() calls alone decide what each sample spans. */
async function attachSettled(telemetry: Telemetry, src: TelemetrySource): Promise<void> {
  const first = new Promise<void>((resolve) => {
    const off = telemetry.onSample(() => {
      off();
      resolve();
    });
  });
  telemetry.attach(src);
  await first;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A TCP server that accepts connections and never answers: a frozen replica. */
async function silentServer(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => sockets.add(socket));
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}/metrics`,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('Prometheus text parser', () => {
  it('reads escaped label values, +Inf, NaN, HELP escapes and groups histogram lines', () => {
    const text = [
      '# HELP req_seconds Latency\\nof \\\\ requests',
      '# TYPE req_seconds histogram',
      'req_seconds_bucket{le="0.1",path="/a\\"b\\\\c\\nd"} 3',
      'req_seconds_bucket{le="+Inf",path="/a\\"b\\\\c\\nd"} 5',
      'req_seconds_sum{path="/a\\"b\\\\c\\nd"} 1.5e-1',
      'req_seconds_count{path="/a\\"b\\\\c\\nd"} 5',
      '# TYPE temp gauge',
      'temp{ room = "x" , } NaN 1700000000000',
      'temp{room="y"} -Inf',
      'untyped_thing 42',
    ].join('\n');
    const families = parsePrometheusText(text);
    const histogram = families.get('req_seconds')!;
    expect(histogram.type).toBe('histogram');
    expect(histogram.help).toBe('Latency\nof \\ requests');
    expect(histogram.samples.map((s) => s.name)).toEqual([
      'req_seconds_bucket',
      'req_seconds_bucket',
      'req_seconds_sum',
      'req_seconds_count',
    ]);
    expect(histogram.samples[0]!.labels.path).toBe('/a"b\\c\nd');
    expect(histogram.samples[1]!.labels.le).toBe('+Inf');
    expect(histogram.samples[2]!.value).toBeCloseTo(0.15);
    const temp = families.get('temp')!.samples;
    expect(temp[0]!.value).toBeNaN();
    expect(temp[0]!.timestamp).toBe(1_700_000_000_000);
    expect(temp[1]!.value).toBe(Number.NEGATIVE_INFINITY);
    expect(sumSeries(families, 'req_seconds_bucket', { le: '+Inf' })).toBe(5);
    expect(sumSeries(families, 'untyped_thing')).toBe(42);
    expect(sumSeries(families, 'missing')).toBeUndefined();
  });

  it('rejects malformed lines, naming the line', () => {
    expect(() => parsePrometheusText('ok 1\nbad{a="x} 1')).toThrow(PrometheusParseError);
    expect(() => parsePrometheusText('ok 1\nbad{a="x} 1')).toThrow(/line 2/);
    expect(() => parsePrometheusText('x 0x10')).toThrow(/not a number/);
    expect(() => parsePrometheusText('x{a="\\q"} 1')).toThrow(/bad escape/);
  });
});

describe('telemetry bookkeeping', () => {
  it('treats a counter that went down, or a new incarnation, as reset, and a pre-existing counter as a baseline', () => {
    const d = new DeltaTracker();
    d.beginTick(1_000);
    expect(d.observe('old', 50, 1_000, 500)).toBeUndefined(); // running before telemetry started
    d.beginTick(2_000);
    expect(d.observe('old', 80, 2_000, 500)).toEqual({ delta: 30, ms: 1_000 });
    expect(d.observe('new', 7, 2_000, 1_500)).toEqual({ delta: 7, ms: 1_000 }); // started since: all of it is new
    d.beginTick(3_000);
    expect(d.observe('old', 5, 3_000, 500)).toEqual({ delta: 5, ms: 1_000 }); // restarted in place
    expect(d.observe('new', 9, 3_000, 2_600)).toEqual({ delta: 9, ms: 1_000 }); // new epoch
    expect(d.observe('queue', 10, 3_000, undefined, true)).toBeUndefined();
    d.beginTick(4_000);
    expect(d.observe('queue', 4, 4_000, undefined, true)).toEqual({ delta: 0, ms: 1_000 }); // trimmed, not reset
  });

  it('keeps history bounded by historySeconds, events by maxEvents, and never overlaps ticks', async () => {
    const telemetry = new Telemetry({ intervalMs: 50, historySeconds: 0.5, maxEvents: 3 });
    const seen: Sample[] = [];
    const unsubscribe = telemetry.onSample((s) => seen.push(s));
    await expect(telemetry.sampleNow()).rejects.toThrow(TelemetryStateError);
    telemetry.attach(source());
    expect(() => telemetry.attach(source())).toThrow(/already attached/);
    await eventually('a second of samples', async () => seen.length >= 15, 5_000);
    const history = telemetry.history();
    expect(history.length).toBeGreaterThan(3);
    expect(history.length).toBeLessThanOrEqual(10); // 0.5 s at one per 50 ms
    expect(history.at(-1)).toBe(telemetry.latest());
    expect(telemetry.history(0.2).length).toBeLessThan(history.length);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.t).toBeGreaterThanOrEqual(seen[i - 1]!.t);
    unsubscribe();
    const countAfterUnsubscribe = seen.length;
    let afterDetach = 0;

    const events: string[] = [];
    telemetry.onEvent((e) => events.push(e.message));
    for (const n of [1, 2, 3, 4, 5]) telemetry.record({ kind: 'chaos', level: 'warn', message: `event ${n}` });
    expect(telemetry.events().map((e) => e.message)).toEqual(['event 3', 'event 4', 'event 5']);
    expect(telemetry.events(1).map((e) => e.message)).toEqual(['event 5']);
    expect(events).toHaveLength(5);

    await telemetry.detach();
    const latest = telemetry.latest();
    telemetry.onSample(() => afterDetach++);
    await sleep(200);
    expect(afterDetach).toBe(0);
    expect(telemetry.latest()).toBe(latest);
    expect(telemetry.history(60).at(-1)).toBe(latest); // kept, though it ages out of the 0.5 s window
    expect(seen.length).toBe(countAfterUnsubscribe);
    await telemetry.close();
    await telemetry.close();
    expect(() => telemetry.attach(source())).toThrow(/closed/);
  });

  it('time-boxes a replica that never answers and stores that are unreachable', async () => {
    const frozen = await silentServer();
    const closedPort = await freePort();
    const telemetry = new Telemetry({ intervalMs: 50 });
    try {
      telemetry.attach(
        source({
          instances: () => [instance('api-1', 'api', undefined, Date.now())],
          metrics: { 'api-1': frozen.url },
          redisUrl: () => `redis://127.0.0.1:${closedPort}`,
          databaseUrl: () => `postgres://nobody:secret@127.0.0.1:${closedPort}/scalelab`,
        }),
      );
      const seen: Sample[] = [];
      telemetry.onSample((s) => seen.push(s));
      await eventually('three samples', async () => seen.length >= 3, 5_000);
      const s = seen.at(-1)!;
      expect(s.cache.up).toBe(false);
      expect(s.queue.up).toBe(false);
      expect(s.db.up).toBe(false);
      expect(s.instances[0]!.eventLoopLagMs).toBeNull();
      // Each tick waits for the frozen replica's time box (200 ms at this interval), never longer, never overlapping.
      const gaps = seen.slice(1).map((x, i) => x.t - seen[i]!.t);
      for (const gap of gaps) {
        expect(gap).toBeGreaterThanOrEqual(180);
        expect(gap).toBeLessThan(1_500);
      }
    } finally {
      await telemetry.close();
      await frozen.close();
    }
  });

  it('turns a balancer snapshot into rates per second', async () => {
    const stats = new BalancerStats();
    const telemetry = new Telemetry({ intervalMs: 60_000 });
    const before = Date.now();
    await attachSettled(
      telemetry,
      source({
        instances: () => [instance('api-1', 'api', process.pid, 0)],
        takeBalancerSnapshot: () => stats.take(0, new Map([['api-1', 0]])),
      }),
    );
    const started = Date.now();
    for (let i = 0; i < 40; i++) stats.record(i < 30 ? 200 : 503, 2_000, i < 36 ? 'api-1' : undefined, i >= 36);
    await sleep(300);
    const busy = Date.now();
    while (Date.now() - busy < 200); // cpu for "api-1" (this process) to show
    const s = await telemetry.sampleNow();
    // The snapshot's interval lies between the 0.5 s waited and the whole test's time.
    expect(s.traffic.rps).toBeGreaterThanOrEqual(40 / ((Date.now() - before) / 1000));
    expect(s.traffic.rps).toBeLessThanOrEqual(40 / 0.5);
    expect(s.traffic.errorsPerSec / s.traffic.rps).toBeCloseTo(10 / 40);
    expect(s.traffic.proxyErrorsPerSec / s.traffic.rps).toBeCloseTo(4 / 40);
    expect(s.traffic.p50).toBeCloseTo(2, 1);
    expect(s.instances[0]!.rps! / s.traffic.rps).toBeCloseTo(36 / 40, 2);
    expect(s.instances[0]!.cpu).toBeGreaterThan(5);
    await telemetry.close();
    // Totals outlive the source, like the history.
    const families = parsePrometheusText(telemetry.prometheus());
    expect(sumSeries(families, 'scalelab_balancer_requests_total', { status: '2xx' })).toBe(30);
    expect(sumSeries(families, 'scalelab_balancer_proxy_errors_total')).toBe(4);
    expect(sumSeries(families, 'scalelab_instance_requests_per_second', { instance: 'api-1', service: 'api', stack: STACK })).toBe(
      s.instances[0]!.rps,
    );
  });

  it("computes the generator's rates from its running totals over the balancer's interval", async () => {
    const stats = new BalancerStats();
    const telemetry = new Telemetry({ intervalMs: 60_000 });
    const counts: GeneratorCounts = {
      scheduled: 0,
      completed: 0,
      dropped: 0,
      errors: { timeout: 0, refused: 0, http4xx: 0, http5xx: 0 },
      latency: new Array<number>(LATENCY_BUCKETS).fill(0),
    };
    const answered = (micros: number, n: number) => {
      const latency = [...counts.latency];
      latency[latencyBucket(micros)]! += n;
      counts.latency = latency;
    };
    // The generator's own last second says 5 req/s: what its thread saw in a window of its own.
    const own: TrafficSecond = {
      running: true,
      profile: 'constant',
      targetRps: 5,
      offeredRps: 5,
      achievedRps: 5,
      p50: 1,
      p95: 1,
      p99: 1,
      errorsPerSec: { timeout: 0, refused: 0, http4xx: 0, http5xx: 0 },
      droppedPerSec: 0,
    };
    const since = Date.now();
    await attachSettled(
      telemetry,
      source({
        instances: () => [],
        takeBalancerSnapshot: () => stats.take(0, new Map()),
        generator: () => own,
        generatorCounts: () => ({ since, counts }),
      }),
    );
    // Between two samples both sides count the same 50 answered requests, 3 of them 503s; 2 timed out.
    for (let i = 0; i < 50; i++) stats.record(i < 47 ? 200 : 503, 1_000, undefined, false);
    Object.assign(counts, { scheduled: 53, completed: 50, errors: { timeout: 2, refused: 0, http4xx: 0, http5xx: 3 } });
    answered(2_000, 45);
    answered(40_000, 5);
    await sleep(250);
    const s = await telemetry.sampleNow();
    expect(s.traffic.rps).toBeGreaterThan(5);
    expect(s.generator!.achievedRps).toBeCloseTo(s.traffic.rps, 1);
    expect(s.generator!.errorsPerSec.http5xx).toBeCloseTo(s.traffic.status['5xx'], 1);
    expect(s.generator!.offeredRps / s.generator!.achievedRps).toBeCloseTo(53 / 50, 2);
    expect(s.generator!.errorsPerSec.timeout / s.generator!.achievedRps).toBeCloseTo(2 / 50, 2);
    // Percentiles are of the same interval, not the generator's own second (1 ms): within a bucket (1.6 %).
    expect(s.generator!.p50! / 2).toBeCloseTo(1, 1);
    expect(s.generator!.p99! / 40).toBeCloseTo(1, 1);
    // A second sample inside the same generator second: its own requests, not a repeat.
    answered(100_000, 10);
    const next = await telemetry.sampleNow();
    expect(next.generator!.p50! / 100).toBeCloseTo(1, 1);
    // None answered since: no percentiles rather than stale ones.
    expect((await telemetry.sampleNow()).generator!.p50).toBeNull();
    // Once the run ends its last second is shown as it was.
    own.running = false;
    expect((await telemetry.sampleNow()).generator!.achievedRps).toBe(5);
    await telemetry.close();
  });

  it('reads cpu and rss through ps as well as /proc', async () => {
    for (const method of ['proc', 'ps'] as const) {
      const usage = (await new ProcessStats({ method }).read([process.pid, 999_999_999])).get(process.pid);
      expect(usage?.rssBytes, method).toBeGreaterThan(10 * 1024 * 1024);
      expect(usage?.cpu, method).toBeTypeOf('number');
    }
  });

  it('exports a sample in the text format, escaping label values', () => {
    const text = renderPrometheus(
      { ...emptySample(), stack: 'we"ird\\name\n' },
      { balancerTotals: { requests: 12, status: { '2xx': 10, '3xx': 0, '4xx': 1, '5xx': 1 }, proxyErrors: 1 } },
    );
    const families = parsePrometheusText(text);
    expect(families.get('scalelab_balancer_requests_total')?.type).toBe('counter');
    expect(sumSeries(families, 'scalelab_balancer_requests_total', { status: '5xx', stack: 'we"ird\\name\n' })).toBe(1);
    expect(sumSeries(families, 'scalelab_cache_up')).toBe(0);
    expect(families.has('scalelab_cache_hit_ratio')).toBe(false); // null is left out, not exported as 0
    expect(text).toMatch(/^# HELP scalelab_balancer_requests_total /);
  });
});

function emptySample(): Sample {
  return {
    t: Date.now(),
    stack: STACK,
    traffic: {
      rps: 0,
      errorsPerSec: 0,
      status: { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 },
      proxyErrorsPerSec: 0,
      inFlight: 0,
      p50: null,
      p95: null,
      p99: null,
    },
    instances: [],
    replicas: { api: 0, apiReady: 0, worker: 0 },
    cache: { up: false, hitsPerSec: 0, missesPerSec: 0, hitRate: null, memoryBytes: null, keys: null, opsPerSec: null },
    queue: { up: false, waiting: 0, active: 0, delayed: 0, failed: 0, completedPerSec: 0, failedPerSec: 0 },
    db: { up: false, connections: null, commitsPerSec: null, rollbacksPerSec: null },
    autoscaler: null,
    generator: null,
    writes: { acknowledged: 0, verified: null, lost: null, lostIds: [], checkedAt: null },
    chaos: null,
  };
}

describe('telemetry of a real stack', () => {
  let stores: Stores;
  let api: BackendChild & { url: string };
  let apiStartedAt: number;
  const workers: BackendChild[] = [];
  let instances: Instance[] = [];
  let metrics: Record<string, string> = {};
  // A long interval: the assertions below count what happened between two sampleNow() calls.
  const telemetry = new Telemetry({ intervalMs: 60_000 });

  beforeAll(async () => {
    stores = await startStores();
    apiStartedAt = Date.now();
    api = await startApiProcess(stores.dir, { DATABASE_URL: stores.databaseUrl, REDIS_URL: stores.redisUrl, LOG_LEVEL: 'warn' });
    instances = [
      instance('api-1', 'api', api.child.pid, apiStartedAt),
      instance('redis', 'redis', stores.redis.pid, apiStartedAt),
      instance('postgres', 'postgres', stores.postgres.pid, apiStartedAt),
    ];
    metrics = { 'api-1': `${api.url}/metrics` };
    await attachSettled(
      telemetry,
      source({ instances: () => instances, metrics, redisUrl: () => stores.redisUrl, databaseUrl: () => stores.databaseUrl }),
    );
  });

  afterAll(async () => {
    await telemetry.close();
    for (const child of [api, ...workers]) child?.child.kill('SIGKILL');
    await stores?.stop();
  });

  it('reports cache hits and hit rate, replica cpu/rss/lag, Redis and PostgreSQL figures', async () => {
    const created = await call(`${api.url}/users`, 'POST', { name: 'Tele', email: 'tele@example.com' });
    expect(created.status).toBe(201);
    const previous = telemetry.latest()!;
    for (let i = 0; i < 20; i++) expect((await fetch(`${api.url}/users/${created.body.id}`)).status).toBe(200);
    const s = await telemetry.sampleNow();

    // The first read misses, the other 19 hit.
    expect(s.cache.hitRate).toBeCloseTo(19 / 20, 5);
    // Per second of real time between the two samples.
    expect(s.cache.hitsPerSec).toBeCloseTo(19 / ((s.t - previous.t) / 1000), 1);
    expect(s.cache.missesPerSec).toBeCloseTo(1 / ((s.t - previous.t) / 1000), 1);
    expect(s.cache.up).toBe(true);
    expect(s.cache.keys).toBeGreaterThanOrEqual(1);
    expect(s.cache.memoryBytes).toBeGreaterThan(100_000);
    expect(s.cache.opsPerSec).toBeGreaterThanOrEqual(0);

    const apiSample = s.instances.find((i) => i.id === 'api-1')!;
    expect(apiSample.cpu).toBeGreaterThan(0);
    expect(apiSample.rssBytes).toBeGreaterThan(20 * 1024 * 1024);
    expect(apiSample.eventLoopLagMs).toBeTypeOf('number');
    expect(apiSample.ready).toBe(true);
    // No balancer in this test: its traffic is unknown, not zero.
    expect(apiSample.rps).toBeNull();
    expect(s.traffic.rps).toBe(0);
    expect(s.instances.find((i) => i.id === 'redis')!.rssBytes).toBeGreaterThan(0);
    expect(s.instances.find((i) => i.id === 'postgres')!.rssBytes).toBeGreaterThan(0);
    expect(s.replicas).toEqual({ api: 1, apiReady: 1, worker: 0 });

    expect(s.db.up).toBe(true);
    expect(s.db.connections).toBeGreaterThanOrEqual(1);
    expect(s.db.commitsPerSec).toBeGreaterThanOrEqual(0);
    expect(s.stack).toBe(STACK);
  });

  it("counts queued jobs, then the worker's completions from its /metrics", async () => {
    const { body: user } = await call(`${api.url}/users`, 'POST', { name: 'Mail', email: 'mail@example.com' });
    for (let i = 0; i < 3; i++) expect((await fetch(`${api.url}/users/${user.id}/send-email`, { method: 'POST' })).status).toBe(202);
    const queued = await telemetry.sampleNow();
    expect(queued.queue.up).toBe(true);
    expect(queued.queue.waiting).toBe(3);
    expect(queued.queue.completedPerSec).toBe(0);

    // A second telemetry that does not know the worker: it falls back to the queue's own counts.
    const blind = new Telemetry({ intervalMs: 60_000 });
    await attachSettled(
      blind,
      source({
        instances: () => instances.filter((i) => i.service !== 'worker'),
        metrics,
        redisUrl: () => stores.redisUrl,
        databaseUrl: () => stores.databaseUrl,
      }),
    );

    const metricsPort = await freePort();
    const startedAt = Date.now();
    const worker = startBackend('worker', stores.dir, {
      DATABASE_URL: stores.databaseUrl,
      REDIS_URL: stores.redisUrl,
      METRICS_PORT: String(metricsPort),
      EMAIL_WORK_MS: '50',
    });
    workers.push(worker);
    instances = [...instances, instance('worker-1', 'worker', worker.child.pid, startedAt)];
    metrics['worker-1'] = `http://127.0.0.1:${metricsPort}/metrics`;

    const samples: Sample[] = [queued];
    const blindSamples: Sample[] = [blind.latest()!];
    try {
      await eventually(
        'the worker finished the jobs and telemetry saw them',
        async () => {
          const [s, b] = await Promise.all([telemetry.sampleNow(), blind.sampleNow()]);
          samples.push(s);
          blindSamples.push(b);
          return s.queue.waiting === 0 && s.queue.active === 0 && s.instances.some((i) => i.id === 'worker-1' && i.eventLoopLagMs !== null);
        },
        30_000,
      );
    } finally {
      await blind.close();
    }
    // Rates integrated over the real time between samples give back the three jobs, either way.
    const integrate = (xs: Sample[]) => xs.slice(1).reduce((sum, x, i) => sum + x.queue.completedPerSec * ((x.t - xs[i]!.t) / 1000), 0);
    expect(integrate(samples)).toBeGreaterThan(2.5);
    expect(integrate(samples)).toBeLessThan(3.5);
    expect(integrate(blindSamples)).toBeGreaterThan(2.5);
    expect(integrate(blindSamples)).toBeLessThan(3.5);
    expect(samples.at(-1)!.replicas.worker).toBe(1);
    expect(blindSamples.at(-1)!.replicas.worker).toBe(0);
    expect(samples.at(-1)!.queue.failedPerSec).toBe(0);
  });

  it('exports the live sample in Prometheus format that parses back', () => {
    const families = parsePrometheusText(telemetry.prometheus());
    const latest = telemetry.latest()!;
    expect(sumSeries(families, 'scalelab_instance_rss_bytes', { instance: 'api-1', service: 'api', stack: STACK })).toBe(
      latest.instances[0]!.rssBytes,
    );
    expect(sumSeries(families, 'scalelab_instance_ready', { instance: 'worker-1' })).toBe(1);
    expect(sumSeries(families, 'scalelab_replicas', { service: 'api' })).toBe(1);
    expect(sumSeries(families, 'scalelab_queue_jobs', { state: 'waiting' })).toBe(0);
    expect(sumSeries(families, 'scalelab_cache_up')).toBe(1);
    expect(sumSeries(families, 'scalelab_db_connections')).toBe(latest.db.connections);
    expect(families.get('scalelab_instance_restarts_total')?.type).toBe('counter');
    expect(families.has('scalelab_balancer_requests_total')).toBe(false); // no balancer here
  });

  it('reports Redis down when it stops, and frozen within the time box', async () => {
    const extra = await stores.extraRedis();
    const t = new Telemetry({ intervalMs: 60_000 });
    t.attach(source({ redisUrl: () => extra.url, databaseUrl: () => stores.databaseUrl }));
    try {
      const up = await t.sampleNow();
      expect(up.cache.up).toBe(true);
      expect(up.queue.up).toBe(true);

      extra.signal('SIGSTOP');
      const before = Date.now();
      const frozen = await t.sampleNow();
      expect(Date.now() - before).toBeLessThan(1_500);
      expect(frozen.cache.up).toBe(false);
      expect(frozen.db.up).toBe(true); // one source's failure leaves the others alone
      extra.signal('SIGCONT');

      await extra.stop();
      const down = await t.sampleNow();
      expect(down.cache.up).toBe(false);
      expect(down.queue.up).toBe(false);
      expect(down.cache.memoryBytes).toBeNull();
      expect(down.db.up).toBe(true);
    } finally {
      await t.close();
    }
  });
});
