import { EventEmitter } from 'node:events';
import { Value } from 'typebox/value';
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
  type Probe,
  type RuntimeName,
  type StackSpecInput,
  type StackState,
  type StackSpec,
  type StackStatus,
  type TimelineEvent,
} from '../contract.js';
import type { OnProgress, Runtime, StackEndpoints } from './runtimes/runtime.js';
import { hasClusterAutoscaling, RUNTIME_DRIVERS, type ClusterAutoscaling, type RuntimeDriver } from './runtimes/registry.js';
import { scenarioCommands } from './scenarios/scenario-commands.js';
import { ScenarioPlayer } from './scenarios/scenario-player.js';
import { BaselineStore } from './capacity/baselines.js';
import { resetLab, type StopDeps } from './lab-reset.js';
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

export { ContractError, StackStateError };

/** One connected client (a window, a browser tab, a CLI run). */
export interface ClientContext {
  /** Sends an event to this client only (followed logs). */
  send<E extends EventName>(event: E, data: Events[E]): void;
  /** Registers cleanup for when the client goes. */
  onClose(cleanup: () => void): void;
}

/** Options of {@link ControlPlane}. */
export interface ControlPlaneOptions {
  /** SCALELAB_HOME. */
  home: string;
  /** The dashboard's URL, reported in status (set by the headless server or Electron). */
  dashboardUrl?: string;
  /**
   * Set when a client may stop this control plane (one the CLI started in the background);
   * the desktop app and a foreground `serve` leave it unset and are stopped where they run.
   */
  onShutdownRequest?: () => void;
  /** The kubeconfig of the Kubernetes runtime. @defaultValue $KUBECONFIG, then ~/.kube/config */
  kubeconfig?: string;
  /** The runtimes it can run a stack on. @defaultValue the registry's {@link RUNTIME_DRIVERS} */
  drivers?: readonly RuntimeDriver[];
}

/** The first error of `value` against `schema`, phrased for a person. */
function validate<C extends CommandName>(command: C, payload: unknown): CommandPayload<C> {
  const schema = COMMANDS[command];
  const value = payload === undefined ? {} : payload;
  const [first] = [...Value.Errors(schema, value)];
  if (first) {
    const where = first.instancePath ? `${first.instancePath.slice(1).replaceAll('/', '.')}` : 'payload';
    throw new ContractError(`${command}: ${where} ${first.message}`);
  }
  return value as CommandPayload<C>;
}

/**
 * The control plane: owns the stack on its runtime, the telemetry, traffic, chaos, the
 * autoscaler, scenarios and the capacity search. Clients talk to it only through {@link handle}, with contract
 * commands, and listen to its events. Mutating commands run one at a time.
 */
export class ControlPlane {
  readonly telemetry = new Telemetry();
  private readonly autoscaler: Autoscaler;
  private readonly drivers: readonly RuntimeDriver[];
  /** One runtime per driver of the registry, made up front (probes ask them all). */
  private readonly runtimes: Map<RuntimeName, Runtime>;
  /** The runtime of the running stack (the first driver's, local, when none runs). */
  private active: Runtime;
  private readonly emitter = new EventEmitter();
  private state: StackState = 'stopped';
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** The traffic runs and the writes they saw acknowledged. */
  private readonly traffic = new TrafficDesk((event) => this.telemetry.record(event));
  private readonly chaos: Chaos;
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
    runningSpec: () => (this.state === 'running' ? this.active.currentSpec() : undefined),
  });
  private readonly baselines = new BaselineStore(() => this.options.home);
  /** The capacity search; its steps are traffic runs of {@link traffic}, its scaling queued like a user's. */
  private readonly capacity: CapacityDesk = new CapacityDesk({
    traffic: this.traffic,
    balancer: () =>
      this.state === 'running' && this.active.currentSpec() ? `http://127.0.0.1:${this.active.currentSpec()!.port}` : undefined,
    apiReplicas: () => (this.state === 'running' ? this.active.currentSpec()?.replicas.api : undefined),
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
      const spec = this.state === 'running' ? this.active.currentSpec() : undefined;
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
    this.drivers = options.drivers ?? RUNTIME_DRIVERS;
    this.runtimes = new Map(this.drivers.map((d) => [d.name, d.create(driverOptions)]));
    this.active = this.runtimes.get(this.drivers[0]!.name)!;
    this.chaos = new Chaos({
      runtime: () => (this.state === 'running' ? this.active : undefined),
      record: (event) => this.telemetry.record(event),
      replicaUrl: () => (this.state === 'running' ? this.endpoints?.replicaUrl : undefined),
    });
    this.autoscaler = new Autoscaler({
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
      const value = await this.dispatch(command, validate(command, payload), client);
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

  private async dispatch<C extends CommandName>(
    command: C,
    payload: CommandPayload<C>,
    client?: ClientContext,
  ): Promise<CommandResults[C]> {
    const run = this.commands[command] as (payload: CommandPayload<C>, client?: ClientContext) => Promise<CommandResults[C]>;
    return run(payload, client);
  }

  private readonly commands: { [C in CommandName]: (payload: CommandPayload<C>, client?: ClientContext) => Promise<CommandResults[C]> } = {
    'runtime:probe': async () => this.probe(),
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
    'instance:signal': async (payload) => {
      if (this.state !== 'running') throw new StackStateError('no stack is running');
      await this.active.kill(payload.id, payload.how);
      this.telemetry.record({ kind: 'chaos', level: 'warn', message: `${payload.how} ${payload.id}`, instance: payload.id });
      return null;
    },
    'logs:tail': async (payload) => ({ lines: await this.active.logs(payload.instance, payload.lines ?? 200) }),
    'logs:follow': async (payload, client) => {
      if (!client) throw new ContractError('logs:follow needs a streaming client');
      const stop = this.active.follow(payload.instance, (line) => client.send('log', { instance: payload.instance, line }));
      const key = `log:${payload.instance}`;
      this.follows.get(client)?.get(key)?.();
      const mine = this.follows.get(client) ?? new Map<string, () => void>();
      mine.set(key, stop);
      if (!this.follows.has(client)) {
        this.follows.set(client, mine);
        client.onClose(() => {
          for (const s of mine.values()) s();
          this.follows.delete(client);
        });
      }
      return null;
    },
    'logs:unfollow': async (payload, client) => {
      const mine = client ? this.follows.get(client) : undefined;
      mine?.get(`log:${payload.instance}`)?.();
      mine?.delete(`log:${payload.instance}`);
      return null;
    },
    'telemetry:history': (payload) => this.historyLimit.run(() => this.telemetry.history(payload.seconds ?? 300)),
    'events:list': async (payload) => this.telemetry.events(payload.limit ?? 500),
    'traffic:start': (payload) =>
      this.serial(async () => {
        if (this.capacity.running) throw new StackStateError('a capacity search is running its own traffic; stop it first (capacity:stop)');
        const spec = this.active.currentSpec();
        if (this.state !== 'running' || !spec) throw new StackStateError('no stack is running; start one first (scalelab up)');
        return this.traffic.start(payload, `http://127.0.0.1:${spec.port}`, this.progress('traffic:start'));
      }),
    'traffic:update': async (payload) => this.traffic.update(payload),
    'traffic:stop': async () => {
      // A run that already ended (its duration elapsed) answers with its final summary.
      const summary = await this.traffic.stop();
      if (!summary) throw new StackStateError('no traffic has run yet; start it with traffic:start');
      return summary;
    },
    'autoscaler:configure': async (payload) => {
      // On Kubernetes the cluster's own HPAs scale; ScaleLab applies and reads them.
      const cluster = this.clusterAutoscaling();
      if (cluster) return cluster.configureAutoscaler(payload);
      const status = this.autoscaler.configure(payload);
      // A first decision now rather than a sync period later.
      if (payload.enabled !== false) void this.autoscaler.sync(payload.service);
      return status;
    },
    'autoscaler:status': async () => this.clusterAutoscaling()?.autoscalerStatus() ?? this.autoscaler.status(),
    'chaos:inject': async (payload) => {
      if (this.state !== 'running')
        throw new StackStateError('no stack is running; start one with `scalelab up` before injecting failures');
      return this.chaos.inject(payload);
    },
    'chaos:clear': async () => this.chaos.clear(),
    'chaos:status': async () => this.chaos.status(),
    'writes:verify': async () => {
      const spec = this.active.currentSpec();
      if (this.state !== 'running' || !spec)
        throw new StackStateError('no stack is running; the writes are read back from the running stack');
      const databaseUrl = this.endpoints?.databaseUrl;
      if (!databaseUrl)
        throw new StackStateError(
          `the ${this.active.name} stack's database is inside the cluster, out of the control plane's reach; verify on the local or docker runtime`,
        );
      return this.traffic.verify({ balancer: `http://127.0.0.1:${spec.port}`, databaseUrl }, this.progress('writes:verify'));
    },
    ...this.tracing.commands(),
    ...scenarioCommands({
      player: this.scenarios,
      telemetry: this.telemetry,
      spec: () => this.active.currentSpec(),
      capacity: () => this.capacity.status(),
    }),
    ...capacityCommands(this.capacity, this.baselines),
    ...this.guard.commands(),
    'lab:reset': () =>
      resetLab({
        ...this.load,
        running: () => {
          const spec = this.state === 'running' ? this.active.currentSpec() : undefined;
          return spec ? { spec, upReplicas: this.upReplicas ?? spec.replicas } : undefined;
        },
        record: (event) => this.telemetry.record(event),
      }),
    'control:shutdown': async () => {
      const shutdown = this.options.onShutdownRequest;
      if (!shutdown)
        throw new StackStateError('this control plane runs in the foreground (scalelab serve or the desktop app); stop it there');
      if (this.state !== 'stopped') throw new StackStateError('stop the stack first with `scalelab down`');
      setImmediate(shutdown);
      return null;
    },
  };

  private readonly follows = new Map<ClientContext, Map<string, () => void>>();

  private async probe(): Promise<Probe[]> {
    return Promise.all([...this.runtimes.values()].map((r) => r.probe()));
  }

  private async up(input: StackSpecInput): Promise<StackStatus> {
    const spec = withDefaults(input);
    if (this.state !== 'stopped' && this.active.name !== spec.runtime) {
      throw new StackStateError(
        `stack "${this.active.currentSpec()?.name}" runs on ${this.active.name}; stop it (scalelab down) before starting one on ${spec.runtime}`,
      );
    }
    if (this.state === 'stopped') {
      const runtime = this.runtimes.get(spec.runtime);
      if (!runtime) throw new StackStateError(`no runtime "${spec.runtime}"; known: ${[...this.runtimes.keys()].join(', ')}`);
      this.active = runtime;
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
        // Where down can delete the data in one go (Kubernetes: the namespace, PVC and all), it does.
        const purgesOnDown = this.drivers.find((d) => d.name === this.active.name)?.purgesOnDown === true;
        await this.active.down({ keepData: !(purge && purgesOnDown) }, onProgress);
      } finally {
        this.state = 'stopped';
      }
      this.telemetry.record({ kind: 'lifecycle', level: 'info', message: `stack "${running?.name ?? name}" stopped` });
    }
    if (purge) {
      const stack = running?.name ?? name ?? 'default';
      const dir = stackDir(this.options.home, stack);
      // Containers, network and volume (Docker) or the namespace first, then the folder with logs and secrets.
      for (const driver of [...this.drivers].reverse()) {
        if (await driver.owns(dir)) await driver.purge(this.runtimes.get(driver.name)!, stack, dir, onProgress);
      }
      this.traffic.forStack(stack, true);
    }
    onProgress(purge ? 'stopped; data deleted' : 'stopped; data kept', 1);
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
