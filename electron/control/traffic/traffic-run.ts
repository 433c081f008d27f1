import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { TrafficErrors, TrafficSecond, TrafficSpec, TrafficSummary, TrafficUpdate } from '../../traffic-spec.js';
import type { FromGenerator, GeneratorInit, GeneratorSecond, GeneratorTotals, ToGenerator } from './generator-worker.js';

/** Options of {@link TrafficRun}. */
export interface TrafficRunOptions {
  /** Origin to load, e.g. the stack's balancer. Must be loopback. */
  target: string;
  spec: TrafficSpec;
  /** Existing user ids that reads pick from. */
  keys: number[];
  /** Called once a second with the last second's figures. */
  onSecond?: (second: TrafficSecond) => void;
}

/** The target is not on this machine: ScaleLab only loads loopback. */
export class TrafficTargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = this.constructor.name;
  }
}

const perSecond = (count: number, ms: number) => (ms > 0 ? (count * 1000) / ms : 0);
const round = (n: number) => Math.round(n * 10) / 10;

/** The generator's thread: compiled JavaScript from dist/, else the TypeScript through tsx. */
function startWorker(workerData: GeneratorInit): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./generator-worker.js', import.meta.url), { workerData });
  const source = new URL('./generator-worker.ts', import.meta.url).href;
  // A bootstrap that installs tsx's loader in the new thread, then loads the TypeScript worker.
  const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(source)}); })`;
  return new Worker(bootstrap, { eval: true, workerData });
}

/**
 * One traffic run in a worker thread, so the control plane and the UI stay responsive while it
 * sends thousands of requests a second. `done` resolves with the summary when the duration ends
 * or `stop()` is called.
 */
export class TrafficRun {
  readonly done: Promise<TrafficSummary>;
  private readonly worker: Worker;
  private readonly acks: number[] = [];
  private last: TrafficSecond | undefined;
  private summaryValue: TrafficSummary | undefined;
  private readyPromise: Promise<void>;
  private readonly startedAt = Date.now();
  private live = { scheduled: 0, completed: 0, dropped: 0, errors: { timeout: 0, refused: 0, http4xx: 0, http5xx: 0 } as TrafficErrors };

  constructor(private readonly options: TrafficRunOptions) {
    const host = new URL(options.target).hostname;
    if (host !== '127.0.0.1' && host !== 'localhost' && host !== '[::1]') throw new TrafficTargetError(`traffic goes only to this machine (127.0.0.1), not ${host}`);
    this.worker = startWorker({ target: options.target, spec: options.spec, keys: options.keys, runId: randomBytes(4).toString('hex') });
    let ready: () => void = () => undefined;
    this.readyPromise = new Promise((resolve) => (ready = resolve));
    this.done = new Promise((resolve, reject) => {
      this.worker.on('message', (message: FromGenerator) => {
        if (message.type === 'ready') ready();
        else if (message.type === 'second') this.onSecond(message.data);
        else if (message.type === 'done') {
          this.acks.push(...message.acks.slice(this.acks.length));
          this.summaryValue = this.summarise(message.data, false);
          if (this.last) this.last = { ...this.last, running: false };
          resolve(this.summaryValue);
        }
      });
      this.worker.once('error', reject);
      this.worker.once('exit', (code) => {
        if (!this.summaryValue) reject(new Error(`the traffic generator stopped unexpectedly (exit ${code})`));
      });
    });
    this.done.catch(() => undefined);
  }

  /** Resolves once the worker is sending. */
  async start(): Promise<void> {
    await Promise.race([this.readyPromise, this.done.then(() => undefined)]);
  }

  /** A new rate (the profile becomes constant at it), mix or key distribution, live. */
  update(update: TrafficUpdate): void {
    const message: ToGenerator = { type: 'update', profile: update.rps === undefined ? undefined : { kind: 'constant', rps: update.rps }, mix: update.mix, keys: update.keys };
    this.worker.postMessage(message);
  }

  /** Stops now (in-flight requests are abandoned); resolves with the summary. */
  async stop(): Promise<TrafficSummary> {
    if (!this.summaryValue) this.worker.postMessage({ type: 'stop' } satisfies ToGenerator);
    return this.done;
  }

  /** The run so far (or its final summary). */
  summary(): TrafficSummary {
    if (this.summaryValue) return this.summaryValue;
    const elapsedMs = Date.now() - this.startedAt;
    return this.summarise({ elapsedMs, ...this.live, p50: this.last?.p50 ?? null, p95: this.last?.p95 ?? null, p99: this.last?.p99 ?? null }, true);
  }

  /** The last second, for the Sample. */
  lastSecond(): TrafficSecond | undefined {
    return this.last;
  }

  /** Ids of every write the stack acknowledged with 201. */
  acknowledgedWrites(): readonly number[] {
    return this.acks;
  }

  private onSecond(s: GeneratorSecond): void {
    this.acks.push(...s.acks);
    this.live.scheduled += s.scheduled;
    this.live.completed += s.completed;
    this.live.dropped += s.dropped;
    for (const k of Object.keys(this.live.errors) as (keyof TrafficErrors)[]) this.live.errors[k] += s.errors[k];
    const errorsPerSec = { timeout: 0, refused: 0, http4xx: 0, http5xx: 0 };
    for (const k of Object.keys(errorsPerSec) as (keyof TrafficErrors)[]) errorsPerSec[k] = round(perSecond(s.errors[k], s.intervalMs));
    this.last = {
      running: true,
      profile: this.options.spec.profile.kind,
      targetRps: round(s.targetRps),
      offeredRps: round(perSecond(s.scheduled, s.intervalMs)),
      achievedRps: round(perSecond(s.completed, s.intervalMs)),
      p50: s.p50,
      p95: s.p95,
      p99: s.p99,
      errorsPerSec,
      droppedPerSec: round(perSecond(s.dropped, s.intervalMs)),
    };
    this.options.onSecond?.(this.last);
  }

  private summarise(t: GeneratorTotals, running: boolean): TrafficSummary {
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
      acknowledgedWrites: this.acks.length,
    };
  }
}
