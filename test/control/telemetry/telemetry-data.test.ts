import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECTOR_GROUP, USER_EVENTS_STREAM } from '../../../backend/stream.js';
import type { DataSample, DataSpec, Instance, Sample } from '../../../electron/contract.js';
import { freePort } from '../../../electron/control/runtimes/local/ports.js';
import { postgresDataDir, type LocalPostgres } from '../../../electron/control/runtimes/local/postgres.js';
import { seedReplica } from '../../../electron/control/runtimes/local/postgres-replica.js';
import { delayMs, freshness } from '../../../electron/control/telemetry/data-probe.js';
import { replicaLagSeconds } from '../../../electron/control/telemetry/data-sample.js';
import { renderPrometheus } from '../../../electron/control/telemetry/exporter.js';
import { parsePrometheusText, sumSeries } from '../../../electron/control/telemetry/prometheus-text.js';
import { replicaFigures } from '../../../electron/control/telemetry/replica-metrics.js';
import { pairs, projectorGroup } from '../../../electron/control/telemetry/stream-probe.js';
import { Telemetry, type TelemetrySource } from '../../../electron/control/telemetry/telemetry.js';
import { eventually } from '../../backend/support/api.js';
import { startStores, type Stores } from '../../backend/support/stores.js';

const STACK = 'telemetry-data-test';
const ALL_ON: DataSpec = { readReplica: true, events: true, partitions: 3 };

function source(parts: Partial<Omit<TelemetrySource, 'stack'>> & { metrics?: Record<string, string> } = {}): TelemetrySource {
  return {
    stack: STACK,
    instances: parts.instances ?? (() => []),
    metricsUrl: parts.metricsUrl ?? ((i) => parts.metrics?.[i.id]),
    takeBalancerSnapshot: () => undefined,
    redisUrl: parts.redisUrl ?? (() => undefined),
    databaseUrl: parts.databaseUrl ?? (() => undefined),
    replicaUrl: parts.replicaUrl,
    dataSpec: parts.dataSpec,
  };
}

/** An api replica's /metrics before the read router: the pool labelled by state only. */
const OLD_API_METRICS = `# HELP db_pool_connections PostgreSQL pool connections by state (total, idle, waiting clients, max)
# TYPE db_pool_connections gauge
db_pool_connections{state="total"} 4
db_pool_connections{state="idle"} 1
db_pool_connections{state="waiting"} 0
db_pool_connections{state="max"} 10
`;

/** An api replica's /metrics with the read router: both pools, reads by target, fallbacks. */
function routerMetrics(reads: { primary: number; replica: number; fallbacks: number }, waiting = 0): string {
  return `# HELP db_pool_connections pool
# TYPE db_pool_connections gauge
db_pool_connections{pool="primary",state="total"} 3
db_pool_connections{pool="primary",state="idle"} 3
db_pool_connections{pool="primary",state="waiting"} 0
db_pool_connections{pool="primary",state="max"} 10
db_pool_connections{pool="replica",state="total"} 10
db_pool_connections{pool="replica",state="idle"} 0
db_pool_connections{pool="replica",state="waiting"} ${waiting}
db_pool_connections{pool="replica",state="max"} 10
# HELP db_reads_total reads
# TYPE db_reads_total counter
db_reads_total{target="primary"} ${reads.primary}
db_reads_total{target="replica"} ${reads.replica}
# HELP db_replica_fallbacks_total fallbacks
# TYPE db_replica_fallbacks_total counter
db_replica_fallbacks_total ${reads.fallbacks}
`;
}

/** A /metrics endpoint whose `body` the test sets. */
async function metricsServer(): Promise<{ url: string; body: string; close(): Promise<void> }> {
  const endpoint = { url: '', body: '', close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  const server: Server = createServer((_req, res) => res.setHeader('content-type', 'text/plain').end(endpoint.body));
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  endpoint.url = `http://127.0.0.1:${port}/metrics`;
  return endpoint;
}

describe('data-layer figures from text', () => {
  it('reads pools and reads from an api /metrics, a pool without a label being the primary’s', () => {
    const old = replicaFigures(OLD_API_METRICS);
    expect(old.pools).toEqual([{ pool: 'primary', total: 4, idle: 1, waiting: 0, max: 10 }]);
    // No read router yet: reads are unknown, not zero.
    expect(old.readsPrimary).toBeUndefined();
    expect(old.readsReplica).toBeUndefined();
    expect(old.replicaFallbacks).toBeUndefined();

    const routed = replicaFigures(routerMetrics({ primary: 7, replica: 30, fallbacks: 2 }, 4));
    expect(routed.pools).toEqual([
      { pool: 'primary', total: 3, idle: 3, waiting: 0, max: 10 },
      { pool: 'replica', total: 10, idle: 0, waiting: 4, max: 10 },
    ]);
    expect([routed.readsPrimary, routed.readsReplica, routed.replicaFallbacks]).toEqual([7, 30, 2]);
    // Declared but not counted yet (prom-client prints a labelled counter only once it counted): 0 reads.
    const declared = replicaFigures('# HELP db_reads_total r\n# TYPE db_reads_total counter\n');
    expect(declared.readsPrimary).toBe(0);
    expect(declared.readsReplica).toBe(0);
  });

  it('reads XINFO replies, a nil lag being unknown', () => {
    expect(pairs(['length', 3, 'entries-added', 9]).get('entries-added')).toBe(9);
    const groups = [
      ['name', 'other', 'consumers', 1, 'pending', 9, 'last-delivered-id', '0-0', 'entries-read', 0, 'lag', 1],
      ['name', PROJECTOR_GROUP, 'consumers', 2, 'pending', 3, 'last-delivered-id', '1-0', 'entries-read', 5, 'lag', null],
    ];
    expect(projectorGroup(groups)).toEqual({ lag: null, pending: 3 });
    expect(projectorGroup([])).toBeUndefined();
  });

  it('computes freshness clamped at 0, null before any event, and reads the apply delay in any unit', () => {
    expect(freshness(null, null, null, 100)).toBeNull();
    expect(freshness(100, 97, 90, 105)).toBe(3);
    expect(freshness(100, 101, 90, 105)).toBe(0);
    // Nothing applied yet: it trails by the age of the oldest event.
    expect(freshness(100, null, 90, 105)).toBe(15);
    expect(delayMs(500, 'ms')).toBe(500);
    expect(delayMs(2, 's')).toBe(2000);
    expect(delayMs(1, 'min')).toBe(60_000);
  });

  it('takes no WAL left as no lag, replay_lag otherwise, and bounds an unmeasured lag by the apply delay', () => {
    expect(replicaLagSeconds(0, 3.2, undefined)).toBe(0); // replay_lag lingers after catching up
    expect(replicaLagSeconds(4096, 1.5, undefined)).toBe(1.5);
    expect(replicaLagSeconds(4096, null, undefined)).toBeNull();
    expect(replicaLagSeconds(4096, null, { applyDelayMs: 2000, sinceReplayS: 3600 })).toBe(2);
    expect(replicaLagSeconds(4096, null, { applyDelayMs: 2000, sinceReplayS: 0.5 })).toBe(0.5);
    expect(replicaLagSeconds(null, null, undefined)).toBeNull();
  });
});

describe('data-layer telemetry of real stores', () => {
  let stores: Stores;
  let db: pg.Pool;
  let redis: Redis;
  let metrics: Awaited<ReturnType<typeof metricsServer>>;
  const telemetries: Telemetry[] = [];

  /** A telemetry that only samples when asked (a long interval), attached and past its first tick. */
  async function sampler(src: TelemetrySource, options: { partitionsEveryMs?: number } = {}): Promise<Telemetry> {
    const telemetry = new Telemetry({ intervalMs: 60_000, ...options });
    telemetries.push(telemetry);
    const first = new Promise<void>((resolve) => {
      const off = telemetry.onSample(() => {
        off();
        resolve();
      });
    });
    telemetry.attach(src);
    await first;
    return telemetry;
  }
  const stack = (spec: DataSpec, extra: Partial<TelemetrySource> = {}) =>
    source({ redisUrl: () => stores.redisUrl, databaseUrl: () => stores.databaseUrl, dataSpec: () => spec, ...extra });

  beforeAll(async () => {
    stores = await startStores();
    db = new pg.Pool({ connectionString: stores.databaseUrl, max: 2 });
    db.on('error', () => undefined); // an idle connection the server ends at the last stop
    redis = new Redis(stores.redisUrl);
    metrics = await metricsServer();
  }, 120_000);

  afterAll(async () => {
    for (const t of telemetries) await t.close();
    await metrics?.close();
    redis?.disconnect();
    await db?.end();
    await stores?.stop();
  });

  it('reports no stream when events are off and no replica when none runs, and quietly reads tables that do not exist yet', async () => {
    const off = await sampler(stack({ readReplica: false, events: false, partitions: 0 }));
    const s = await off.sampleNow();
    expect(s.data).toEqual({
      reads: { primaryPerSec: 0, replicaPerSec: 0, fallbacksPerSec: 0 },
      replica: null,
      pools: [],
      stream: null,
      partitions: null,
    });

    // Events on, before the worker created the outbox or anyone wrote an event.
    const on = await sampler(stack({ readReplica: false, events: true, partitions: 0 }));
    const empty = await on.sampleNow();
    expect(empty.data!.stream).toEqual({ length: 0, eventsPerSec: 0, groupLag: null, pending: 0, outboxBacklog: 0, freshnessS: null });
    expect(empty.db.up).toBe(true);
  });

  it('follows XADDs with length and events/s, and the projector group’s lag and pending', async () => {
    const telemetry = await sampler(stack({ readReplica: false, events: true, partitions: 0 }));
    const before = await telemetry.sampleNow();
    for (let i = 0; i < 10; i++) await redis.xadd(USER_EVENTS_STREAM, '*', 'type', 'user.created', 'id', String(i));
    const added = await telemetry.sampleNow();
    const stream = added.data!.stream!;
    expect(stream.length).toBe(10);
    // Per second of the real time between the two samples.
    expect(stream.eventsPerSec).toBeCloseTo(10 / ((added.t - before.t) / 1000), 0);
    expect(stream.groupLag).toBeNull(); // no group yet

    await redis.xgroup('CREATE', USER_EVENTS_STREAM, PROJECTOR_GROUP, '0');
    const grouped = (await telemetry.sampleNow()).data!.stream!;
    expect(grouped.groupLag).toBe(10);
    expect(grouped.pending).toBe(0);
    expect(grouped.eventsPerSec).toBe(0);

    const read = (await redis.xreadgroup('GROUP', PROJECTOR_GROUP, 'c1', 'COUNT', 4, 'STREAMS', USER_EVENTS_STREAM, '>')) as [
      string,
      [string, string[]][],
    ][];
    const ids = read[0]![1].map(([id]) => id);
    await redis.xack(USER_EVENTS_STREAM, PROJECTOR_GROUP, ids[0]!, ids[1]!);
    const consumed = (await telemetry.sampleNow()).data!.stream!;
    expect(consumed.groupLag).toBe(6);
    expect(consumed.pending).toBe(2);
    expect(consumed.length).toBe(10);
  });

  it('follows the outbox backlog and the read model’s freshness as rows are inserted, relayed and projected', async () => {
    const telemetry = await sampler(stack({ readReplica: false, events: true, partitions: 0 }));
    await db.query(`CREATE TABLE outbox (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, event_id uuid NOT NULL DEFAULT gen_random_uuid(), type text NOT NULL,
      user_id bigint NOT NULL, payload jsonb NOT NULL DEFAULT '{}', occurred_at timestamptz NOT NULL DEFAULT now(), sent_at timestamptz)`);
    await db.query('CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL');
    // Five events, 10 s to 6 s ago.
    for (let i = 0; i < 5; i++)
      await db.query(`INSERT INTO outbox (type, user_id, occurred_at) VALUES ('user.created', $1, now() - make_interval(secs => $2))`, [
        i,
        10 - i,
      ]);
    const noModel = (await telemetry.sampleNow()).data!.stream!;
    expect(noModel.outboxBacklog).toBe(5);
    // No read model table yet: it trails by the age of the oldest event.
    expect(noModel.freshnessS).toBeGreaterThanOrEqual(10);
    expect(noModel.freshnessS).toBeLessThan(15);

    await db.query(
      'CREATE TABLE read_model_state (id int PRIMARY KEY, events bigint NOT NULL DEFAULT 0, last_event_id bigint, last_occurred_at timestamptz, updated_at timestamptz NOT NULL DEFAULT now())',
    );
    // The projector applied the first two (the second 9 s ago): it trails the newest (6 s ago) by 3 s.
    await db.query(
      `INSERT INTO read_model_state (id, events, last_event_id, last_occurred_at) SELECT 1, 2, id, occurred_at FROM outbox ORDER BY id LIMIT 1 OFFSET 1`,
    );
    await db.query('UPDATE outbox SET sent_at = now() WHERE id IN (SELECT id FROM outbox ORDER BY id LIMIT 3)');
    const behind = (await telemetry.sampleNow()).data!.stream!;
    expect(behind.outboxBacklog).toBe(2);
    expect(behind.freshnessS).toBeCloseTo(3, 1);

    await db.query('UPDATE outbox SET sent_at = now() WHERE sent_at IS NULL');
    await db.query('UPDATE read_model_state SET events = 5, last_occurred_at = (SELECT max(occurred_at) FROM outbox) WHERE id = 1');
    const caughtUp = (await telemetry.sampleNow()).data!.stream!;
    expect(caughtUp.outboxBacklog).toBe(0);
    expect(caughtUp.freshnessS).toBe(0);
  });

  it('counts rows per partition exactly, every few seconds, and none for a plain table', async () => {
    await db.query('CREATE TABLE users (id bigint NOT NULL, name text NOT NULL) PARTITION BY HASH (id)');
    for (let i = 0; i < 3; i++) await db.query(`CREATE TABLE users_p${i} PARTITION OF users FOR VALUES WITH (MODULUS 3, REMAINDER ${i})`);
    await db.query(`INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 300) g`);
    const telemetry = await sampler(stack(ALL_ON), { partitionsEveryMs: 300 });
    const exact = async () => {
      const { rows } = await db.query<{ name: string; rows: number }>(
        `SELECT tableoid::regclass::text AS name, count(*)::int AS rows FROM users GROUP BY 1 ORDER BY 1`,
      );
      return rows;
    };
    const first = (await telemetry.sampleNow()).data!.partitions;
    expect(first).toEqual(await exact());
    expect(first!.reduce((sum, p) => sum + p.rows, 0)).toBe(300);

    await db.query(`INSERT INTO users SELECT g, 'u' || g FROM generate_series(301, 450) g`);
    // The count in between ticks is the last one; a newer one arrives within the period.
    let latest: Sample['data'];
    await eventually(
      'a recount with the new rows',
      async () => {
        latest = (await telemetry.sampleNow()).data;
        return latest!.partitions!.reduce((sum, p) => sum + p.rows, 0) === 450;
      },
      10_000,
    );
    expect(latest!.partitions).toEqual(await exact());
    expect(latest!.partitions!.map((p) => p.name)).toEqual(['users_p0', 'users_p1', 'users_p2']);

    // Spec says 0 partitions: not asked at all.
    const plain = await sampler(stack({ readReplica: false, events: false, partitions: 0 }));
    expect((await plain.sampleNow()).data!.partitions).toBeNull();
  });

  it('turns the api replicas’ read counters into reads/s and lists every pool, and exports them', async () => {
    const startedAt = Date.now() - 60_000;
    const api: Instance = { id: 'api-1', service: 'api', phase: 'ready', restarts: 0, startedAt };
    metrics.body = routerMetrics({ primary: 100, replica: 500, fallbacks: 3 });
    const telemetry = await sampler(
      stack({ readReplica: false, events: false, partitions: 0 }, { instances: () => [api], metricsUrl: () => metrics.url }),
    );
    const base = telemetry.latest()!;
    metrics.body = routerMetrics({ primary: 110, replica: 560, fallbacks: 5 }, 2);
    const s = await telemetry.sampleNow();
    const seconds = (s.t - base.t) / 1000;
    expect(s.data!.reads.primaryPerSec).toBeCloseTo(10 / seconds, 1);
    expect(s.data!.reads.replicaPerSec).toBeCloseTo(60 / seconds, 1);
    expect(s.data!.reads.fallbacksPerSec).toBeCloseTo(2 / seconds, 1);
    expect(s.data!.pools).toEqual([
      { instance: 'api-1', pool: 'primary', used: 0, idle: 3, waiting: 0, max: 10 },
      { instance: 'api-1', pool: 'replica', used: 10, idle: 0, waiting: 2, max: 10 },
    ]);

    const families = parsePrometheusText(renderPrometheus(s));
    expect(sumSeries(families, 'scalelab_db_reads_per_second', { target: 'replica', stack: STACK })).toBe(s.data!.reads.replicaPerSec);
    expect(sumSeries(families, 'scalelab_db_pool_connections', { instance: 'api-1', pool: 'replica', state: 'waiting' })).toBe(2);
    expect(families.has('scalelab_stream_length')).toBe(false); // events off: no stream series

    // A replica serving the old gauge: one primary pool, no reads.
    metrics.body = OLD_API_METRICS;
    const old = await telemetry.sampleNow();
    expect(old.data!.pools).toEqual([{ instance: 'api-1', pool: 'primary', used: 3, idle: 1, waiting: 0, max: 10 }]);
    expect(old.data!.reads.replicaPerSec).toBe(0);
  });

  it('reports the replica up with its apply delay, or down within the time box, and exports it', async () => {
    // Any PostgreSQL answers the replica's questions; this one has no apply delay and no standby streaming from it.
    const up = await sampler(stack(ALL_ON, { replicaUrl: () => stores.databaseUrl }));
    const s = await up.sampleNow();
    expect(s.data!.replica).toEqual({ up: true, lagBytes: null, lagSeconds: null, applyDelayMs: 0 });
    const families = parsePrometheusText(renderPrometheus(s));
    expect(sumSeries(families, 'scalelab_db_replica_up')).toBe(1);
    expect(sumSeries(families, 'scalelab_partition_rows', { partition: 'users_p0' })).toBe(s.data!.partitions![0]!.rows);
    expect(sumSeries(families, 'scalelab_stream_length')).toBe(s.data!.stream!.length);
    expect(sumSeries(families, 'scalelab_outbox_backlog')).toBe(0);

    const closedPort = await freePort();
    const down = await sampler(stack(ALL_ON, { replicaUrl: () => `postgres://nobody:secret@127.0.0.1:${closedPort}/scalelab` }));
    const before = Date.now();
    const d = await down.sampleNow();
    expect(Date.now() - before).toBeLessThan(1_500);
    expect(d.data!.replica).toEqual({ up: false, lagBytes: null, lagSeconds: null, applyDelayMs: 0 });
    // The primary's figures are unaffected.
    expect(d.data!.stream!.length).toBe(10);
    expect(d.db.up).toBe(true);

    // Out of the control plane's reach (inside a cluster): up is what the runtime says of its instance.
    const replicaInstance: Instance = { id: 'postgres-replica', service: 'postgres', phase: 'ready', restarts: 0, startedAt: Date.now() };
    const remote = await sampler(stack(ALL_ON, { instances: () => [replicaInstance] }));
    expect((await remote.sampleNow()).data!.replica!.up).toBe(true);
  });

  it('without a data spec from its source, finds the replica among the instances and the partitions in the database', async () => {
    const replicaInstance: Instance = { id: 'postgres-replica', service: 'postgres', phase: 'crashed', restarts: 1, startedAt: Date.now() };
    const bare = await sampler(
      source({ redisUrl: () => stores.redisUrl, databaseUrl: () => stores.databaseUrl, instances: () => [replicaInstance] }),
    );
    const s = await bare.sampleNow();
    expect(s.data!.replica).toMatchObject({ up: false, applyDelayMs: 0 });
    expect(s.data!.stream!.length).toBe(10);
    expect(s.data!.partitions!.map((p) => p.name)).toEqual(['users_p0', 'users_p1', 'users_p2']);
    const none = await sampler(source({ databaseUrl: () => stores.databaseUrl }));
    expect((await none.sampleNow()).data!.replica).toBeNull();
  });

  it('reads a real streaming replica: caught up, then behind in bytes and seconds under an apply delay, then caught up again', async () => {
    let replica: LocalPostgres | undefined;
    try {
      replica = await seedReplica(stores.postgres, {
        dataDir: postgresDataDir(path.join(stores.dir, 'replica')),
        port: await freePort(),
        logFile: path.join(stores.dir, 'replica.log'),
      });
      const replicaUrl = replica.url('scalelab');
      const telemetry = await sampler(stack(ALL_ON, { replicaUrl: () => replicaUrl }));
      await eventually('the replica caught up', async () => {
        const r = (await telemetry.sampleNow()).data!.replica!;
        return r.up && r.lagBytes === 0 && r.lagSeconds === 0;
      });

      const admin = new pg.Client({ connectionString: replicaUrl });
      await admin.connect();
      try {
        await admin.query(`ALTER SYSTEM SET recovery_min_apply_delay = '3000ms'`);
        await admin.query('SELECT pg_reload_conf()');
        const seen: NonNullable<DataSample['replica']>[] = [];
        await eventually(
          'the replica trails by seconds under a 3 s apply delay',
          async () => {
            await db.query(`INSERT INTO users SELECT g, 'late' FROM generate_series(1000, 1010) g`);
            const r = (await telemetry.sampleNow()).data!.replica!;
            seen.push(r);
            return r.applyDelayMs === 3000 && (r.lagBytes ?? 0) > 0 && (r.lagSeconds ?? 0) >= 1;
          },
          30_000,
        );
        expect(seen.at(-1)!.up).toBe(true);
        expect(seen.at(-1)!.lagSeconds!).toBeLessThanOrEqual(10);

        await admin.query('ALTER SYSTEM RESET recovery_min_apply_delay');
        await admin.query('SELECT pg_reload_conf()');
        await eventually(
          'caught up again, no delay',
          async () => {
            const r = (await telemetry.sampleNow()).data!.replica!;
            return r.applyDelayMs === 0 && r.lagBytes === 0 && r.lagSeconds === 0;
          },
          30_000,
        );
        const families = parsePrometheusText(telemetry.prometheus());
        expect(sumSeries(families, 'scalelab_db_replica_lag_bytes')).toBe(0);
        expect(sumSeries(families, 'scalelab_db_replica_apply_delay_seconds')).toBe(0);
      } finally {
        await admin.end();
      }
    } finally {
      await replica?.stop();
    }
  }, 120_000);

  it('keeps the last stream figures while Redis is frozen, and never stalls the tick', async () => {
    const extra = await stores.extraRedis();
    const client = new Redis(extra.url);
    try {
      for (let i = 0; i < 3; i++) await client.xadd(USER_EVENTS_STREAM, '*', 'n', String(i));
      const telemetry = await sampler(stack({ readReplica: false, events: true, partitions: 0 }, { redisUrl: () => extra.url }));
      expect((await telemetry.sampleNow()).data!.stream!.length).toBe(3);
      extra.signal('SIGSTOP');
      const before = Date.now();
      const frozen = await telemetry.sampleNow();
      extra.signal('SIGCONT');
      expect(Date.now() - before).toBeLessThan(1_500);
      expect(frozen.cache.up).toBe(false);
      expect(frozen.data!.stream).toMatchObject({ length: 3, eventsPerSec: 0, groupLag: null });
    } finally {
      client.disconnect();
      await extra.stop();
    }
  });
});
