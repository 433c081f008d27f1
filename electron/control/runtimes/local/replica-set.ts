import path from 'node:path';
import type { Instance, ScalableService } from '../../../contract.js';
import type { BalancerHandle } from '../../balancer/balancer.js';
import type { OnProgress } from '../runtime.js';
import type { ProcessLike } from './adopted-process.js';
import { freePort } from './ports.js';
import { Replica } from './replica.js';
import type { ReplicaRecord } from './state.js';

/** A lifecycle or scaling event for the timeline. */
export interface ReplicaEvent {
  kind: 'lifecycle' | 'scaling';
  level: 'info' | 'warn' | 'error';
  message: string;
  instance?: string;
}

/** Options of {@link ReplicaSet}. */
export interface ReplicaSetOptions {
  balancer: BalancerHandle;
  logsDir: string;
  /** Environment every replica gets (DATABASE_URL, REDIS_URL, ADMIN_TOKEN, …). */
  env: Record<string, string>;
  /** Something changed that the state file records (a pid, a replica came or went). */
  onRecord: () => void;
  onChange: () => void;
  onEvent: (event: ReplicaEvent) => void;
  /** Longest wait for a new replica to become ready. @defaultValue 60000 */
  readyTimeoutMs?: number;
  /** Starts one incarnation of a replica (a child process, a container). */
  launch: (replica: ReplicaIdentity, env: Record<string, string>) => ProcessLike;
  /** Cleans up after a replica is scaled away or stopped (e.g. removes its container). */
  onRetired?: (replica: ReplicaIdentity) => Promise<void>;
}

/** Who a replica is: what a launcher needs to start it. */
export interface ReplicaIdentity {
  id: string;
  service: ScalableService;
  /** Its port on 127.0.0.1: the api's listener, the worker's metrics server. */
  port: number;
  logFile: string;
}

/**
 * The api and worker replicas of one stack, with the balancer in step: an api replica joins the
 * balancer when its readiness probe passes and leaves it when it fails, exits or is scaled away
 * (before its SIGTERM, so no request is sent to a draining process).
 */
export class ReplicaSet {
  private readonly replicas = new Map<string, Replica>();

  constructor(private readonly options: ReplicaSetOptions) {}

  /** Every replica, in id order. */
  list(service?: ScalableService): Replica[] {
    const all = [...this.replicas.values()].filter((r) => service === undefined || r.service === service);
    return all.sort((a, b) => a.service.localeCompare(b.service) || indexOf(a.id) - indexOf(b.id));
  }

  instances(): Instance[] {
    return this.list().map((r) => r.toInstance());
  }

  get(id: string): Replica | undefined {
    return this.replicas.get(id);
  }

  /** Records for the state file. */
  records(): ReplicaRecord[] {
    return this.list().map((r) => ({
      id: r.id,
      service: r.service,
      pid: r.pid,
      port: r.port,
      restarts: r.restarts,
      startedAt: r.startedAt,
    }));
  }

  /** Supervises a replica a previous control plane started, as `process`. */
  adopt(record: Omit<ReplicaRecord, 'pid'>, process: ProcessLike): void {
    const replica = this.create(record.id, record.service, record.port);
    replica.adopt(process, record.restarts, record.startedAt);
  }

  /**
   * Sets `service` to `count` replicas. Up: new replicas start and the call resolves once every
   * replica of the service is ready. Down: the newest replicas leave the balancer, drain, then stop.
   */
  async scale(service: ScalableService, count: number, onProgress: OnProgress = () => undefined): Promise<void> {
    const current = this.list(service);
    if (count > current.length) {
      const used = new Set(current.map((r) => indexOf(r.id)));
      const added: Replica[] = [];
      for (let index = 1; added.length < count - current.length; index += 1) {
        if (used.has(index)) continue;
        const replica = this.create(`${service}-${index}`, service, await freePort());
        replica.start();
        added.push(replica);
      }
      this.options.onRecord();
      if (current.length > 0)
        this.options.onEvent({ kind: 'scaling', level: 'info', message: `scaling ${service} ${current.length} → ${count}` });
      onProgress(`starting ${added.map((r) => r.id).join(', ')}`);
    } else if (count < current.length) {
      const leaving = current.slice(count);
      this.options.onEvent({ kind: 'scaling', level: 'info', message: `scaling ${service} ${current.length} → ${count}` });
      onProgress(`stopping ${leaving.map((r) => r.id).join(', ')} (they leave the balancer first and drain)`);
      await Promise.all(leaving.map((r) => this.retire(r)));
      this.options.onRecord();
    }
    await this.waitReady(service, onProgress);
  }

  /** Resolves once every replica of `service` (or of both) is ready, reporting each one. */
  async waitReady(service: ScalableService | undefined, onProgress: OnProgress): Promise<void> {
    const replicas = this.list(service);
    let ready = replicas.filter((r) => r.phase === 'ready').length;
    await Promise.all(
      replicas.map(async (replica) => {
        if (replica.phase === 'ready') return;
        await replica.waitReady(this.options.readyTimeoutMs ?? 60_000);
        ready += 1;
        onProgress(`${replica.id} is ready (${ready}/${replicas.length})`, ready / replicas.length);
      }),
    );
    // Ready means routed: the balancer applied every replica's readiness before this resolves.
    await this.options.balancer.settled?.();
  }

  /** Stops every replica: api replicas leave the balancer first. Safe to call twice. */
  async stopAll(): Promise<void> {
    await Promise.all(this.list().map((r) => this.retire(r)));
  }

  private async retire(replica: Replica): Promise<void> {
    if (replica.service === 'api') await this.options.balancer.remove(replica.id, 10_000);
    await replica.stop();
    await this.options.onRetired?.(this.identity(replica.id, replica.service, replica.port)).catch(() => undefined);
    this.replicas.delete(replica.id);
    this.options.onChange();
  }

  private identity(id: string, service: ScalableService, port: number): ReplicaIdentity {
    return { id, service, port, logFile: path.join(this.options.logsDir, `${id}.log`) };
  }

  private create(id: string, service: ScalableService, port: number): Replica {
    const { balancer } = this.options;
    let lastPid: number | undefined;
    const identity = this.identity(id, service, port);
    const replica = new Replica({
      id,
      service,
      port,
      env: this.options.env,
      logFile: identity.logFile,
      launch: (env) => this.options.launch(identity, env),
      onChange: (r) => {
        if (r.service === 'api') {
          if (r.phase === 'ready') {
            balancer.add(r.id, r.origin);
            balancer.setReady(r.id, true);
          } else {
            balancer.setReady(r.id, false);
          }
        }
        if (r.phase === 'crashed') {
          this.options.onEvent({
            kind: 'lifecycle',
            level: 'warn',
            message: `${r.id} exited (${r.exitReason}); restart ${r.restarts} follows`,
            instance: r.id,
          });
        } else if (r.phase === 'ready') {
          this.options.onEvent({ kind: 'lifecycle', level: 'info', message: `${r.id} is ready`, instance: r.id });
        } else if (r.phase === 'paused') {
          this.options.onEvent({ kind: 'lifecycle', level: 'warn', message: `${r.id} is paused`, instance: r.id });
        }
        if (r.pid !== lastPid) {
          lastPid = r.pid;
          this.options.onRecord();
        }
        this.options.onChange();
      },
    });
    this.replicas.set(id, replica);
    return replica;
  }
}

function indexOf(id: string): number {
  return Number(id.slice(id.lastIndexOf('-') + 1));
}
