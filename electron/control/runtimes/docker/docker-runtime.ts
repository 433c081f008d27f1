import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { cpuMillicores, type CpuLimitStatus, type Instance, type Probe, type ScalableService, type StackSpec } from '../../../contract.js';
import { Balancer } from '../../balancer/balancer.js';
import type { BalancerSnapshot } from '../../balancer/stats.js';
import { followFile, tailFile } from '../local/log-files.js';
import { StackOwnedError, stackDir } from '../local/stack-dir.js';
import { freePort, isPortOpen } from '../local/ports.js';
import type { ReplicaEvent } from '../local/replica-set.js';
import { loadSecrets } from '../local/state.js';
import type { CpuCounters, InstanceStats, OnProgress, Runtime, SignalHow, DirectEndpoints, StoreId } from '../runtime.js';
import { applyCpuLimits, dockerCpuLimits } from './docker-cpu.js';
import { serviceUrls, type StackLayout } from './container-specs.js';
import { DockerEvents } from './docker-events.js';
import { ensureNetwork, ensureVolume, sweep } from './docker-objects.js';
import { adoptReplicas, dockerReplicaSet, withoutUnsecured } from './docker-replicas.js';
import { dockerStateOf, trackStats, unsupervisedState, type Running } from './docker-running.js';
import { readDockerState, removeDockerState, writeDockerState, type DockerState } from './docker-state.js';
import { DockerStats } from './docker-stats.js';
import { planStores, startStores } from './docker-stores.js';
import { connectDocker, probeDocker } from './engine.js';
import { ensureImage } from './images.js';
import { isOwned, LABELS, names, stackFilter } from './labels.js';
import { balancerSpanSink } from '../../traces/trace-env.js';

/** Options of {@link DockerRuntime}. */
export interface DockerRuntimeOptions {
  /** ScaleLab's state folder (SCALELAB_HOME): logs, secrets and docker.json live under stacks/<name>/. */
  home: string;
  /** Lifecycle and scaling events, for the timeline. */
  onEvent?: (event: ReplicaEvent) => void;
  /** Longest wait for PostgreSQL or Redis to answer. @defaultValue 90000 */
  storeTimeoutMs?: number;
  /**
   * How the read replica's volume is first filled: `auto` runs pg_basebackup in the postgres
   * image when it has one, else copies the data folder through the engine's archive API; `copy`
   * always copies. @defaultValue 'auto'
   */
  replicaSeed?: 'auto' | 'copy';
}

/**
 * The Docker runtime: PostgreSQL, Redis, api and worker replicas as containers of one stack,
 * every object labelled `scalelab.stack=<name>`, the balancer in this process on 127.0.0.1.
 * Containers are watched through the engine's event stream and supervised like local processes
 * (readiness probes, restarts with backoff, drain before stop). Nothing unlabelled is touched.
 */
export class DockerRuntime implements Runtime {
  readonly name = 'docker' as const;
  private running: Running | undefined;
  private readonly watchers = new Set<(instances: Instance[]) => void>();
  private recordPending: Promise<void> = Promise.resolve();

  constructor(private readonly options: DockerRuntimeOptions) {}

  probe(): Promise<Probe> {
    return probeDocker();
  }

  async up(input: StackSpec, onProgress: OnProgress): Promise<DirectEndpoints> {
    const current = this.running;
    if (current && current.spec.name !== input.name)
      throw new StackOwnedError(`stack "${current.spec.name}" is running here; stop it before starting "${input.name}"`);
    if (current) {
      if (JSON.stringify(current.spec.data) !== JSON.stringify(input.data))
        onProgress('the data settings (read replica, events, partitions) take effect at the next start: `scalelab down`, then `up`');
      await this.scale('api', input.replicas.api, onProgress);
      await this.scale('worker', input.replicas.worker, onProgress);
      current.spec = { ...current.spec, resources: input.resources };
      await applyCpuLimits(current.engine.docker, current.spec, current.replicas.list(), onProgress);
      // docker.json holds the limits a restarted control plane adopts the stack with.
      await this.record();
      return this.endpoints();
    }
    onProgress('connecting to the Docker engine');
    const engine = await connectDocker();
    onProgress(`connected to ${engine.version} at ${engine.endpoint}`);
    const dir = stackDir(this.options.home, input.name);
    await mkdir(path.join(dir, 'logs'), { recursive: true });
    const previous = await this.previousState(dir);
    const spec: StackSpec =
      previous && previous.spec.docker.network !== input.docker.network ? { ...input, docker: previous.spec.docker } : input;
    if (spec !== input) onProgress(`the stack's containers use the ${spec.docker.network} network; keeping it (down --purge to change it)`);
    const secrets = await loadSecrets(dir);
    const { docker } = engine;

    // Images first: a missing one is pulled or built before anything starts.
    const images = { service: '', postgres: '', redis: '' };
    for (const key of ['postgres', 'redis', 'service'] as const) images[key] = await ensureImage(docker, spec.images[key], key, onProgress);
    const layout: StackLayout = { stack: spec.name, mode: spec.docker.network, images };
    const events = new DockerEvents({ docker, stack: spec.name, onReconnect: () => onProgress('the Docker event stream was reopened') });
    await events.open();

    if (layout.mode === 'bridge') await ensureNetwork(docker, spec.name, onProgress);
    await ensureVolume(docker, spec.name, names.volume(spec.name), "PostgreSQL's data", onProgress);
    if (spec.data.readReplica) await ensureVolume(docker, spec.name, names.replicaVolume(spec.name), "the read replica's data", onProgress);

    const existing = await withoutUnsecured(
      docker,
      spec.name,
      await docker.listContainers({ all: true, filters: stackFilter(spec.name) }),
      secrets.added === true,
      onProgress,
    );
    const find = (instance: string) => existing.find((c) => c.Labels[LABELS.instance] === instance && isOwned(c.Labels, spec.name));
    const notify = () => this.notify();
    const plan = await planStores({ docker, events, spec, layout, dir, secrets, previous, find, onChange: notify });
    const { ports, urls, stores } = plan;
    const balancerPort =
      previous?.balancerPort && !(await isPortOpen(previous.balancerPort))
        ? previous.balancerPort
        : (await isPortOpen(spec.port))
          ? await freePort()
          : spec.port;
    if (balancerPort !== spec.port && !previous) onProgress(`port ${spec.port} is taken; the balancer uses ${balancerPort}`);
    const balancer = new Balancer({ port: balancerPort, traceSink: balancerSpanSink });
    const inner = serviceUrls(layout, ports, secrets.postgresPassword, secrets.redisPassword);
    const replicas = dockerReplicaSet({
      docker,
      events,
      spec,
      layout,
      dir,
      balancer,
      inner,
      secrets,
      currentSpec: () => this.running?.spec,
      onRecord: () => void this.record(),
      // Containers have no pid to change: record on every change, so restart counts survive adoption.
      onChange: () => {
        notify();
        void this.record();
      },
      onEvent: (event) => this.options.onEvent?.(event),
    });
    const stats = new DockerStats(docker);
    const statsTimer = setInterval(() => void this.trackStats(), 2_000);
    statsTimer.unref();
    this.running = {
      engine,
      spec: { ...spec, port: balancerPort },
      layout,
      dir,
      events,
      stats,
      balancer,
      stores,
      replicas,
      statsTimer,
      urls,
      adminToken: secrets.adminToken,
    };

    await startStores({
      docker,
      spec,
      layout,
      dir,
      plan,
      find,
      postgresPassword: secrets.postgresPassword,
      timeoutMs: this.options.storeTimeoutMs ?? 90_000,
      replicaSeed: this.options.replicaSeed,
      onProgress,
    });
    await balancer.listen();
    onProgress(`balancer listening on http://127.0.0.1:${balancerPort}`);

    await adoptReplicas({ docker, events, stack: spec.name, dir, replicas, existing, previous, onProgress });
    onProgress(
      replicas.list().length > 0
        ? 'checking the adopted replicas'
        : 'starting the api and worker containers (migrations run on first start)',
    );
    await Promise.all([replicas.scale('api', spec.replicas.api, onProgress), replicas.scale('worker', spec.replicas.worker, onProgress)]);
    // Adopted containers were started with the limit of their day.
    await applyCpuLimits(docker, spec, replicas.list(), onProgress);
    await this.record();
    void this.trackStats();
    return this.endpoints();
  }

  async down(opts: { keepData: boolean }, onProgress: OnProgress = () => undefined): Promise<void> {
    const running = this.running;
    if (!running) return;
    const { docker } = running.engine;
    const stack = running.spec.name;
    onProgress('stopping the api and worker containers (they leave the balancer first and drain)');
    await running.replicas.stopAll();
    await running.balancer.close();
    onProgress(`stopping Redis and PostgreSQL${running.stores.length > 2 ? ' and its read replica' : ''}`);
    await Promise.all(running.stores.map((s) => s.stop()));
    clearInterval(running.statsTimer);
    running.stats.close();
    running.events.close();
    await this.recordPending;
    await sweep(docker, stack, { volumes: !opts.keepData }, onProgress);
    const state = await readDockerState(running.dir);
    if (state) await writeDockerState(running.dir, { ...state, controlPid: 0 });
    this.running = undefined;
    this.notify();
    if (!opts.keepData) await this.purge(stack, onProgress);
  }

  /**
   * Deletes a stopped stack's data: its containers, network and volume (only objects labelled as
   * this stack's), then its folder. Refuses while another control plane supervises it.
   */
  async purge(stack: string, onProgress: OnProgress = () => undefined): Promise<void> {
    if (this.running?.spec.name === stack) throw new StackOwnedError(`stack "${stack}" is running; stop it first with \`scalelab down\``);
    const dir = stackDir(this.options.home, stack);
    await this.previousState(dir);
    const { docker } = await connectDocker();
    await sweep(docker, stack, { volumes: true }, onProgress);
    await removeDockerState(dir);
    await rm(dir, { recursive: true, force: true });
  }

  async scale(service: ScalableService, replicas: number, onProgress?: OnProgress): Promise<void> {
    const running = this.running;
    if (!running) throw new Error('no stack is running; start one with `scalelab up`');
    if (service === 'api' && replicas < 1) throw new RangeError('api needs at least 1 replica');
    running.spec = { ...running.spec, replicas: { ...running.spec.replicas, [service]: replicas } };
    await running.replicas.scale(service, replicas, onProgress);
    await this.record();
    void this.trackStats();
  }

  async instances(): Promise<Instance[]> {
    return this.currentInstances();
  }

  currentInstances(): Instance[] {
    const running = this.running;
    if (!running) return [];
    return [...running.replicas.instances(), ...running.stores.map((s) => s.toInstance())];
  }

  currentSpec(): StackSpec | undefined {
    return this.running?.spec;
  }

  watch(onChange: (instances: Instance[]) => void): () => void {
    this.watchers.add(onChange);
    return () => this.watchers.delete(onChange);
  }

  async stats(): Promise<InstanceStats[]> {
    return this.running?.stats.read() ?? [];
  }

  /** The latest cpu and memory per instance id, from the engine's stats API. */
  usage(): Map<string, InstanceStats> {
    return new Map((this.running?.stats.read() ?? []).map((s) => [s.id, s]));
  }

  /** Each service's cpu limit per replica: the engine enforces it (NanoCpus). */
  cpuLimits(): CpuLimitStatus | undefined {
    return this.running ? dockerCpuLimits(this.running.spec) : undefined;
  }

  /** The containers' CFS counters (the stats API's throttling_data) of the cpu-limited replicas. */
  async throttling(): Promise<Map<string, CpuCounters>> {
    const running = this.running;
    if (!running) return new Map();
    const limited = new Set(
      running.replicas
        .list()
        .filter((r) => cpuMillicores(running.spec, r.service) !== null)
        .map((r) => r.id),
    );
    return new Map([...running.stats.throttling()].filter(([id]) => limited.has(id)));
  }

  async kill(id: string, how: SignalHow): Promise<void> {
    const running = this.running;
    const replica = running?.replicas.get(id);
    if (replica) return replica.signal(how);
    const store = running?.stores.find((s) => s.id === id);
    if (store) return store.signal(how);
    throw new RangeError(`no instance "${id}"; \`scalelab status\` lists them`);
  }

  async outage(id: StoreId, forMs: number, onBack: (err?: Error) => void): Promise<void> {
    if (!this.running) throw new Error('no stack is running');
    const store = this.running.stores.find((s) => s.id === id);
    if (!store)
      throw new RangeError(`this stack runs no ${id === 'postgres-replica' ? 'read replica; start it with data.readReplica on' : id}`);
    await store.outage(forMs, onBack);
  }

  endOutage(id: StoreId): void {
    this.running?.stores.find((s) => s.id === id)?.endOutage();
  }

  adminToken(): string | undefined {
    return this.running?.adminToken;
  }

  async logs(id: string, lines: number): Promise<string[]> {
    return tailFile(this.logFile(id), lines);
  }

  follow(id: string, onLine: (line: string) => void): () => void {
    return followFile(this.logFile(id), onLine);
  }

  takeBalancerSnapshot(): BalancerSnapshot | undefined {
    return this.running?.balancer.takeSnapshot();
  }

  metricsUrl(instance: Instance): string | undefined {
    return (instance.service === 'api' || instance.service === 'worker') && instance.port
      ? `http://127.0.0.1:${instance.port}/metrics`
      : undefined;
  }

  /** Where telemetry reads the stores from the host. */
  endpoints(): DirectEndpoints {
    const running = this.running;
    if (!running) throw new Error('the stack is not running');
    return {
      balancer: `http://127.0.0.1:${running.spec.port}`,
      redisUrl: running.urls.redis,
      databaseUrl: running.urls.database,
      replicaUrl: running.urls.replica,
    };
  }

  /** Stops supervising (the containers keep running, for a control plane that restarts). Safe twice. */
  async dispose(): Promise<void> {
    const running = this.running;
    if (!running) return;
    this.running = undefined;
    clearInterval(running.statsTimer);
    running.stats.close();
    running.events.close();
    await running.balancer.close();
  }

  private notify(): void {
    const instances = this.currentInstances();
    for (const watcher of this.watchers) watcher(instances);
  }

  private logFile(id: string): string {
    const running = this.running;
    if (!running || !/^[a-z0-9-]+$/.test(id) || !this.currentInstances().some((i) => i.id === id))
      throw new RangeError(`no instance "${id}"; \`scalelab status\` lists them`);
    return path.join(running.dir, 'logs', `${id}.log`);
  }

  /** docker.json of the stack; throws when another live control plane supervises it. */
  private previousState(dir: string): Promise<DockerState | undefined> {
    return unsupervisedState(dir);
  }

  private async trackStats(): Promise<void> {
    const running = this.running;
    if (running) await trackStats(running);
  }

  /** Writes docker.json; writes are serialised so an older one never overwrites a newer one. */
  private record(): Promise<void> {
    this.recordPending = this.recordPending.then(async () => {
      const running = this.running;
      if (!running) return;
      await writeDockerState(running.dir, dockerStateOf(running)).catch(() => undefined);
    });
    return this.recordPending;
  }
}
