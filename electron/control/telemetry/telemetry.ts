import type { Instance, Sample, TimelineEvent } from '../../contract.js';
import type { BalancerSnapshot } from '../balancer/stats.js';
import { Collector } from './collector.js';
import { renderPrometheus } from './exporter.js';
import { RingBuffer } from './ring-buffer.js';
import { NamedError } from '../../../backend/named-error.js';

/** Where telemetry reads one running stack. The runtime and the balancer implement it. */
export interface TelemetrySource {
  /** The stack's name, copied into every sample. */
  stack: string;
  /** Every instance: api-N, worker-N, redis, postgres. */
  instances(): Instance[];
  /** Prometheus /metrics URL of an api or worker replica; undefined for others. */
  metricsUrl(instance: Instance): string | undefined;
  /** Balancer counts since the previous call; undefined when there is no balancer. */
  takeBalancerSnapshot(): BalancerSnapshot | undefined | Promise<BalancerSnapshot | undefined>;
  /** e.g. `redis://127.0.0.1:6390`; undefined when the stack has no Redis (yet). */
  redisUrl(): string | undefined;
  /** e.g. `postgres://user:pass@127.0.0.1:5432/scalelab`. */
  databaseUrl(): string | undefined;
  /** The read replica (spec `data.readReplica`), when one runs and the control plane reaches it. */
  replicaUrl?(): string | undefined;
  /**
   * The data-layer patterns the stack runs with. Without it telemetry assumes a replica where
   * replicaUrl gives one, events on, and partitions as the database has them.
   */
  dataSpec?(): import('../../stack-spec.js').DataSpec | undefined;
  /** cpu and memory by instance id, when the runtime measures them (Docker); else read from the pids. */
  usage?(): Map<string, { cpu: number | null; rssBytes: number | null }>;
  /** The cpu limits per replica and whether they are enforced (see Runtime.cpuLimits). */
  cpuLimits?(): import('../../stack-spec.js').CpuLimitStatus | undefined;
  /** CFS counters of the cpu-limited instances, by instance id. */
  throttling?(): Promise<Map<string, import('../runtimes/runtime.js').CpuCounters>>;
  /** Writes acknowledged to the traffic generator and the last lost-write check. */
  writes?(): import('../../contract.js').Sample['writes'];
  /** Faults in force and the monkey. */
  chaos?(): import('../../contract.js').Sample['chaos'];
  /** The autoscalers' gauges, when any is on. */
  autoscaler?(): import('../../contract.js').Sample['autoscaler'];
  /** The load generator's last second, when a traffic run has happened. */
  generator?(): import('../../traffic-spec.js').TrafficSecond | null;
  /**
   * The running traffic's totals this instant and when it started, read beside the balancer's
   * counters so the Sample's client-observed rates cover the balancer's interval; null when none runs.
   */
  generatorCounts?(): { since: number; counts: import('../traffic/generator-counters.js').GeneratorCounts } | null;
}

/** Options of {@link Telemetry}. */
export interface TelemetryOptions {
  /** Time between samples. @defaultValue 1000 */
  intervalMs?: number;
  /** How much history is kept; also bounds what `history()` returns. @defaultValue 1800 */
  historySeconds?: number;
  /** Timeline events kept; older ones are dropped. @defaultValue 5000 */
  maxEvents?: number;
  /**
   * Longest any one source (a scrape, Redis, PostgreSQL, /proc) may take in a tick before it is
   * reported as down or null. @defaultValue 800, or less when intervalMs is shorter
   */
  sourceTimeoutMs?: number;
  /** How often the users partitions' rows are counted (exact counts cost a scan). @defaultValue 5000 */
  partitionsEveryMs?: number;
}

/** Thrown when a method is called in a state that cannot serve it (not attached, closed). */
export class TelemetryStateError extends NamedError {}

/**
 * Samples one stack every second (see {@link Sample}), keeps 30 minutes of them and the
 * timeline of events, and tells listeners about both.
 *
 * Ticks never overlap: the next one is scheduled after the previous finished, and every source is
 * time-boxed, so a frozen Redis or replica shows as down instead of stalling the dashboard.
 */
export class Telemetry {
  private readonly intervalMs: number;
  private readonly historySeconds: number;
  private readonly sourceTimeoutMs: number;
  private readonly partitionsEveryMs: number;
  private readonly samples: RingBuffer<Sample>;
  private readonly timeline: RingBuffer<TimelineEvent>;
  private readonly sampleListeners = new Set<(s: Sample) => void>();
  private readonly eventListeners = new Set<(e: TimelineEvent) => void>();
  private collector: Collector | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The collection in progress, if any: sampleNow() and ticks take turns on it. */
  private running: Promise<unknown> = Promise.resolve();
  private closed = false;
  private totals: BalancerSnapshot['totals'] | undefined;

  constructor(options: TelemetryOptions = {}) {
    this.intervalMs = positive(options.intervalMs ?? 1000, 'intervalMs');
    this.historySeconds = positive(options.historySeconds ?? 1800, 'historySeconds');
    this.sourceTimeoutMs = positive(options.sourceTimeoutMs ?? Math.min(800, Math.max(200, this.intervalMs * 0.8)), 'sourceTimeoutMs');
    this.partitionsEveryMs = positive(options.partitionsEveryMs ?? 5000, 'partitionsEveryMs');
    this.samples = new RingBuffer(Math.max(1, Math.ceil((this.historySeconds * 1000) / this.intervalMs)));
    this.timeline = new RingBuffer(positive(options.maxEvents ?? 5000, 'maxEvents'));
  }

  /**
   * Starts sampling `source` every intervalMs.
   * @throws TelemetryStateError when closed or already attached (detach first)
   */
  attach(source: TelemetrySource): void {
    if (this.closed) throw new TelemetryStateError('telemetry is closed');
    if (this.collector) throw new TelemetryStateError(`telemetry is already attached to stack "${this.collector.stack}"; detach it first`);
    this.collector = new Collector(source, this.sourceTimeoutMs, { partitionsEveryMs: this.partitionsEveryMs });
    this.totals = undefined;
    this.schedule(0);
  }

  /** Whether a source is attached. */
  get attached(): boolean {
    return this.collector !== undefined;
  }

  /** Stops sampling and closes its connections; history and events are kept. Safe to call twice. */
  async detach(): Promise<void> {
    const collector = this.collector;
    this.collector = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!collector) return;
    // Let a collection in flight finish (it is time-boxed) before its connections go.
    await this.running.catch(() => undefined);
    await collector.close();
  }

  /** Calls `listener` with every new sample; returns the unsubscribe function. */
  onSample(listener: (s: Sample) => void): () => void {
    this.sampleListeners.add(listener);
    return () => this.sampleListeners.delete(listener);
  }

  /** Calls `listener` with every new timeline event; returns the unsubscribe function. */
  onEvent(listener: (e: TimelineEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /** Appends an event to the timeline (timestamped now unless `t` is given) and notifies. */
  record(event: Omit<TimelineEvent, 't'> & { t?: number }): TimelineEvent {
    const full: TimelineEvent = { ...event, t: event.t ?? Date.now() };
    this.timeline.push(full);
    notify(this.eventListeners, full);
    return full;
  }

  /** The newest sample, or null before the first. */
  latest(): Sample | null {
    return this.samples.last() ?? null;
  }

  /** Samples of the last `seconds` (at most historySeconds), oldest first. */
  history(seconds: number = this.historySeconds): Sample[] {
    const since = Date.now() - Math.min(seconds, this.historySeconds) * 1000;
    return this.samples.tail().filter((s) => s.t >= since);
  }

  /** The newest `limit` timeline events (all kept by default), newest last. */
  events(limit?: number): TimelineEvent[] {
    return this.timeline.tail(limit);
  }

  /** Balancer totals since it started, as of the newest sample; undefined without a balancer. */
  balancerTotals(): BalancerSnapshot['totals'] | undefined {
    return this.totals;
  }

  /** The control plane's own /metrics body, from the newest sample. */
  prometheus(): string {
    return renderPrometheus(this.latest(), { balancerTotals: this.balancerTotals() });
  }

  /**
   * Collects one sample now, adds it to the history and notifies, between ticks.
   * @throws TelemetryStateError when no source is attached
   */
  sampleNow(): Promise<Sample> {
    if (!this.collector)
      return Promise.reject(new TelemetryStateError(this.closed ? 'telemetry is closed' : 'telemetry is not attached to a stack'));
    return this.collectInTurn(this.collector);
  }

  /** Detaches and drops every listener. Safe to call twice; every step runs even if one throws. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const steps = [() => this.detach(), () => this.sampleListeners.clear(), () => this.eventListeners.clear()];
    const errors: unknown[] = [];
    for (const step of steps) {
      try {
        await step();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, 'telemetry did not close cleanly');
  }

  private collectInTurn(collector: Collector): Promise<Sample> {
    const turn = this.running
      .catch(() => undefined)
      .then(async () => {
        const sample = await collector.collect();
        // A collection that finished after its source was detached is history no one asked for.
        if (this.collector !== collector) return sample;
        this.totals = collector.balancerTotals ?? this.totals;
        this.samples.push(sample);
        notify(this.sampleListeners, sample);
        return sample;
      });
    this.running = turn;
    return turn;
  }

  private schedule(delayMs: number): void {
    const collector = this.collector;
    if (!collector) return;
    this.timer = setTimeout(() => {
      const started = Date.now();
      this.collectInTurn(collector)
        .catch(() => undefined)
        .finally(() => {
          if (this.collector === collector) this.schedule(Math.max(0, this.intervalMs - (Date.now() - started)));
        });
    }, delayMs);
    // Sampling alone must not keep a CLI process alive.
    this.timer.unref();
  }
}

function notify<T>(listeners: Set<(value: T) => void>, value: T): void {
  for (const listener of listeners) {
    try {
      listener(value);
    } catch {
      // A listener's bug (a closed socket, say) must not stop the others or the ticks.
    }
  }
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number, got ${value}`);
  return value;
}
