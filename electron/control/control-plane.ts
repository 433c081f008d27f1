import { EventEmitter } from 'node:events';
import {
  COMMANDS,
  isCommandName,
  withDefaults,
  type CommandName,
  type CommandPayload,
  type CommandResults,
  type Envelope,
  type Events,
  type EventName,
  type StackSpecInput,
  type StackState,
  type StackSpec,
  type StackStatus,
  type TimelineEvent,
} from '../contract.js';
import type { OnProgress, Runtime, StackEndpoints } from './runtimes/runtime.js';
import { hasClusterAutoscaling, RUNTIME_DRIVERS, type ClusterAutoscaling } from './runtimes/registry.js';
import { scenarioCommands } from './scenarios/scenario-commands.js';
import { ScenarioPlayer } from './scenarios/scenario-player.js';
import { BaselineStore } from './capacity/baselines.js';
import { labCommands, type StopDeps } from './lab-reset.js';
import { SafetyGuard } from './guard.js';
import { capacityCommands, CapacityDesk } from './capacity/capacity-desk.js';
import { stackDir } from './runtimes/local/stack-dir.js';
import { adoptOrphans, clearStopRequested, markStopRequested, type Adoption } from './adoption.js';
import { InFlightLimit } from './in-flight-limit.js';
import { Autoscaler } from './autoscaler/autoscaler.js';
import { Chaos } from './chaos/chaos.js';
import { runtimeSource } from './telemetry/runtime-source.js';
import { Telemetry } from './telemetry/telemetry.js';
import { TrafficDesk } from './traffic/traffic-desk.js';
import { Tracing } from './traces/tracing.js';
import { ContractError, StackStateError } from './errors.js';
import { validate, type ClientContext, type CommandHandlers } from './command-kit.js';
import { instanceCommands } from './instance-commands.js';
import { RuntimeSet } from './runtime-set.js';
import type { ControlPlaneOptions } from './options.js';
import { trafficCommands } from './traffic/traffic-commands.js';
import { autoscalerCommands } from './autoscaler/autoscaler-commands.js';
import { chaosCommands } from './chaos/chaos-commands.js';

export { ContractError, StackStateError };
export type { ClientContext, ControlPlaneOptions };

/**
 * The control plane: owns the stack on its runtime, the telemetry, traffic, chaos, the
 * autoscaler, scenarios and the capacity search. Clients talk to it only through {@link handle}, with contract
 * commands, and listen to its events. Mutating commands run one at a time.
 */
export class ControlPlane {
  readonly telemetry = new Telemetry();
  private readonly runtimes: RuntimeSet;
  /** The runtime of the running stack (the first driver's, local, when none runs). */
  private active: Runtime;
  private readonly emitter = new EventEmitter();
  private state: StackState = 'stopped';
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** The traffic runs and the writes they saw acknowledged. */
  private readonly traffic = new TrafficDesk((event) => this.telemetry.record(event));
  /** The OTLP receiver and the traces it keeps; replicas send their spans to it (or to the user's own collector). */
  readonly tracing = new Tracing({
    onError: (err) => this.telemetry.record({ kind: 'lifecycle', level: 'warn', message: `tracing is off: ${err.message}` }),
  });
  /** Runs a command through {@link handle}, as a client would, and throws its error. */
  private readonly runAsClient = async <C extends CommandName>(command: C, payload: CommandPayload<C>): Promise<CommandResults[C]> => {
    const result = await this.handle(command, payload);
    if (!result.ok) throw Object.assign(new Error(result.error.message), { name: result.error.name });
    return result.value as CommandResults[C];
  };
  /** The replica counts the last `stack:up` asked for: what `lab:reset` restores. */
  private upReplicas: StackSpec['replicas'] | undefined;
  /** The scenario player; its steps run as commands through {@link handle}. */
  private readonly scenarios: ScenarioPlayer = new ScenarioPlayer({
    // Steps go through the same door as a client's commands: validated, queued, recorded.
    run: (command, payload) => this.runAsClient(command, payload),
    onSample: (listener) => this.telemetry.onSample(listener),
    record: (event) => this.telemetry.record(event),
    onStatus: (status) => this.emit('scenario', status),
    runningSpec: () => this.runningSpec(),
  });
  private readonly baselines = new BaselineStore(() => this.options.home);
  /** The capacity search; its steps are traffic runs of {@link traffic}, its scaling queued like a user's. */
  private readonly capacity: CapacityDesk = new CapacityDesk({
    traffic: this.traffic,
    balancer: () => {
      const spec = this.runningSpec();
      return spec ? `http://127.0.0.1:${spec.port}` : undefined;
    },
    apiReplicas: () => this.runningSpec()?.replicas.api,
    autoscalerOn: () => !this.clusterAutoscaling() && this.autoscaler.status().api?.config.enabled === true,
    scale: (replicas) =>
      this.serial(async () => {
        if (this.state === 'running') await this.active.scale('api', replicas, this.progress('stack:scale'));
      }),
    onSample: (listener) => this.telemetry.onSample(listener),
    record: (event) => this.telemetry.record(event),
    onStatus: (status) => this.emit('capacity', status),
    baselines: this.baselines,
    context: () => {
      const spec = this.runningSpec();
      return { stack: spec?.name ?? null, apiCpu: spec?.resources.api.cpu ?? null };
    },
  });
  /** What Reset lab and the safety guard stop: the capacity search, the scenario, traffic, chaos. */
  private readonly load: StopDeps = {
    run: this.runAsClient,
    capacityRunning: () => this.capacity.running,
    trafficRunning: () => this.traffic.running,
  };
  /** Stops traffic and chaos when errors pass the trainer's limit; it watches every sample. */
  private readonly guard = new SafetyGuard({
    ...this.load,
    record: (event) => this.telemetry.record(event),
    onStatus: (status) => this.emit('guard', status),
  });
  private readonly chaos: Chaos = new Chaos({
    runtime: () => (this.state === 'running' ? this.active : undefined),
    record: (event) => this.telemetry.record(event),
    replicaUrl: () => (this.state === 'running' ? this.endpoints?.replicaUrl : undefined),
  });
  private readonly autoscaler: Autoscaler = new Autoscaler({
    latest: () => this.telemetry.latest(),
    running: () => this.state === 'running',
    current: (service) => this.active.currentSpec()?.replicas[service] ?? 0,
    // Queued like a user's scale, so it never interleaves with one, a down or an up.
    scale: (service, replicas) =>
      this.serial(async () => {
        if (this.state === 'running') await this.active.scale(service, replicas, this.progress('stack:scale'));
      }),
    record: (event) => this.telemetry.record(event),
    onDecision: (decision) => this.emit('decision', decision),
  });
  /** Where the running stack's stores answer: the database for `writes:verify`, the replica for chaos. */
  private endpoints: StackEndpoints | undefined;
  /** A few MB of JSON each: a burst of them must not stall the event loop the balancer shares. */
  private readonly historyLimit = new InFlightLimit({ what: 'telemetry:history', max: 4 });

  constructor(private readonly options: ControlPlaneOptions) {
    this.emitter.setMaxListeners(0);
    const driverOptions = {
      home: options.home,
      kubeconfig: options.kubeconfig,
      onEvent: (event: Omit<TimelineEvent, 't'>) => this.telemetry.record(event),
    };
    this.runtimes = new RuntimeSet(options.drivers ?? RUNTIME_DRIVERS, driverOptions);
    this.active = this.runtimes.first;
    this.telemetry.onSample((sample) => {
      this.emit('sample', sample);
      this.guard.observe(sample);
    });
    this.telemetry.onEvent((event) => this.emit('event', event));
  }

  set dashboardUrl(url: string) {
    this.options.dashboardUrl = url;
  }

  /** Subscribes to an event stream; returns unsubscribe. */
  on<E extends EventName>(event: E, listener: (data: Events[E]) => void): () => void {
    this.emitter.on(event, listener);
    return () => this.emitter.off(event, listener);
  }

  /**
   * Runs one contract command. Never throws: a bad command, a bad payload or a failure comes back
   * as `{ ok: false, error }` naming what happened and what to do.
   */
  async handle(command: string, payload: unknown, client?: ClientContext): Promise<Envelope<unknown>> {
    try {
      if (!isCommandName(command))
        throw new ContractError(`unknown command "${String(command).slice(0, 64)}"; known: ${Object.keys(COMMANDS).join(', ')}`);
      const run = this.commands[command] as (payload: unknown, client?: ClientContext) => Promise<unknown>;
      const value = await run(validate(command, payload), client);
      return { ok: true, value };
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      return { ok: false, error: { name: error.name, message: error.message } };
    }
  }

  /** Looks for a stack a killed control plane left behind and takes it over (see adoption.ts). */
  adoptOrphans(): Promise<Adoption | undefined> {
    return adoptOrphans({
      home: this.options.home,
      drivers: this.runtimes.drivers,
      handle: (command, payload) => this.handle(command, payload),
      record: (event) => this.telemetry.record(event),
    });
  }

  /** Stops the stack (data kept) and the telemetry. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue.catch(() => undefined);
    this.autoscaler.close();
    this.scenarios.close();
    this.capacity.abortNow();
    this.chaos.reset();
    const steps = [
      () => this.traffic.stop().then(() => undefined),
      () => (this.state === 'stopped' ? Promise.resolve() : this.active.down({ keepData: true })),
      () => this.telemetry.close(),
      () => this.tracing.close(),
    ];
    for (const step of steps) await step().catch(() => undefined);
    this.emitter.removeAllListeners();
  }

  private emit<E extends EventName>(event: E, data: Events[E]): void {
    this.emitter.emit(event, data);
  }

  private progress(command: CommandName): OnProgress {
    return (message, fraction) => this.emit('progress', { t: Date.now(), command, message, fraction });
  }

  /** Mutating commands queue behind each other, so two clients never interleave a scale and a down. */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private readonly commands: CommandHandlers<CommandName> = {
    'runtime:probe': () => this.runtimes.probe(),
    'stack:up': (payload) => this.serial(() => this.up(payload)),
    'stack:down': (payload) =>
      this.serial(async () => {
        await this.down(payload.purge ?? false, payload.name);
        return null;
      }),
    'stack:status': async () => this.status(),
    'stack:scale': (payload) =>
      this.serial(async () => {
        if (this.state !== 'running') throw new StackStateError('no stack is running; start one with `scalelab up`');
        const onProgress = this.progress('stack:scale');
        onProgress(`scaling ${payload.service} to ${payload.replicas}`);
        await this.active.scale(payload.service, payload.replicas, onProgress);
        return this.status();
      }),
    ...instanceCommands(
      () => this.active,
      () => this.state === 'running',
      (event) => this.telemetry.record(event),
    ),
    'telemetry:history': (payload) => this.historyLimit.run(() => this.telemetry.history(payload.seconds ?? 300)),
    'events:list': async (payload) => this.telemetry.events(payload.limit ?? 500),
    ...autoscalerCommands(this.autoscaler, () => this.clusterAutoscaling()),
    ...chaosCommands(this.chaos, () => this.state === 'running'),
    ...trafficCommands({
      desk: this.traffic,
      running: () => this.runningSpec(),
      databaseUrl: () => this.endpoints?.databaseUrl,
      runtimeName: () => this.active.name,
      capacityRunning: () => this.capacity.running,
      progress: (command) => this.progress(command),
      serial: (work) => this.serial(work),
    }),
    ...this.tracing.commands(),
    ...scenarioCommands({
      player: this.scenarios,
      telemetry: this.telemetry,
      spec: () => this.active.currentSpec(),
      capacity: () => this.capacity.status(),
    }),
    ...capacityCommands(this.capacity, this.baselines),
    ...this.guard.commands(),
    ...labCommands({
      ...this.load,
      running: () => {
        const spec = this.runningSpec();
        return spec ? { spec, upReplicas: this.upReplicas ?? spec.replicas } : undefined;
      },
      record: (event) => this.telemetry.record(event),
      stopped: () => this.state === 'stopped',
      shutdownHook: () => this.options.onShutdownRequest,
    }),
  };

  private async up(input: StackSpecInput): Promise<StackStatus> {
    const spec = withDefaults(input);
    if (this.state !== 'stopped' && this.active.name !== spec.runtime) {
      throw new StackStateError(
        `stack "${this.active.currentSpec()?.name}" runs on ${this.active.name}; stop it (scalelab down) before starting one on ${spec.runtime}`,
      );
    }
    if (this.state === 'stopped') {
      this.active = this.runtimes.get(spec.runtime);
    }
    const onProgress = this.progress('stack:up');
    const wasRunning = this.state === 'running';
    this.state = wasRunning ? 'running' : 'starting';
    const started = Date.now();
    try {
      const runtime = this.active;
      // Replicas learn the trace receiver's endpoint from their environment as they start.
      await this.tracing.ready;
      await clearStopRequested(stackDir(this.options.home, spec.name));
      const endpoints = await runtime.up(spec, onProgress);
      this.endpoints = endpoints;
      this.upReplicas = { ...spec.replicas };
      // Acknowledged writes belong to one stack's database.
      this.traffic.forStack(spec.name);
      this.state = 'running';
      if (!wasRunning) {
        this.telemetry.attach({
          stack: spec.name,
          ...runtimeSource(runtime, endpoints),
          generator: () => this.traffic.lastSecond(),
          generatorCounts: () => this.traffic.counts(),
          autoscaler: () =>
            hasClusterAutoscaling(runtime) ? { mode: 'hpa', services: runtime.autoscalerGauges() } : this.autoscaler.gauges(),
          chaos: () => this.chaos.status(),
          writes: () => this.traffic.writes(),
        });
        this.telemetry.record({
          kind: 'lifecycle',
          level: 'info',
          message: `stack "${spec.name}" is up on ${runtime.name} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
        });
      }
      // On the timeline too, so a run's report shows its limits never held.
      const notEnforced = runtime.cpuLimits?.()?.notEnforced;
      if (notEnforced) this.telemetry.record({ kind: 'lifecycle', level: 'warn', message: notEnforced });
      // `autoscaler: { enabled: true }` in the spec: the api's autoscaler with its defaults (cpu 50 %).
      if (!wasRunning && spec.autoscaler.enabled && !hasClusterAutoscaling(runtime)) this.autoscaler.configure({ service: 'api' });
      onProgress('every replica is ready', 1);
      return this.status();
    } catch (err) {
      if (!wasRunning) {
        this.state = 'stopping';
        await this.active.down({ keepData: true }).catch(() => undefined);
        this.state = 'stopped';
      }
      throw err;
    }
  }

  private async down(purge: boolean, name: string | undefined): Promise<void> {
    const onProgress = this.progress('stack:down');
    const running = this.active.currentSpec();
    if (running && name && name !== running.name) throw new StackStateError(`stack "${name}" is not the running one ("${running.name}")`);
    if (this.state !== 'stopped') {
      // Before anything can fail: a down that breaks half-way must not be undone by a later adoption.
      if (running) await markStopRequested(stackDir(this.options.home, running.name));
      this.scenarios.abort('the stack was stopped');
      this.capacity.abortNow();
      await this.traffic.stop();
      this.state = 'stopping';
      await this.telemetry.detach();
      this.autoscaler.reset();
      this.chaos.reset();
      try {
        await this.active.down({ keepData: !(purge && this.runtimes.purgesOnDown(this.active.name)) }, onProgress);
      } finally {
        this.state = 'stopped';
      }
      this.telemetry.record({ kind: 'lifecycle', level: 'info', message: `stack "${running?.name ?? name}" stopped` });
    }
    if (purge) {
      const stack = running?.name ?? name ?? 'default';
      await this.runtimes.purge(stack, stackDir(this.options.home, stack), onProgress);
      this.traffic.forStack(stack, true);
    }
    onProgress(purge ? 'stopped; data deleted' : 'stopped; data kept', 1);
  }

  /** The running stack's spec; undefined while none runs. */
  private runningSpec(): StackSpec | undefined {
    return this.state === 'running' ? this.active.currentSpec() : undefined;
  }

  /** The running stack's cluster autoscaling (its runtime scales it), if it has one. */
  private clusterAutoscaling(): ClusterAutoscaling | undefined {
    return this.state === 'running' && hasClusterAutoscaling(this.active) ? this.active : undefined;
  }

  private status(): StackStatus {
    const spec = this.active.currentSpec() ?? null;
    return {
      state: this.state,
      spec,
      runtime: spec?.runtime ?? null,
      instances: this.active.currentInstances(),
      endpoints: spec
        ? { balancer: `http://127.0.0.1:${spec.port}`, dashboard: this.options.dashboardUrl ?? '', traces: this.tracing.endpoint }
        : null,
      sample: this.telemetry.latest(),
      cpuLimits: spec ? (this.active.cpuLimits?.() ?? null) : null,
    };
  }
}
