import {
  resolveAssertion,
  scenarioActive,
  stepKind,
  type Assertion,
  type CommandName,
  type CommandPayload,
  type CommandResults,
  type Sample,
  type Scenario,
  type ScenarioStatus,
  type ScenarioStep,
  type StackSpec,
  type StepStatus,
  type TimelineEvent,
} from '../../contract.js';
import { evaluateAssertion, type ScenarioPoint } from './assertions.js';
import { NamedError } from '../../../backend/named-error.js';

/** The player cannot do that now (nothing loaded, already playing, …). */
export class ScenarioStateError extends NamedError {}

/** Options of {@link ScenarioPlayer}. */
export interface ScenarioPlayerOptions {
  /** Runs a contract command as a client would (validated, queued); throws its error. */
  run: <C extends CommandName>(command: C, payload: CommandPayload<C>) => Promise<CommandResults[C]>;
  /** Subscribes to the telemetry's samples; returns unsubscribe. */
  onSample: (listener: (sample: Sample) => void) => () => void;
  record: (event: Omit<TimelineEvent, 't'>) => void;
  /** Every change of the status (steps, assertions, state) and every second while playing. */
  onStatus: (status: ScenarioStatus) => void;
  /** The running stack's spec, if one runs. */
  runningSpec: () => StackSpec | undefined;
  /** Clock tick. @defaultValue 250 */
  tickMs?: number;
}

type Loaded = { id: string; scenario: Scenario; assertions: Assertion[] };

/** What a step does, for the player and the timeline, when it has no label. */
export function describeStep(step: ScenarioStep): string {
  if ('traffic' in step) {
    const p = step.traffic.profile as { kind: string; rps?: number; from?: number; to?: number; base?: number; peak?: number };
    const rate =
      p.rps !== undefined
        ? ` ${p.rps} req/s`
        : p.peak !== undefined
          ? ` ${p.base} → ${p.peak} req/s`
          : p.from !== undefined
            ? ` ${p.from} → ${p.to} req/s`
            : '';
    return `traffic ${p.kind}${rate}${step.traffic.durationS ? ` for ${step.traffic.durationS} s` : ''}`;
  }
  if ('trafficUpdate' in step) return `traffic → ${step.trafficUpdate.rps !== undefined ? `${step.trafficUpdate.rps} req/s` : 'new mix'}`;
  if ('trafficStop' in step) return 'stop the traffic';
  if ('chaos' in step) {
    const c = step.chaos as { action: string; target?: string; forSeconds?: number; enabled?: boolean };
    return `chaos ${c.action}${c.target ? ` ${c.target}` : ''}${c.forSeconds !== undefined ? ` for ${c.forSeconds} s` : ''}${c.enabled !== undefined ? (c.enabled ? ' on' : ' off') : ''}`;
  }
  if ('chaosClear' in step) return 'clear every fault';
  if ('scale' in step) return `scale ${step.scale.service} to ${step.scale.replicas}`;
  if ('autoscaler' in step) return `autoscaler ${step.autoscaler.service} ${step.autoscaler.enabled === false ? 'off' : 'on'}`;
  if ('capacity' in step) return `capacity search${step.capacity.replicas ? ` at api ${step.capacity.replicas.join(', ')}` : ''}`;
  return step.note;
}

/**
 * Plays a scenario: starts its stack, runs each step when the scenario's clock reaches it (the
 * clock stops while paused), keeps every second's sample, judges the assertions live and at the
 * end, where the traffic stops, faults are cleared and the lost-write checker runs.
 */
export class ScenarioPlayer {
  private loaded: Loaded | undefined;
  private status: ScenarioStatus = ScenarioPlayer.empty();
  private points: ScenarioPoint[] = [];
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  /** Wall-clock ms when the clock last resumed, and the scenario seconds before that. */
  private resumedAt = 0;
  private elapsedBefore = 0;
  private next = 0;
  private stepping: Promise<void> = Promise.resolve();
  private lastEmit = 0;
  private generation = 0;
  private lostWrites: number | { unavailable: string } | undefined;

  constructor(private readonly options: ScenarioPlayerOptions) {}

  private static empty(): ScenarioStatus {
    return {
      state: 'idle',
      id: null,
      name: null,
      description: null,
      durationS: 0,
      elapsedS: 0,
      steps: [],
      assertions: [],
      startedAt: null,
      endedAt: null,
      spec: null,
      error: null,
    };
  }

  current(): ScenarioStatus {
    return this.status;
  }

  /** Puts a scenario in the player (stopping one in progress), ready to play. */
  async load(id: string, scenario: Scenario, extra: string[] = []): Promise<ScenarioStatus> {
    if (this.active()) await this.reset();
    const assertions = [...(scenario.assertions ?? []), ...extra].map(resolveAssertion);
    if (scenario.checkWrites !== false && !assertions.some((a) => a.metric === 'lost_writes'))
      assertions.push(resolveAssertion('lost_writes==0'));
    this.loaded = { id, scenario, assertions };
    this.rewind();
    return this.status;
  }

  private active(): boolean {
    return scenarioActive(this.status.state);
  }

  private rewind(): void {
    const { id, scenario, assertions } = this.loaded!;
    this.generation++;
    this.stopClock();
    this.points = [];
    this.next = 0;
    this.elapsedBefore = 0;
    this.lostWrites = undefined;
    const steps: StepStatus[] = scenario.steps.map((step, index) => ({
      index,
      at: step.at,
      kind: stepKind(step),
      text: step.label ?? describeStep(step),
      state: 'pending',
    }));
    this.status = {
      ...ScenarioPlayer.empty(),
      id,
      name: scenario.name,
      description: scenario.description ?? null,
      durationS: scenario.durationS,
      steps,
      assertions: [],
    };
    this.status.assertions = this.judge(false);
    this.emit(true);
  }

  /** Plays from the start, or resumes a paused scenario. */
  async play(): Promise<ScenarioStatus> {
    if (!this.loaded) throw new ScenarioStateError('no scenario is loaded; load a built-in or a file first');
    if (this.status.state === 'paused') {
      this.startClock();
      this.setState('running');
      return this.status;
    }
    if (this.active()) throw new ScenarioStateError(`the scenario is already ${this.status.state}`);
    if (this.status.state !== 'idle') this.rewind();
    const generation = this.generation;
    const { scenario } = this.loaded;
    this.setState('starting');
    try {
      const running = this.options.runningSpec();
      if (scenario.stack && running) {
        // The running stack stays where and what it is; the scenario sets its replicas and cache.
        const { name, runtime, port, images, docker, kubernetes } = running;
        await this.options.run('stack:up', {
          ...scenario.stack,
          name,
          runtime,
          port,
          images,
          docker,
          kubernetes: { context: kubernetes.context },
        });
      } else if (scenario.stack || !running) await this.options.run('stack:up', scenario.stack ?? {});
    } catch (err) {
      if (generation === this.generation) this.finish('aborted', `the stack did not start: ${(err as Error).message}`);
      return this.status;
    }
    if (generation !== this.generation) return this.status;
    this.status.spec = this.options.runningSpec() ?? null;
    this.status.startedAt = Date.now();
    this.unsubscribe = this.options.onSample((sample) => {
      if (this.status.state === 'running' || this.status.state === 'paused') this.points.push({ at: this.elapsed(), sample });
    });
    this.options.record({
      kind: 'scenario',
      level: 'info',
      message: `scenario "${scenario.name}" started (${scenario.durationS} s, ${scenario.steps.length} steps)`,
    });
    this.startClock();
    this.setState('running');
    return this.status;
  }

  /** Stops the clock; the stack and its traffic keep running. */
  pause(): ScenarioStatus {
    if (this.status.state !== 'running') throw new ScenarioStateError(`only a running scenario can pause (it is ${this.status.state})`);
    this.elapsedBefore = this.elapsed();
    this.stopClock(false);
    this.setState('paused');
    this.options.record({ kind: 'scenario', level: 'info', message: `scenario paused at ${Math.round(this.elapsedBefore)} s` });
    return this.status;
  }

  /** Runs the next step now; a scenario not yet started starts paused first. */
  async step(): Promise<ScenarioStatus> {
    if (!this.loaded) throw new ScenarioStateError('no scenario is loaded');
    if (
      this.status.state === 'idle' ||
      this.status.state === 'passed' ||
      this.status.state === 'failed' ||
      this.status.state === 'aborted'
    ) {
      await this.play();
      if ((this.status.state as ScenarioStatus['state']) === 'running') this.pause();
    }
    if (this.next >= this.loaded.scenario.steps.length) throw new ScenarioStateError('every step has run; play to the end, or reset');
    // The clock jumps to the step, so later steps keep their spacing.
    const at = this.loaded.scenario.steps[this.next]!.at;
    if (this.status.state === 'paused' && at > this.elapsedBefore) this.elapsedBefore = at;
    await this.runSteps(at);
    this.emit(true);
    return this.status;
  }

  /** Stops the traffic, clears faults and puts the scenario back at its start. */
  async reset(): Promise<ScenarioStatus> {
    if (!this.loaded) throw new ScenarioStateError('no scenario is loaded');
    const wasActive = this.active();
    this.generation++;
    this.stopClock();
    if (wasActive) await this.cleanUp();
    this.rewind();
    return this.status;
  }

  /** Ends a scenario in progress as aborted (its stack was stopped under it). */
  abort(reason: string): void {
    if (!this.active()) return;
    this.generation++;
    this.finish('aborted', reason);
  }

  /** Stops without cleaning up the stack (the control plane is closing). Safe to call twice. */
  close(): void {
    this.generation++;
    this.stopClock();
  }

  private elapsed(): number {
    return this.status.state === 'running' ? this.elapsedBefore + (Date.now() - this.resumedAt) / 1000 : this.elapsedBefore;
  }

  private startClock(): void {
    this.resumedAt = Date.now();
    clearInterval(this.timer);
    this.timer = setInterval(() => void this.tick(), this.options.tickMs ?? 250);
    this.timer.unref();
  }

  private stopClock(unsubscribe = true): void {
    clearInterval(this.timer);
    this.timer = undefined;
    if (unsubscribe) {
      this.unsubscribe?.();
      this.unsubscribe = undefined;
    }
  }

  private async tick(): Promise<void> {
    if (this.status.state !== 'running') return;
    const elapsed = this.elapsed();
    this.status.elapsedS = Math.min(elapsed, this.status.durationS);
    void this.runSteps(elapsed);
    this.status.assertions = this.judge(false);
    this.emit(false);
    if (elapsed >= this.status.durationS) await this.end();
  }

  /** Runs, one after another, every step due by `elapsed`. */
  private runSteps(elapsed: number): Promise<void> {
    const { scenario } = this.loaded!;
    const generation = this.generation;
    while (this.next < scenario.steps.length && scenario.steps[this.next]!.at <= elapsed) {
      const index = this.next++;
      this.stepping = this.stepping.then(() => (generation === this.generation ? this.runStep(index) : undefined));
    }
    return this.stepping;
  }

  private async runStep(index: number): Promise<void> {
    const step = this.loaded!.scenario.steps[index]!;
    const status = this.status.steps[index]!;
    this.options.record({ kind: 'scenario', level: 'info', message: `step ${index + 1} at ${step.at} s: ${status.text}` });
    try {
      await this.perform(step);
      status.state = 'done';
    } catch (err) {
      status.state = 'failed';
      status.error = (err as Error).message;
      this.options.record({ kind: 'scenario', level: 'error', message: `step ${index + 1} failed: ${status.error}` });
    }
    this.emit(true);
  }

  private async perform(step: ScenarioStep): Promise<void> {
    const { run } = this.options;
    if ('traffic' in step) {
      await run('traffic:stop', {}).catch(() => undefined);
      await run('traffic:start', step.traffic);
    } else if ('trafficUpdate' in step) await run('traffic:update', step.trafficUpdate);
    else if ('trafficStop' in step) await run('traffic:stop', {});
    else if ('chaos' in step) await run('chaos:inject', step.chaos);
    else if ('chaosClear' in step) await run('chaos:clear', {});
    else if ('scale' in step) await run('stack:scale', step.scale);
    else if ('autoscaler' in step) await run('autoscaler:configure', step.autoscaler);
    else if ('capacity' in step) await run('capacity:run', step.capacity);
    else this.options.record({ kind: 'scenario', level: 'info', message: `note: ${step.note}` });
  }

  /** The end: the last steps, then traffic off, faults cleared, the writes read back, the verdict. */
  private async end(): Promise<void> {
    const generation = this.generation;
    this.stopClock(false);
    this.status.elapsedS = this.status.durationS;
    this.setState('verifying');
    await this.runSteps(this.status.durationS);
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await this.cleanUp();
    if (this.status.assertions.some((a) => a.assertion.metric === 'lost_writes')) {
      try {
        const check = await this.options.run('writes:verify', {});
        this.lostWrites = check.lost;
      } catch (err) {
        this.lostWrites = { unavailable: (err as Error).message };
      }
    }
    if (generation !== this.generation) return;
    this.status.assertions = this.judge(true);
    const failedSteps = this.status.steps.filter((s) => s.state === 'failed').length;
    const failed = this.status.assertions.filter((a) => a.state === 'failed').length;
    const error = failedSteps > 0 ? `${failedSteps} step${failedSteps === 1 ? '' : 's'} failed` : null;
    this.finish(failed === 0 && failedSteps === 0 ? 'passed' : 'failed', error);
  }

  private async cleanUp(): Promise<void> {
    await this.options.run('capacity:stop', {}).catch(() => undefined);
    await this.options.run('traffic:stop', {}).catch(() => undefined);
    await this.options.run('chaos:clear', {}).catch(() => undefined);
  }

  private finish(state: 'passed' | 'failed' | 'aborted', error: string | null): void {
    this.stopClock();
    this.status.endedAt = Date.now();
    this.status.error = error;
    const held = this.status.assertions.filter((a) => a.state === 'held').length;
    const name = this.loaded?.scenario.name ?? 'scenario';
    this.options.record({
      kind: 'scenario',
      level: state === 'passed' ? 'info' : 'error',
      message: `scenario "${name}" ${state}: ${held} of ${this.status.assertions.length} assertions held${error ? `; ${error}` : ''}`,
    });
    this.setState(state);
  }

  private judge(final: boolean): ReturnType<typeof evaluateAssertion>[] {
    const { durationS } = this.status;
    return (this.loaded?.assertions ?? []).map((a) =>
      evaluateAssertion(a, this.points, { durationS, elapsedS: this.elapsed(), final, lostWrites: this.lostWrites }),
    );
  }

  private setState(state: ScenarioStatus['state']): void {
    this.status.state = state;
    this.emit(true);
  }

  /** Emits on changes, and at most once a second from the clock. */
  private emit(force: boolean): void {
    const now = Date.now();
    if (!force && now - this.lastEmit < 1000) return;
    this.lastEmit = now;
    this.options.onStatus(structuredClone(this.status));
  }
}
