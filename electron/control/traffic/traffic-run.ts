import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import * as hdr from 'hdr-histogram-js';
import type { GeneratorHealth, TrafficErrors, TrafficSecond, TrafficSpec, TrafficSummary, TrafficUpdate } from '../../traffic-spec.js';
import type { FromGenerator, GeneratorInit, GeneratorSecond, GeneratorTotals, ToGenerator } from './generator-worker.js';
import { SharedCounts, type GeneratorCounts } from './generator-counters.js';
import { generatorVerdict } from './generator-health.js';
import { peakRate, scaleProfile } from '../../traffic-profile.js';
import { NamedError } from '../../../backend/named-error.js';

/** Options of {@link TrafficRun}. */
export interface TrafficRunOptions {
  /** Origin to load, e.g. the stack's balancer. Must be loopback. */
  target: string;
  spec: TrafficSpec;
  /** Existing user ids that reads pick from. */
  keys: number[];
  /** Called once a second with the last second's figures. */
  onSecond?: (second: TrafficSecond) => void;
  /** Generator threads. @defaultValue one per {@link RPS_PER_THREAD} of peak rate, at most one per core */
  threads?: number;
}

/** A write the stack acknowledged with 201: the id it answered and the e-mail that was sent. */
export interface AcknowledgedWrite {
  id: number;
  email: string;
}

/**
 * Acknowledged writes a run keeps for the lost-write check: 200 s at 10k writes/s, about 215 MB
 * of heap (measured). Later ones are counted, not kept, so a long run's memory stays bounded.
 */
export const MAX_KEPT_ACKNOWLEDGED_WRITES = 2_000_000;

/** The target is not on this machine: ScaleLab only loads loopback. */
export class TrafficTargetError extends NamedError {}

const perSecond = (count: number, ms: number) => (ms > 0 ? (count * 1000) / ms : 0);
const round = (n: number) => Math.round(n * 10) / 10;
const round2 = (n: number) => Math.round(n * 100) / 100;

/** The generator's thread: compiled JavaScript from dist/, else the TypeScript through tsx. */
function startWorker(workerData: GeneratorInit): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./generator-worker.js', import.meta.url), { workerData });
  const source = new URL('./generator-worker.ts', import.meta.url).href;
  // A bootstrap that installs tsx's loader in the new thread, then loads the TypeScript worker.
  const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(source)}); })`;
  return new Worker(bootstrap, { eval: true, workerData });
}

/** Rate one generator thread handles comfortably on one core (see bench/results/traffic.md). */
const RPS_PER_THREAD = 12_000;

function percentiles(h: hdr.Histogram): { p50: number | null; p95: number | null; p99: number | null } {
  if (h.totalCount === 0) return { p50: null, p95: null, p99: null };
  return { p50: h.getValueAtPercentile(50) / 1000, p95: h.getValueAtPercentile(95) / 1000, p99: h.getValueAtPercentile(99) / 1000 };
}

function lagOf(h: hdr.Histogram): Pick<GeneratorHealth, 'lagP99Ms' | 'lagMaxMs'> {
  if (h.totalCount === 0) return { lagP99Ms: null, lagMaxMs: null };
  return { lagP99Ms: round(h.getValueAtPercentile(99) / 1000), lagMaxMs: round(h.maxValue / 1000) };
}

function merged(encoded: string[]): hdr.Histogram {
  const into = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 120_000_000,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
  });
  for (const e of encoded) {
    const h = hdr.decodeFromCompressedBase64(e);
    into.add(h);
    h.destroy();
  }
  return into;
}

/**
 * One traffic run in worker threads (one per {@link RPS_PER_THREAD} of peak rate, at most one per
 * core), so the control plane and the UI stay responsive while it sends thousands of requests a
 * second. Each thread runs the profile at its share of the rate; their seconds are merged
 * (histograms added, not percentiles averaged). `done` resolves with the summary when the
 * duration ends or `stop()` is called.
 */
export class TrafficRun {
  readonly done: Promise<TrafficSummary>;
  private readonly workers: Worker[];
  private readonly acks: AcknowledgedWrite[] = [];
  /** Acknowledged writes past {@link MAX_KEPT_ACKNOWLEDGED_WRITES}: counted only. */
  private acksNotKept = 0;
  private last: TrafficSecond | undefined;
  private summaryValue: TrafficSummary | undefined;
  private readonly readyPromise: Promise<void>;
  /** When the run started (ms since the epoch). */
  readonly startedAt = Date.now();
  private readonly shared = new SharedCounts();
  private readonly live = {
    scheduled: 0,
    completed: 0,
    dropped: 0,
    errors: { timeout: 0, refused: 0, http4xx: 0, http5xx: 0 } as TrafficErrors,
  };
  private readonly seconds = new Map<number, GeneratorSecond[]>();
  private readonly received: number[];
  /** The run's health so far: seconds the generator was the limit, its busiest second. */
  private readonly health = { seconds: 0, limitedSeconds: 0, busyCores: 0, busiestThread: 0 };

  constructor(private readonly options: TrafficRunOptions) {
    const host = new URL(options.target).hostname;
    if (host !== '127.0.0.1' && host !== 'localhost' && host !== '[::1]')
      throw new TrafficTargetError(`traffic goes only to this machine (127.0.0.1), not ${host}`);
    const threads =
      options.threads ?? Math.max(1, Math.min(availableParallelism(), Math.ceil(peakRate(options.spec.profile) / RPS_PER_THREAD)));
    this.received = Array.from({ length: threads }, () => 0);
    const runId = randomBytes(4).toString('hex');
    this.workers = Array.from({ length: threads }, (_, i) =>
      startWorker({
        target: options.target,
        spec: { ...options.spec, profile: scaleProfile(options.spec.profile, 1 / threads) },
        keys: options.keys,
        runId: `${runId}${i}`,
        counts: this.shared.buffer,
      }),
    );
    const ready = this.workers.map(
      (worker) => new Promise<void>((resolve) => worker.on('message', (m: FromGenerator) => m.type === 'ready' && resolve())),
    );
    this.readyPromise = Promise.all(ready).then(() => undefined);
    const finals = this.workers.map(
      (worker, index) =>
        new Promise<GeneratorTotals>((resolve, reject) => {
          worker.on('message', (message: FromGenerator) => {
            // Writes are kept as they arrive, not when every thread has sent that second: a
            // thread's last seconds may never be merged, and its writes still count.
            if (message.type === 'second') {
              this.keep(message.data.acks);
              this.onWorkerSecond(index, message.data);
            } else if (message.type === 'done') {
              this.keep(message.acks);
              resolve(message.data);
            }
          });
          worker.once('error', reject);
          worker.once('exit', (code) => reject(new Error(`the traffic generator stopped unexpectedly (exit ${code})`)));
        }),
    );
    this.done = Promise.all(finals).then((totals) => {
      const sum = (f: (t: GeneratorTotals) => number) => totals.reduce((a, t) => a + f(t), 0);
      const errors = {
        timeout: sum((t) => t.errors.timeout),
        refused: sum((t) => t.errors.refused),
        http4xx: sum((t) => t.errors.http4xx),
        http5xx: sum((t) => t.errors.http5xx),
      };
      const latency = merged(totals.map((t) => t.latency));
      const lag = merged(totals.map((t) => t.lag));
      this.summaryValue = this.summarise(
        {
          elapsedMs: Math.max(...totals.map((t) => t.elapsedMs)),
          scheduled: sum((t) => t.scheduled),
          completed: sum((t) => t.completed),
          dropped: sum((t) => t.dropped),
          errors,
          ...percentiles(latency),
          lag: lagOf(lag),
        },
        false,
      );
      latency.destroy();
      lag.destroy();
      if (this.last) this.last = { ...this.last, running: false };
      return this.summaryValue;
    });
    this.done.catch(() => undefined);
  }

  /** Resolves once every thread is sending. */
  async start(): Promise<void> {
    await Promise.race([this.readyPromise, this.done.then(() => undefined)]);
  }

  /** A new rate (the profile becomes constant at it), mix or key distribution, live. */
  update(update: TrafficUpdate): void {
    const share = 1 / this.workers.length;
    const message: ToGenerator = {
      type: 'update',
      profile: update.rps === undefined ? undefined : { kind: 'constant', rps: update.rps * share },
      mix: update.mix,
      keys: update.keys,
    };
    for (const worker of this.workers) worker.postMessage(message);
  }

  /** Stops now (in-flight requests are abandoned); resolves with the summary. */
  async stop(): Promise<TrafficSummary> {
    if (!this.summaryValue) for (const worker of this.workers) worker.postMessage({ type: 'stop' } satisfies ToGenerator);
    return this.done;
  }

  /** The run so far (or its final summary). */
  summary(): TrafficSummary {
    if (this.summaryValue) return this.summaryValue;
    const lag = { lagP99Ms: this.last?.health?.lagP99Ms ?? null, lagMaxMs: this.last?.health?.lagMaxMs ?? null };
    return this.summarise(
      {
        elapsedMs: Date.now() - this.startedAt,
        ...this.live,
        p50: this.last?.p50 ?? null,
        p95: this.last?.p95 ?? null,
        p99: this.last?.p99 ?? null,
        lag,
      },
      true,
    );
  }

  /**
   * The run's totals as they stand this instant, across its threads: what the Sample's rates are
   * computed from, over the same interval as the balancer's.
   */
  counts(): GeneratorCounts {
    return this.shared.read();
  }

  /** The last second, for the Sample. */
  lastSecond(): TrafficSecond | undefined {
    return this.last;
  }

  /**
   * Every write the stack acknowledged with 201 (id and e-mail), in the order they arrived, up to
   * {@link MAX_KEPT_ACKNOWLEDGED_WRITES}; the summary's `acknowledgedWrites` counts them all, so
   * `summary().acknowledgedWrites - acknowledgedWrites().length` were acknowledged but not kept.
   */
  acknowledgedWrites(): readonly AcknowledgedWrite[] {
    return this.acks;
  }

  private keep(acks: readonly AcknowledgedWrite[]): void {
    const room = MAX_KEPT_ACKNOWLEDGED_WRITES - this.acks.length;
    // A loop, not push(...acks): a spread of a very long array overflows the stack.
    for (let i = 0; i < Math.min(room, acks.length); i += 1) this.acks.push(acks[i]!);
    this.acksNotKept += Math.max(0, acks.length - room);
  }

  /** Collects thread `index`'s next second; once every thread has sent that second, merges it. */
  private onWorkerSecond(index: number, second: GeneratorSecond): void {
    const k = this.received[index]!;
    this.received[index] = k + 1;
    const bucket = this.seconds.get(k) ?? [];
    bucket.push(second);
    this.seconds.set(k, bucket);
    if (bucket.length < this.workers.length) return;
    this.seconds.delete(k);
    const sum = (f: (s: GeneratorSecond) => number) => bucket.reduce((a, s) => a + f(s), 0);
    const intervalMs = Math.max(...bucket.map((s) => s.intervalMs));
    const errors = {
      timeout: sum((s) => s.errors.timeout),
      refused: sum((s) => s.errors.refused),
      http4xx: sum((s) => s.errors.http4xx),
      http5xx: sum((s) => s.errors.http5xx),
    };
    const latency = merged(bucket.map((s) => s.latency));
    const figures = percentiles(latency);
    latency.destroy();
    const lagHistogram = merged(bucket.map((s) => s.lag));
    const lag = lagOf(lagHistogram);
    lagHistogram.destroy();
    const busiestThread = Math.max(...bucket.map((s) => s.busy));
    const health: GeneratorHealth = {
      threads: this.workers.length,
      busyCores: round2(sum((s) => s.busy)),
      busiestThread: round2(busiestThread),
      ...lag,
      ...generatorVerdict({ scheduled: sum((s) => s.scheduled), dropped: sum((s) => s.dropped), lagP99Ms: lag.lagP99Ms, busiestThread }),
    };
    this.health.seconds += 1;
    if (health.limitedBy) this.health.limitedSeconds += 1;
    this.health.busyCores = Math.max(this.health.busyCores, health.busyCores);
    this.health.busiestThread = Math.max(this.health.busiestThread, health.busiestThread);
    this.live.scheduled += sum((s) => s.scheduled);
    this.live.completed += sum((s) => s.completed);
    this.live.dropped += sum((s) => s.dropped);
    for (const e of Object.keys(errors) as (keyof TrafficErrors)[]) this.live.errors[e] += errors[e];
    const rate = (n: number) => round(perSecond(n, intervalMs));
    this.last = {
      running: true,
      profile: this.options.spec.profile.kind,
      targetRps: round(sum((s) => s.targetRps)),
      offeredRps: rate(sum((s) => s.scheduled)),
      achievedRps: rate(sum((s) => s.completed)),
      ...figures,
      errorsPerSec: {
        timeout: rate(errors.timeout),
        refused: rate(errors.refused),
        http4xx: rate(errors.http4xx),
        http5xx: rate(errors.http5xx),
      },
      droppedPerSec: rate(sum((s) => s.dropped)),
      health,
    };
    this.options.onSecond?.(this.last);
  }

  private summarise(
    t: {
      elapsedMs: number;
      scheduled: number;
      completed: number;
      dropped: number;
      errors: TrafficErrors;
      p50: number | null;
      p95: number | null;
      p99: number | null;
      lag: Pick<GeneratorHealth, 'lagP99Ms' | 'lagMaxMs'>;
    },
    running: boolean,
  ): TrafficSummary {
    // The run was limited by the generator when it was overall (late or dropping over the whole
    // run), or for a tenth of its seconds: one late second on a shared machine is not the run's limit.
    const verdict = generatorVerdict({ scheduled: t.scheduled, dropped: t.dropped, lagP99Ms: t.lag.lagP99Ms, busiestThread: 0 });
    const { seconds, limitedSeconds } = this.health;
    const limitReason =
      verdict.limitReason ?? (limitedSeconds >= Math.max(2, seconds / 10) ? `the limit for ${limitedSeconds} of ${seconds} s` : null);
    const health = {
      threads: this.workers.length,
      busyCores: this.health.busyCores,
      busiestThread: this.health.busiestThread,
      ...t.lag,
      limitedBy: limitReason ? ('generator' as const) : null,
      limitReason,
      limitedSeconds,
    };
    return {
      running,
      profile: this.options.spec.profile.kind,
      durationS: round(t.elapsedMs / 1000),
      offeredRps: round(perSecond(t.scheduled, t.elapsedMs)),
      achievedRps: round(perSecond(t.completed, t.elapsedMs)),
      requests: t.completed + t.errors.timeout + t.errors.refused,
      p50Ms: t.p50,
      p95Ms: t.p95,
      p99Ms: t.p99,
      errors: t.errors,
      droppedByClient: t.dropped,
      acknowledgedWrites: this.acks.length + this.acksNotKept,
      health,
    };
  }
}
