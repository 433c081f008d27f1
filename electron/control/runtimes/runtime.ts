import type { CpuLimitStatus, Endpoints, Instance, Probe, ScalableService, StackSpec } from '../../contract.js';

/** CFS counters of one cpu-limited instance (cgroup cpu.stat, Docker's throttling_data): totals since its group was made. */
export interface CpuCounters {
  /** Scheduler periods in which it had runnable threads. */
  periods: number;
  /** Periods in which it used its whole quota and waited for the next. */
  throttledPeriods: number;
  /** Time its threads spent waiting, seconds. */
  throttledSeconds: number;
}

/** Reports one step of long work. */
export type OnProgress = (message: string, fraction?: number) => void;

/** How to hit one instance: kill (SIGKILL), stop (SIGTERM), pause (SIGSTOP), resume (SIGCONT). */
export type SignalHow = 'kill' | 'stop' | 'pause' | 'resume';

/** Per-instance resource use, as the runtime sees it. */
export interface InstanceStats {
  id: string;
  cpu: number | null;
  rssBytes: number | null;
}

/** Where a running stack's pieces answer, for telemetry. */
export interface StackEndpoints {
  /** The balancer in front of the api replicas. */
  balancer: string;
  /** Undefined where the control plane cannot reach Redis directly (inside a cluster). */
  redisUrl?: string;
  /** Undefined where the control plane cannot reach PostgreSQL directly (inside a cluster). */
  databaseUrl?: string;
  /** The read replica (spec `data.readReplica`); undefined when none runs or it is out of reach. */
  replicaUrl?: string;
}

/** The stores chaos can take down: the cache, the primary database, and its read replica. */
export type StoreId = 'redis' | 'postgres' | 'postgres-replica';

/**
 * A place the stack runs: local processes, Docker or Kubernetes. Drivers are interchangeable
 * behind this interface, the way ioredis puts its connectors behind one class.
 */
export interface Runtime {
  readonly name: StackSpec['runtime'];
  /** Usable here? If not, why and how to fix it. */
  probe(): Promise<Probe>;
  /** Starts the stack, or adopts what this runtime already runs for it. Idempotent. */
  up(spec: StackSpec, onProgress: OnProgress): Promise<StackEndpoints>;
  /** Stops everything; data is deleted only when `keepData` is false. */
  down(opts: { keepData: boolean }, onProgress?: OnProgress): Promise<void>;
  /** Sets a service's replica count and resolves once that many are ready. */
  scale(service: ScalableService, replicas: number, onProgress?: OnProgress): Promise<void>;
  instances(): Promise<Instance[]>;
  /** Instances right now (what `instances()` resolves to, without the wait), for telemetry. */
  currentInstances(): Instance[];
  /** The running stack's spec, with the balancer's actual port; undefined when nothing runs. */
  currentSpec(): StackSpec | undefined;
  /** Calls `onChange` whenever an instance appears, changes phase or goes; returns unsubscribe. */
  watch(onChange: (instances: Instance[]) => void): () => void;
  stats(): Promise<InstanceStats[]>;
  kill(id: string, how: SignalHow): Promise<void>;
  /**
   * Chaos: kills a store (SIGKILL) and holds it down for `forMs`, then brings it back with its
   * data. Resolves once it is down; `onBack` is called when it answers again (or failed to).
   */
  outage(id: StoreId, forMs: number, onBack: (err?: Error) => void): Promise<void>;
  /** Ends a store's outage now (chaos `clear`); nothing when none is in progress. */
  endOutage(id: StoreId): void;
  /** Bearer token of the api replicas' /admin fault hooks (undefined when nothing runs). */
  adminToken(): string | undefined;
  /** The last `lines` lines an instance wrote. */
  logs(id: string, lines: number): Promise<string[]>;
  /** Follows an instance's output; returns stop. */
  follow(id: string, onLine: (line: string) => void): () => void;
  /** The balancer's counts, for telemetry (undefined when the platform balances, e.g. a Service); a balancer process answers asynchronously. */
  takeBalancerSnapshot():
    import('../balancer/stats.js').BalancerSnapshot | undefined | Promise<import('../balancer/stats.js').BalancerSnapshot | undefined>;
  /**
   * Base URL of an api or worker instance's HTTP port (its /admin fault hooks); undefined means
   * `http://127.0.0.1:<instance.port>`.
   */
  instanceUrl?(instance: Instance): string | undefined;
  /** /metrics URL of an api or worker instance, for telemetry. */
  metricsUrl(instance: Instance): string | undefined;
  /**
   * cpu and memory per instance id when the platform measures them (Docker's stats API);
   * undefined when telemetry should read the instances' processes itself.
   */
  usage?(): Map<string, InstanceStats>;
  /**
   * The capability "can you set cpu limits?": each service's limit per replica and whether it is
   * enforced here, or plainly why not. Undefined when nothing runs.
   */
  cpuLimits?(): CpuLimitStatus | undefined;
  /** CFS counters of each instance held to a cpu limit, by instance id (where the platform exposes them). */
  throttling?(): Promise<Map<string, CpuCounters>>;
  /** Releases watchers and connections without stopping the stack. Safe to call twice. */
  dispose(): Promise<void>;
}

export type { Endpoints };

/** Endpoints of a runtime whose stores the control plane reaches directly (local, Docker). */
export type DirectEndpoints = StackEndpoints & { redisUrl: string; databaseUrl: string };
