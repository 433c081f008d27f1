/**
 * The control plane's capacity search: at most one at a time, run in the background with the
 * stack's own traffic generator, streamed as `capacity` events after every step; a stop ends it
 * with what was found so far. Afterwards the api is scaled back to where the search found it.
 */
import {
  DEFAULT_SLO,
  type CapacityBaseline,
  type CapacityBaselineInfo,
  type CapacityRun,
  type CapacityStatus,
} from '../../capacity-spec.js';
import type { CommandPayload, CommandResults, Sample, TimelineEvent, TrafficSecond, TrafficSpec, TrafficSummary } from '../../contract.js';
import { StackStateError } from '../errors.js';
import { loadKeys } from '../traffic/keyspace.js';
import type { TrafficDesk } from '../traffic/traffic-desk.js';
import type { BaselineStore } from './baselines.js';
import { idleStatus, runCurve } from './curve.js';
import { limitLabel } from './knee.js';
import { trafficProbeRunner, trafficStepRunner, type RunTraffic } from './step-runner.js';

/** What the desk needs from the control plane. */
export interface CapacityDeskDeps {
  /** The running stack's api replica count; undefined when no stack runs. */
  apiReplicas: () => number | undefined;
  /** The stack's balancer (`http://127.0.0.1:8080`); undefined when no stack runs. */
  balancer: () => string | undefined;
  /** Whether the api autoscaler is on (it would change the replica count under the search). */
  autoscalerOn: () => boolean;
  /** The control plane's traffic: each step is one of its runs, so `traffic` and the search never overlap. */
  traffic: TrafficDesk;
  /** Sets the api replica count through the control plane's queue; resolves once they are ready. */
  scale: (replicas: number) => Promise<void>;
  onSample: (listener: (sample: Sample) => void) => () => void;
  record: (event: Omit<TimelineEvent, 't'>) => void;
  onStatus: (status: CapacityStatus) => void;
  /** The saved baselines (`capacity:save`, `capacity:run`'s `compare`). */
  baselines: BaselineStore;
  /** The running stack's name and api cpu limit, kept with a search so its baseline says what it measured. */
  context: () => { stack: string | null; apiCpu: string | null };
  /** Quiet seconds before each step. @defaultValue 1 */
  settleS?: number;
}

const DEFAULT_STEP_S = 10;

export class CapacityDesk {
  private current: CapacityStatus = idleStatus(DEFAULT_SLO, DEFAULT_STEP_S);
  private abort: AbortController | undefined;
  private done: Promise<CapacityStatus> | undefined;
  private keys: number[] | undefined;
  /** What the last search ran against, for its baseline. */
  private ranOn: { stack: string | null; apiCpu: string | null } = { stack: null, apiCpu: null };

  constructor(private readonly deps: CapacityDeskDeps) {}

  /** Whether a search is under way. */
  get running(): boolean {
    return this.done !== undefined;
  }

  status(): CapacityStatus {
    return structuredClone(this.current);
  }

  /** Saves the last finished search as a named baseline. */
  async save(name: string): Promise<CapacityBaselineInfo> {
    if (this.done) throw new StackStateError('a capacity search is running; save it once it has finished (or stop it first)');
    const info = await this.deps.baselines.save(name, this.current, this.ranOn);
    this.deps.record({
      kind: 'traffic',
      level: 'info',
      message: `capacity baseline "${name}" saved: ${info.points.map((p) => `api ${p.replicas} ${p.capacityRps ?? '–'} req/s`).join(', ')}`,
    });
    return info;
  }

  /** Starts a search and returns its first status at once; `capacity` events follow. `compare` names a baseline to read first. */
  async runComparing(request: CapacityRun): Promise<CapacityStatus> {
    const baseline = request.compare ? await this.deps.baselines.load(request.compare) : null;
    return this.run(request, baseline);
  }

  /** Starts a search and returns its first status at once; `capacity` events follow. */
  run(request: CapacityRun, baseline: CapacityBaseline | null = null): CapacityStatus {
    if (this.done)
      throw new StackStateError('a capacity search is already running; stop it first (capacity:stop, or Ctrl-C in `scalelab capacity`)');
    const running = this.deps.apiReplicas();
    if (running === undefined) throw new StackStateError('no stack is running; start one first (scalelab up)');
    if (this.deps.traffic.running)
      throw new StackStateError(
        'traffic is running; stop it first (traffic:stop, or Ctrl-C in `scalelab traffic`): the search needs the stack to itself',
      );
    if (this.deps.autoscalerOn())
      throw new StackStateError(
        'the api autoscaler is on and would change the replica count under the search; turn it off first (scalelab autoscale off api)',
      );
    const slo = { ...DEFAULT_SLO, ...request.slo };
    const stepS = request.stepS ?? DEFAULT_STEP_S;
    const replicas = request.replicas ?? [running];
    const abort = new AbortController();
    this.abort = abort;
    this.ranOn = this.deps.context();
    const run: RunTraffic = async (spec, signal, onSecond) => {
      const { finished } = await this.startTraffic(spec, onSecond);
      const stop = () => void this.deps.traffic.stop();
      signal.addEventListener('abort', stop, { once: true });
      try {
        return await finished;
      } finally {
        signal.removeEventListener('abort', stop);
      }
    };
    const runStep = trafficStepRunner({
      run,
      mix: request.mix,
      keys: request.keys,
      onSample: this.deps.onSample,
      settleS: this.deps.settleS,
      slo,
    });
    const probe = trafficProbeRunner({ run, mix: request.mix, keys: request.keys, settleS: this.deps.settleS });
    this.deps.record({
      kind: 'traffic',
      level: 'info',
      message: `capacity search started at api ${replicas.join(', ')}: p99 < ${slo.p99Ms} ms, errors < ${slo.errorPercent} %, ${stepS} s steps`,
    });
    this.current = { ...idleStatus(slo, stepS, replicas), state: 'running', message: 'starting', startedAt: Date.now(), baseline };
    let announced = 0;
    this.done = runCurve({
      replicas,
      slo,
      stepS,
      scale: this.deps.scale,
      runStep,
      probe,
      search: { minRps: request.minRps, maxRps: request.maxRps },
      signal: abort.signal,
      onStatus: (status) => {
        // The search's end is announced once the api is back at its count (see ended).
        this.current =
          status.state === 'running'
            ? { ...status, baseline }
            : { ...status, baseline, state: 'running', endedAt: null, message: `${status.message}; scaling the api back to ${running}` };
        // Each replica count's capacity on the shared timeline, as it is found.
        for (const result of status.results.slice(announced)) {
          this.deps.record({
            kind: 'traffic',
            level: 'info',
            message: `capacity at api ${result.replicas}: ${result.capacityRps ?? '–'} req/s (${result.outcome}${result.limit ? `; limit: ${limitLabel(result.limit)}` : ''})`,
          });
        }
        announced = status.results.length;
        this.deps.onStatus(this.status());
      },
    }).then(async (status) => {
      await this.restore(running);
      return { ...status, baseline };
    });
    void this.done.then((status) => this.ended(status));
    return this.status();
  }

  /** Stops the search (the step under way ends now) and resolves with what was found so far. */
  async stop(): Promise<CapacityStatus> {
    if (!this.done) return this.status();
    this.abort?.abort();
    return this.done;
  }

  /** One step's traffic: starts it, and resolves once it is sending (wrapped: an async function would wait for `finished`). */
  private async startTraffic(
    spec: TrafficSpec,
    onSecond?: (second: TrafficSecond) => void,
  ): Promise<{ finished: Promise<TrafficSummary> }> {
    const target = this.deps.balancer();
    if (!target) throw new StackStateError('the stack stopped during the capacity search');
    // The user ids are read once per search: through a throttled replica that takes most of a second.
    this.keys ??= await loadKeys(target);
    await this.deps.traffic.start(spec, target, () => undefined, { onSecond, keys: this.keys });
    const finished = this.deps.traffic.finished();
    if (finished) return { finished };
    // Already over (a very short step): its summary is the last one.
    const last = await this.deps.traffic.stop();
    if (!last) throw new StackStateError("the step's traffic ended without a summary");
    return { finished: Promise.resolve(last) };
  }

  /** Ends the search without waiting for it (the stack is going down). */
  abortNow(): void {
    this.abort?.abort();
  }

  private async restore(replicas: number): Promise<void> {
    if (this.deps.apiReplicas() === undefined || this.deps.apiReplicas() === replicas) return;
    await this.deps.scale(replicas).catch((err: Error) =>
      this.deps.record({
        kind: 'scaling',
        level: 'warn',
        message: `capacity search: could not scale the api back to ${replicas}: ${err.message}`,
      }),
    );
  }

  private ended(status: CapacityStatus): void {
    this.done = undefined;
    this.keys = undefined;
    this.abort = undefined;
    const steps = status.results.reduce((n, r) => n + r.steps.length, 0);
    const took =
      status.endedAt !== null && status.startedAt !== null ? ` in ${Math.round((status.endedAt - status.startedAt) / 1000)} s` : '';
    const summary = `${status.state}${took}: ${status.results.length} of ${status.replicas.length} replica counts, ${steps} steps`;
    this.current =
      status.state === 'failed'
        ? status
        : { ...status, message: status.state === 'stopped' ? `${summary}; these are the capacities found so far` : summary };
    status = this.current;
    const fit = status.fit
      ? `; USL λ ${Math.round(status.fit.lambda)} req/s, σ ${status.fit.sigma.toFixed(3)}, κ ${status.fit.kappa.toFixed(4)}, R² ${status.fit.r2.toFixed(3)}`
      : '';
    const level = status.state === 'failed' ? 'error' : 'info';
    this.deps.record({
      kind: 'traffic',
      level,
      message: `capacity search ${status.state}${status.error ? `: ${status.error}` : ''}${fit}`,
    });
    this.deps.onStatus(this.status());
  }
}

type CapacityCommand = 'capacity:run' | 'capacity:stop' | 'capacity:status' | 'capacity:save' | 'capacity:baselines';

/** The capacity commands over a desk, spread into the control plane's handlers. */
export function capacityCommands(
  desk: CapacityDesk,
  baselines: BaselineStore,
): { [C in CapacityCommand]: (payload: CommandPayload<C>) => Promise<CommandResults[C]> } {
  return {
    'capacity:run': (payload) => desk.runComparing(payload),
    'capacity:stop': () => desk.stop(),
    'capacity:status': async () => desk.status(),
    'capacity:save': (payload) => desk.save(payload.name),
    'capacity:baselines': () => baselines.list(),
  };
}
