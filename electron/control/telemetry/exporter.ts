import type { DataSample, Sample } from '../../contract.js';
import type { BalancerSnapshot } from '../balancer/stats.js';

/** Options of {@link renderPrometheus}. */
export interface RenderPrometheusOptions {
  /** Balancer totals since it started, exported as counters. */
  balancerTotals?: BalancerSnapshot['totals'];
  /** The `stack` label when there is no sample yet. @defaultValue '' */
  stack?: string;
}

type Labels = Record<string, string>;
type Row = [Labels, number | null | undefined];

/** The content type of the text format this module writes. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Escapes a label value: backslash, double quote and newline, as the text format requires. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** Formats a value as Go's strconv does for Prometheus: NaN, +Inf, -Inf, or the number. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

class TextWriter {
  private readonly lines: string[] = [];

  constructor(private readonly common: Labels) {}

  /** Writes one family; rows with a null value are left out (Prometheus has no null), and so is a family with none. */
  family(name: string, type: 'gauge' | 'counter', help: string, rows: Row[]): void {
    const present = rows.filter((row): row is [Labels, number] => typeof row[1] === 'number');
    if (present.length === 0) return;
    this.lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of present) {
      const all = Object.entries({ ...this.common, ...labels });
      const text = all.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',');
      this.lines.push(`${name}{${text}} ${formatValue(value)}`);
    }
  }

  text(): string {
    return this.lines.length === 0 ? '' : `${this.lines.join('\n')}\n`;
  }
}

const QUANTILES = [
  ['0.5', 'p50'],
  ['0.95', 'p95'],
  ['0.99', 'p99'],
] as const;

const bool = (b: boolean) => (b ? 1 : 0);

/** The data-layer patterns' series: reads, pools, the replica, the stream and outbox, partitions. */
function renderData(w: TextWriter, data: DataSample): void {
  w.family(
    'scalelab_db_reads_per_second',
    'gauge',
    'Database reads per second by where they went (fallback: replica reads retried on the primary)',
    [
      [{ target: 'primary' }, data.reads.primaryPerSec],
      [{ target: 'replica' }, data.reads.replicaPerSec],
      [{ target: 'fallback' }, data.reads.fallbacksPerSec],
    ],
  );
  w.family(
    'scalelab_db_pool_connections',
    'gauge',
    'PostgreSQL pool connections of each api replica by pool and state (used, idle, waiting clients, max)',
    data.pools.flatMap((p) =>
      (['used', 'idle', 'waiting', 'max'] as const).map((state): Row => [{ instance: p.instance, pool: p.pool, state }, p[state]]),
    ),
  );
  const { replica, stream } = data;
  if (replica) {
    w.family('scalelab_db_replica_up', 'gauge', 'Whether the read replica answers (1) or not (0)', [[{}, bool(replica.up)]]);
    w.family('scalelab_db_replica_lag_bytes', 'gauge', 'WAL the read replica has not replayed yet, bytes', [[{}, replica.lagBytes]]);
    w.family('scalelab_db_replica_lag_seconds', 'gauge', 'How far the read replica trails the primary, seconds', [
      [{}, replica.lagSeconds],
    ]);
    w.family('scalelab_db_replica_apply_delay_seconds', 'gauge', 'recovery_min_apply_delay in force on the read replica, seconds', [
      [{}, replica.applyDelayMs / 1000],
    ]);
  }
  if (stream) {
    w.family('scalelab_stream_length', 'gauge', 'Entries in the user-events stream', [[{}, stream.length]]);
    w.family('scalelab_stream_events_per_second', 'gauge', 'Entries added to the user-events stream per second', [
      [{}, stream.eventsPerSec],
    ]);
    w.family('scalelab_stream_group_lag', 'gauge', 'Entries the projector group has not read yet', [[{}, stream.groupLag]]);
    w.family('scalelab_stream_pending', 'gauge', 'Entries the projector group read but has not acknowledged', [[{}, stream.pending]]);
    w.family('scalelab_outbox_backlog', 'gauge', 'Outbox rows not yet relayed to the stream', [[{}, stream.outboxBacklog]]);
    w.family('scalelab_read_model_freshness_seconds', 'gauge', 'How far the read model trails the write side, seconds', [
      [{}, stream.freshnessS],
    ]);
  }
  w.family(
    'scalelab_partition_rows',
    'gauge',
    'Rows in each partition of the users table',
    (data.partitions ?? []).map((p): Row => [{ partition: p.name }, p.rows]),
  );
}

/**
 * cpu limits and throttling, named as cAdvisor names the kubelet's (container_cpu_cfs_*), so a
 * Grafana panel built for pods reads replicas of every runtime alike.
 */
function renderCpuLimits(w: TextWriter, sample: Sample): void {
  const per = (pick: (i: Sample['instances'][number]) => number | null | undefined): Row[] =>
    sample.instances.map((i) => [{ instance: i.id, service: i.service }, pick(i)]);
  w.family(
    'scalelab_instance_cpu_limit_cores',
    'gauge',
    'cpu request and limit of the instance (spec resources.<service>.cpu), cores',
    per((i) => (i.cpuLimitMillicores == null ? null : i.cpuLimitMillicores / 1000)),
  );
  w.family(
    'scalelab_instance_cpu_cfs_periods_total',
    'counter',
    'CFS periods in which the cpu-limited instance had runnable threads',
    per((i) => i.throttling?.periodsTotal),
  );
  w.family(
    'scalelab_instance_cpu_cfs_throttled_periods_total',
    'counter',
    'CFS periods in which the instance used its whole quota and had to wait',
    per((i) => i.throttling?.throttledPeriodsTotal),
  );
  w.family(
    'scalelab_instance_cpu_cfs_throttled_seconds_total',
    'counter',
    'Time the instance waited for its next CFS period, seconds',
    per((i) => i.throttling?.throttledSecondsTotal),
  );
  w.family(
    'scalelab_instance_cpu_throttled_ratio',
    'gauge',
    "Share of the last interval's CFS periods in which the instance was throttled",
    per((i) => i.throttling?.throttledShare),
  );
  const limits = sample.cpuLimits;
  if (!limits) return;
  const set = (['api', 'worker'] as const).filter((service) => limits[service] !== null);
  w.family(
    'scalelab_cpu_limit_enforced',
    'gauge',
    'Whether the runtime enforces the cpu limit of a service with one (1) or cannot here (0)',
    set.map((service) => [{ service }, bool(limits.notEnforced === null)]),
  );
}

/**
 * The control plane's own /metrics body: the newest Sample's series in the Prometheus text
 * format, every series labelled with its `stack`, so Grafana users can scrape ScaleLab itself.
 */
export function renderPrometheus(sample: Sample | null, options: RenderPrometheusOptions = {}): string {
  const w = new TextWriter({ stack: sample?.stack ?? options.stack ?? '' });
  const totals = options.balancerTotals;
  if (totals) {
    w.family(
      'scalelab_balancer_requests_total',
      'counter',
      'Requests the balancer answered since it started, by status class',
      Object.entries(totals.status).map(([status, n]) => [{ status }, n]),
    );
    w.family('scalelab_balancer_proxy_errors_total', 'counter', 'Requests the balancer answered itself with 502/503 since it started', [
      [{}, totals.proxyErrors],
    ]);
  }
  if (!sample) return w.text();

  const { traffic, cache, queue, db, replicas, autoscaler } = sample;
  w.family('scalelab_sample_timestamp_seconds', 'gauge', 'When the newest sample was taken', [[{}, sample.t / 1000]]);
  w.family('scalelab_requests_per_second', 'gauge', 'Requests per second through the balancer', [[{}, traffic.rps]]);
  w.family('scalelab_errors_per_second', 'gauge', '5xx answers per second through the balancer', [[{}, traffic.errorsPerSec]]);
  w.family(
    'scalelab_responses_per_second',
    'gauge',
    'Answers per second by status class',
    Object.entries(traffic.status).map(([status, n]) => [{ status }, n]),
  );
  w.family('scalelab_proxy_errors_per_second', 'gauge', 'Requests per second the balancer could not pass to a ready replica', [
    [{}, traffic.proxyErrorsPerSec],
  ]);
  w.family('scalelab_requests_in_flight', 'gauge', 'Requests being served by the balancer', [[{}, traffic.inFlight]]);
  w.family(
    'scalelab_latency_ms',
    'gauge',
    'Latency percentiles through the balancer over the last interval, milliseconds',
    QUANTILES.map(([quantile, key]) => [{ quantile }, traffic[key]]),
  );

  const per = (pick: (i: Sample['instances'][number]) => number | null): Row[] =>
    sample.instances.map((i) => [{ instance: i.id, service: i.service }, pick(i)]);
  w.family(
    'scalelab_instance_ready',
    'gauge',
    'Whether the instance is ready (1) or not (0)',
    per((i) => bool(i.ready)),
  );
  w.family(
    'scalelab_instance_restarts_total',
    'counter',
    'Times the runtime restarted the instance after it exited',
    per((i) => i.restarts),
  );
  w.family(
    'scalelab_instance_cpu_percent',
    'gauge',
    'CPU use, percent of one core',
    per((i) => i.cpu),
  );
  w.family(
    'scalelab_instance_rss_bytes',
    'gauge',
    'Resident memory, bytes',
    per((i) => i.rssBytes),
  );
  w.family(
    'scalelab_instance_requests_per_second',
    'gauge',
    'Requests per second the balancer sent to the instance',
    per((i) => i.rps),
  );
  w.family(
    'scalelab_instance_errors_per_second',
    'gauge',
    'Failed requests per second of the instance',
    per((i) => i.errorsPerSec),
  );
  w.family(
    'scalelab_instance_in_flight',
    'gauge',
    'Requests the instance is serving',
    per((i) => i.inFlight),
  );
  w.family(
    'scalelab_instance_event_loop_lag_ms',
    'gauge',
    'p99 event-loop lag of the instance, milliseconds',
    per((i) => i.eventLoopLagMs),
  );
  renderCpuLimits(w, sample);
  w.family(
    'scalelab_instance_latency_ms',
    'gauge',
    'Latency percentiles of the instance over the last interval, milliseconds',
    sample.instances.flatMap((i) => QUANTILES.map(([quantile, key]): Row => [{ instance: i.id, service: i.service, quantile }, i[key]])),
  );
  w.family('scalelab_replicas', 'gauge', 'Replicas of a scalable service', [
    [{ service: 'api' }, replicas.api],
    [{ service: 'worker' }, replicas.worker],
  ]);
  w.family('scalelab_replicas_ready', 'gauge', 'Ready replicas of a scalable service', [[{ service: 'api' }, replicas.apiReady]]);

  w.family('scalelab_cache_up', 'gauge', 'Whether Redis answers (1) or not (0)', [[{}, bool(cache.up)]]);
  w.family('scalelab_cache_hits_per_second', 'gauge', 'User reads served from Redis per second', [[{}, cache.hitsPerSec]]);
  w.family('scalelab_cache_misses_per_second', 'gauge', 'User reads that went to PostgreSQL per second', [[{}, cache.missesPerSec]]);
  w.family('scalelab_cache_hit_ratio', 'gauge', 'Hits over lookups in the last interval', [[{}, cache.hitRate]]);
  w.family('scalelab_cache_memory_bytes', 'gauge', 'Memory Redis uses, bytes', [[{}, cache.memoryBytes]]);
  w.family('scalelab_cache_keys', 'gauge', 'Keys in Redis db0', [[{}, cache.keys]]);
  w.family('scalelab_cache_ops_per_second', 'gauge', 'Commands per second Redis serves', [[{}, cache.opsPerSec]]);

  w.family('scalelab_queue_up', 'gauge', 'Whether the queue can be read (1) or not (0)', [[{}, bool(queue.up)]]);
  w.family(
    'scalelab_queue_jobs',
    'gauge',
    'send-email jobs by state',
    queue.up ? (['waiting', 'active', 'delayed', 'failed'] as const).map((state) => [{ state }, queue[state]]) : [],
  );
  w.family('scalelab_queue_completed_per_second', 'gauge', 'Jobs completed per second', [[{}, queue.completedPerSec]]);
  w.family('scalelab_queue_failed_per_second', 'gauge', 'Job attempts failed per second', [[{}, queue.failedPerSec]]);

  w.family('scalelab_db_up', 'gauge', 'Whether PostgreSQL answers (1) or not (0)', [[{}, bool(db.up)]]);
  w.family('scalelab_db_connections', 'gauge', 'Connections to the stack database', [[{}, db.connections]]);
  w.family('scalelab_db_commits_per_second', 'gauge', 'Transactions committed per second', [[{}, db.commitsPerSec]]);
  w.family('scalelab_db_rollbacks_per_second', 'gauge', 'Transactions rolled back per second', [[{}, db.rollbacksPerSec]]);

  if (sample.data) renderData(w, sample.data);

  if (autoscaler) {
    const { mode, services } = autoscaler;
    const rows = (value: (g: (typeof services)[number]) => number | null) =>
      services.map((g) => [{ mode, service: g.service, metric: g.metric }, value(g)] as [Record<string, string>, number | null]);
    w.family(
      'scalelab_autoscaler_current_replicas',
      'gauge',
      'Replicas the autoscaler sees',
      rows((g) => g.current),
    );
    w.family(
      'scalelab_autoscaler_desired_replicas',
      'gauge',
      'Replicas the autoscaler wants',
      rows((g) => g.desired),
    );
    w.family(
      'scalelab_autoscaler_metric',
      'gauge',
      'Current value of the metric that drove the last decision',
      rows((g) => g.value),
    );
    w.family(
      'scalelab_autoscaler_target',
      'gauge',
      'Target value of that metric',
      rows((g) => g.target),
    );
  }

  // Chaos, for Grafana annotations: faults in force by action and target, and the monkey's kills.
  if (sample.chaos) {
    const { faults, monkey } = sample.chaos;
    const byFault = new Map<string, Row>();
    for (const f of faults) {
      const row = byFault.get(`${f.action}\n${f.target}`) ?? [{ action: f.action, target: f.target }, 0];
      row[1] = (row[1] ?? 0) + 1;
      byFault.set(`${f.action}\n${f.target}`, row);
    }
    w.family('scalelab_chaos_faults_active', 'gauge', 'Chaos faults in force', [[{}, faults.length]]);
    w.family('scalelab_chaos_fault_active', 'gauge', 'Chaos faults in force by action and target', [...byFault.values()]);
    w.family('scalelab_chaos_monkey_enabled', 'gauge', 'Whether the Chaos Monkey runs (1) or not (0)', [[{}, bool(monkey.enabled)]]);
    w.family('scalelab_chaos_monkey_kills_total', 'counter', 'Replicas the Chaos Monkey killed since the control plane started', [
      [{}, monkey.kills],
    ]);
  }
  return w.text();
}
