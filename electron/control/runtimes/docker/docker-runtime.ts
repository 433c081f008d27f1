import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type Docker from 'dockerode';
import { cpuMillicores, type CpuLimitStatus, type Instance, type Probe, type ScalableService, type StackSpec } from '../../../contract.js';
import { Balancer } from '../../balancer/balancer.js';
import type { BalancerSnapshot } from '../../balancer/stats.js';
import { isOurs } from '../local/leftovers.js';
import { followFile, tailFile } from '../local/log-files.js';
import { StackOwnedError, stackDir } from '../local/stack-dir.js';
import { freePort, isPortOpen } from '../local/ports.js';
import { ReplicaSet, type ReplicaEvent } from '../local/replica-set.js';
import { loadSecrets } from '../local/state.js';
import type { CpuCounters, InstanceStats, OnProgress, Runtime, SignalHow, DirectEndpoints, StoreId } from '../runtime.js';
import { applyCpuLimits, dockerCpuLimits } from './docker-cpu.js';
import { ContainerProcess, removeOwned } from './container-process.js';
import {
  DATABASE,
  DATABASE_USER,
  postgresContainer,
  postgresReplicaContainer,
  redisContainer,
  replicaContainer,
  serviceUrls,
  type StackLayout,
} from './container-specs.js';
import { DockerEvents } from './docker-events.js';
import { ensureNetwork, ensureVolume, sweep } from './docker-objects.js';
import { readDockerState, removeDockerState, writeDockerState, type DockerState } from './docker-state.js';
import { DockerStats } from './docker-stats.js';
import { connectDocker, probeDocker, type DockerEngine } from './engine.js';
import { ensureImage } from './images.js';
import { isOwned, LABELS, names, stackFilter } from './labels.js';
import { removeReplica, seedReplica } from './replica-seed.js';
import { postgresAnswers, redisAnswers, StoreContainer } from './store-container.js';
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

type Running = {
  engine: DockerEngine;
  spec: StackSpec;
  layout: StackLayout;
  dir: string;
  events: DockerEvents;
  stats: DockerStats;
  balancer: Balancer;
  stores: StoreContainer[];
  replicas: ReplicaSet;
  statsTimer: NodeJS.Timeout;
  /** PostgreSQL (and its read replica, when it runs) and Redis as the host (telemetry) reaches them. */
  urls: { database: string; redis: string; replica?: string };
  adminToken: string;
};

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
    const portOf = async (instance: string, recorded: number | undefined) => {
      const label = Number(find(instance)?.Labels[LABELS.port]);
      if (label > 0) return label;
      return recorded && !(await isPortOpen(recorded)) ? recorded : freePort();
    };
    const ports = {
      postgres: await portOf('postgres', previous?.ports.postgres),
      redis: await portOf('redis', previous?.ports.redis),
      ...(spec.data.readReplica ? { replica: await portOf('postgres-replica', previous?.ports.replica) } : {}),
    };
    const pgUrl = (port: number) =>
      `postgres://${DATABASE_USER}:${encodeURIComponent(secrets.postgresPassword)}@127.0.0.1:${port}/${DATABASE}`;
    const urls = {
      database: pgUrl(ports.postgres),
      redis: `redis://:${encodeURIComponent(secrets.redisPassword)}@127.0.0.1:${ports.redis}`,
      ...(ports.replica ? { replica: pgUrl(ports.replica) } : {}),
    };
    const base = { docker, events, stack: spec.name };
    const notify = () => this.notify();
    const stores = [
      new StoreContainer({
        ...base,
        id: 'postgres',
        port: ports.postgres,
        logFile: path.join(dir, 'logs', 'postgres.log'),
        create: postgresContainer(layout, ports.postgres, secrets.postgresPassword),
        ready: () => postgresAnswers(urls.database),
        onChange: notify,
      }),
      new StoreContainer({
        ...base,
        id: 'redis',
        port: ports.redis,
        logFile: path.join(dir, 'logs', 'redis.log'),
        create: redisContainer(layout, ports.redis, secrets.redisPassword),
        ready: () => redisAnswers(ports.redis, secrets.redisPassword),
        onChange: notify,
      }),
    ];
    const replica =
      ports.replica && urls.replica
        ? new StoreContainer({
            ...base,
            id: 'postgres-replica',
            port: ports.replica,
            logFile: path.join(dir, 'logs', 'postgres-replica.log'),
            create: postgresReplicaContainer(layout, ports.replica, ports.postgres, secrets.postgresPassword),
            ready: () => postgresAnswers(urls.replica!),
            onChange: notify,
          })
        : undefined;
    const balancerPort =
      previous?.balancerPort && !(await isPortOpen(previous.balancerPort))
        ? previous.balancerPort
        : (await isPortOpen(spec.port))
          ? await freePort()
          : spec.port;
    if (balancerPort !== spec.port && !previous) onProgress(`port ${spec.port} is taken; the balancer uses ${balancerPort}`);
    const balancer = new Balancer({ port: balancerPort, traceSink: balancerSpanSink });
    const inner = serviceUrls(layout, ports, secrets.postgresPassword, secrets.redisPassword);
    const replicas = new ReplicaSet({
      balancer,
      logsDir: path.join(dir, 'logs'),
      env: {
        DATABASE_URL: inner.databaseUrl,
        // Reads that miss the cache go to the replica; writes and read-your-writes stay on the primary.
        ...(inner.replicaUrl ? { DATABASE_REPLICA_URL: inner.replicaUrl } : {}),
        REDIS_URL: inner.redisUrl,
        // Workers serve their stream hooks (/admin/stream/*) on METRICS_PORT with the same token.
        ADMIN_TOKEN: secrets.adminToken,
        CACHE_TTL_SECONDS: String(spec.cache.ttlSeconds),
        USERS_PARTITIONS: String(spec.data.partitions),
        EVENTS: String(spec.data.events),
        SHUTDOWN_DELAY_MS: '0',
      },
      onRecord: () => void this.record(),
      // Containers have no pid to change: record on every change, so restart counts survive adoption.
      onChange: () => {
        notify();
        void this.record();
      },
      onEvent: (event) => this.options.onEvent?.(event),
      // Pulling is done; a cold container on 2 cores takes a few seconds more than a process.
      readyTimeoutMs: 90_000,
      launch: (replica, env) =>
        ContainerProcess.launch(
          { ...base, logFile: replica.logFile },
          replicaContainer(
            layout,
            replica.id,
            replica.service,
            replica.port,
            env,
            cpuMillicores(this.running?.spec ?? spec, replica.service),
          ),
        ),
      onRetired: (replica) => removeOwned(docker, names.container(spec.name, replica.id), spec.name),
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

    for (const store of stores) {
      const found = find(store.id);
      const adopt = found?.State === 'running' ? docker.getContainer(found.Id) : undefined;
      onProgress(
        adopt
          ? `adopted ${found!.Names[0]?.slice(1)}`
          : `starting ${store.id} (${store.id === 'postgres' ? images.postgres : images.redis}) on 127.0.0.1:${store.port}`,
      );
      store.start(adopt);
    }
    await Promise.all(stores.map((s) => s.waitReady(this.options.storeTimeoutMs ?? 90_000).then(() => onProgress(`${s.id} is ready`))));
    if (replica) {
      stores.push(replica);
      const found = find(replica.id);
      const primary = { container: docker.getContainer(names.container(spec.name, 'postgres')), url: urls.database, port: ports.postgres };
      if (found?.State !== 'running')
        await seedReplica({
          docker,
          layout,
          primary,
          password: secrets.postgresPassword,
          workDir: dir,
          onProgress,
          method: this.options.replicaSeed,
        });
      onProgress(
        found?.State === 'running' ? `adopted ${found.Names[0]?.slice(1)}` : `starting the read replica on 127.0.0.1:${replica.port}`,
      );
      replica.start(found?.State === 'running' ? docker.getContainer(found.Id) : undefined);
      await replica.waitReady(this.options.storeTimeoutMs ?? 90_000);
      onProgress('postgres-replica is ready');
    } else {
      // Off now: a replica left from an earlier start would fall behind, and its slot would hold the primary's WAL.
      await removeReplica(docker, spec.name, urls.database, onProgress);
    }
    await balancer.listen();
    onProgress(`balancer listening on http://127.0.0.1:${balancerPort}`);

    for (const c of existing) {
      const service = c.Labels[LABELS.service];
      const id = c.Labels[LABELS.instance];
      if ((service !== 'api' && service !== 'worker') || !id || !isOwned(c.Labels, spec.name)) continue;
      if (c.State !== 'running') {
        await removeOwned(docker, names.container(spec.name, id), spec.name);
        continue;
      }
      const port = Number(c.Labels[LABELS.port]);
      replicas.adopt(
        { id, service, port, restarts: previous?.restarts[id] ?? 0, startedAt: c.Created * 1000 },
        ContainerProcess.adopt({ ...base, logFile: path.join(dir, 'logs', `${id}.log`) }, docker.getContainer(c.Id)),
      );
      onProgress(`adopted ${id}`);
    }
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
  private async previousState(dir: string): Promise<DockerState | undefined> {
    const state = await readDockerState(dir);
    if (state && state.controlPid > 0 && state.controlPid !== process.pid && (await isOurs('control', state.controlPid))) {
      throw new StackOwnedError(
        `stack "${state.spec.name}" is supervised by another control plane (pid ${state.controlPid}); use \`scalelab status\` or stop it first`,
      );
    }
    return state;
  }

  private async trackStats(): Promise<void> {
    const running = this.running;
    if (!running) return;
    const ids = new Map<string, string>();
    const containers = await running.engine.docker.listContainers({ filters: stackFilter(running.spec.name) }).catch(() => []);
    for (const c of containers) if (c.State === 'running' && c.Labels[LABELS.instance]) ids.set(c.Labels[LABELS.instance]!, c.Id);
    running.stats.track(ids);
  }

  /** Writes docker.json; writes are serialised so an older one never overwrites a newer one. */
  private record(): Promise<void> {
    this.recordPending = this.recordPending.then(async () => {
      const running = this.running;
      if (!running) return;
      const port = (id: StoreId) => running.stores.find((s) => s.id === id)?.port;
      const ports = {
        postgres: port('postgres')!,
        redis: port('redis')!,
        ...(port('postgres-replica') ? { replica: port('postgres-replica') } : {}),
      };
      const restarts = Object.fromEntries(running.replicas.records().map((r) => [r.id, r.restarts]));
      await writeDockerState(running.dir, {
        version: 1,
        spec: running.spec,
        controlPid: process.pid,
        balancerPort: running.spec.port,
        ports,
        restarts,
      }).catch(() => undefined);
    });
    return this.recordPending;
  }
}

/**
 * A stack an older ScaleLab started runs Redis without a password, and replicas that connect without
 * one (`unsecured`: its secrets.json had none): those containers are removed, to start afresh with the
 * password. PostgreSQL and its data stay; the cache refills.
 */
async function withoutUnsecured(
  docker: Docker,
  stack: string,
  containers: Docker.ContainerInfo[],
  unsecured: boolean,
  onProgress: OnProgress,
): Promise<Docker.ContainerInfo[]> {
  const stale = unsecured
    ? containers.filter((c) => ['redis', 'api', 'worker'].includes(c.Labels[LABELS.service] ?? '') && isOwned(c.Labels, stack))
    : [];
  if (stale.length === 0) return containers;
  onProgress(`restarting ${stale.map((c) => c.Labels[LABELS.instance]).join(', ')}: Redis ran without a password`);
  for (const c of stale) await removeOwned(docker, names.container(stack, c.Labels[LABELS.instance]!), stack);
  return containers.filter((c) => !stale.includes(c));
}
