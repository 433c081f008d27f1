import pg from 'pg';
import type { ActiveFault, ChaosAction, Instance, TimelineEvent } from '../../contract.js';
import type { Runtime } from '../runtimes/runtime.js';

/** The data-layer chaos actions. */
export type DataChaosAction = Extract<ChaosAction, { action: 'kill-replica' | 'replica-delay' | 'kill-relay' | 'kill-projector' }>;

/** True for the actions {@link DataChaos} handles. */
export function isDataChaosAction(action: ChaosAction): action is DataChaosAction {
  return action.action === 'kill-replica' || action.action === 'replica-delay' || action.action === 'kill-relay' || action.action === 'kill-projector';
}

/** Options of {@link DataChaos}. */
export interface DataChaosOptions {
  /** The running stack's read replica as the control plane reaches it; undefined when none runs or it is out of reach. */
  replicaUrl: () => string | undefined;
  /** The faults in force, shared with the rest of chaos (status lists them all). */
  faults: Map<string, ActiveFault>;
  /** Puts a line on the timeline. */
  record: (event: Omit<TimelineEvent, 't'>) => void;
  /** Calls an instance's token-guarded /admin route; throws naming the instance when it refuses. */
  admin: (runtime: Runtime, instance: Instance, method: 'POST', path: string, body: object) => Promise<void>;
  /** Builds the error chaos throws for an action that cannot be done. */
  fail: (message: string) => Error;
}

/** What an action did, for the timeline and the command's answer. */
export interface DataChaosResult {
  message: string;
  instance?: string;
}

/** Instance id the runtimes give the read replica; also the outage's {@link StoreId}. */
const REPLICA = 'postgres-replica';
const SECOND = 1000;
/** The two stream components a worker runs; chaos stops either through the worker's /admin routes. */
type StreamComponent = 'relay' | 'projector';

/**
 * Chaos for the data layer: the read replica (killed, or its replay delayed) and the event
 * pipeline's relay and projector in the workers. Every fault ends on its own, and on `clear`.
 */
export class DataChaos {
  /** Timers that end a fault (a replay delay, a stopped stream component) on its own. */
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly options: DataChaosOptions) {}

  async inject(runtime: Runtime, action: DataChaosAction): Promise<DataChaosResult> {
    switch (action.action) {
      case 'kill-replica':
        return this.killReplica(runtime, (action.forSeconds ?? 10) * SECOND);
      case 'replica-delay':
        return this.delayReplica(runtime, action.ms, (action.forSeconds ?? 30) * SECOND);
      case 'kill-relay':
      case 'kill-projector':
        return this.killStream(runtime, action.action === 'kill-relay' ? 'relay' : 'projector', action.forSeconds ?? 10);
    }
  }

  /** Undoes what is in force: the replica back up, its delay off, the stream components revived. */
  async clear(runtime: Runtime | undefined): Promise<void> {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    if (!runtime) return;
    const { faults } = this.options;
    // The delay first: a replica that is down for an outage cannot take it, and would keep it.
    if (faults.has(`replica-delay:${REPLICA}`)) {
      await this.setDelay(0).catch((err: Error) =>
        this.options.record({ kind: 'chaos', level: 'error', message: `could not end the read replica's replay delay: ${err.message}; run \`scalelab chaos clear\` again once it answers`, instance: REPLICA }),
      );
    }
    runtime.endOutage(REPLICA);
    const work: Promise<unknown>[] = [];
    for (const component of ['relay', 'projector'] as const) {
      if (!faults.has(`kill-${component}:workers`)) continue;
      faults.delete(`kill-${component}:workers`);
      work.push(...this.workers(runtime, false).map((w) => this.options.admin(runtime, w, 'POST', '/admin/stream/revive', { component }).catch(() => undefined)));
    }
    await Promise.all(work);
  }

  /** The stack stopped: nothing to undo, only timers to drop. Safe to call twice. */
  reset(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private async killReplica(runtime: Runtime, forMs: number): Promise<DataChaosResult> {
    this.needReplica(runtime);
    const key = `kill-replica:${REPLICA}`;
    await runtime.outage(REPLICA, forMs, (err) => {
      this.options.faults.delete(key);
      if (err) this.options.record({ kind: 'chaos', level: 'error', message: `the read replica did not come back: ${err.message}`, instance: REPLICA });
      else this.options.record({ kind: 'chaos', level: 'info', message: 'the read replica is back', instance: REPLICA });
    });
    this.options.faults.set(key, { action: 'kill-replica', target: REPLICA, detail: `down for ${forMs / SECOND} s; reads go to the primary`, since: Date.now(), until: Date.now() + forMs });
    return { message: `killed the read replica; back in ${forMs / SECOND} s`, instance: REPLICA };
  }

  /**
   * recovery_min_apply_delay holds each commit back on the replica for `ms`: it keeps receiving
   * WAL but shows the change late, which is what replica lag looks like to a reader.
   */
  private async delayReplica(runtime: Runtime, ms: number, forMs: number): Promise<DataChaosResult> {
    this.needReplica(runtime);
    if (!this.options.replicaUrl()) throw this.options.fail(`the read replica is out of the control plane's reach on ${runtime.name}; replica-delay needs the local or docker runtime`);
    const key = `replica-delay:${REPLICA}`;
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    await this.setDelay(ms);
    if (ms === 0) {
      this.options.faults.delete(key);
      return { message: 'read replica replay delay off', instance: REPLICA };
    }
    this.options.faults.set(key, { action: 'replica-delay', target: REPLICA, detail: `replay ${ms} ms behind for ${forMs / SECOND} s`, since: Date.now(), until: Date.now() + forMs });
    this.later(key, forMs, async () => {
      try {
        await this.setDelay(0);
        this.options.faults.delete(key);
        this.options.record({ kind: 'chaos', level: 'info', message: 'read replica replay delay ended', instance: REPLICA });
      } catch (err) {
        this.options.record({ kind: 'chaos', level: 'error', message: `could not end the read replica's replay delay: ${(err as Error).message}; run \`scalelab chaos clear\``, instance: REPLICA });
      }
    });
    return { message: `read replica replays ${ms} ms behind the primary for ${forMs / SECOND} s`, instance: REPLICA };
  }

  /** Sets (ms > 0) or resets the replica's recovery_min_apply_delay; a reload applies it without a restart. */
  private async setDelay(ms: number): Promise<void> {
    const url = this.options.replicaUrl();
    if (!url) throw this.options.fail('the read replica is not reachable');
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
    client.on('error', () => undefined);
    await client.connect();
    try {
      // ALTER SYSTEM takes no parameters; ms is an integer checked by the contract's schema.
      await client.query(ms > 0 ? `ALTER SYSTEM SET recovery_min_apply_delay = '${Math.trunc(ms)}ms'` : 'ALTER SYSTEM RESET recovery_min_apply_delay');
      await client.query('SELECT pg_reload_conf()');
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  private async killStream(runtime: Runtime, component: StreamComponent, forSeconds: number): Promise<DataChaosResult> {
    if (runtime.currentSpec()?.data?.events === false) throw this.options.fail('this stack runs no event pipeline; start it with data.events on');
    const workers = this.workers(runtime, true);
    await Promise.all(workers.map((w) => this.options.admin(runtime, w, 'POST', '/admin/stream/kill', { component, forSeconds })));
    const key = `kill-${component}:workers`;
    const forMs = forSeconds * SECOND;
    this.options.faults.set(key, { action: `kill-${component}`, target: 'workers', detail: `${component} stopped in ${workers.map((w) => w.id).join(', ')} for ${forSeconds} s`, since: Date.now(), until: Date.now() + forMs });
    // The workers revive it themselves after forSeconds; this only ends the fault in the status.
    this.later(key, forMs, () => {
      this.options.faults.delete(key);
      this.options.record({ kind: 'chaos', level: 'info', message: `the ${component} runs again in every worker` });
    });
    return { message: `killed the ${component} in ${workers.map((w) => w.id).join(', ')}; back in ${forSeconds} s` };
  }

  private workers(runtime: Runtime, required: boolean): Instance[] {
    const ready = runtime.currentInstances().filter((i) => i.service === 'worker' && i.phase === 'ready');
    if (required && ready.length === 0) throw this.options.fail('no ready worker replica: the relay and the projector run in the workers; scale worker to 1 or more');
    return ready;
  }

  private needReplica(runtime: Runtime): void {
    if (!runtime.currentSpec()?.data?.readReplica) throw this.options.fail('this stack runs no read replica; start it with data.readReplica on');
  }

  private later(key: string, ms: number, work: () => void | Promise<void>): void {
    clearTimeout(this.timers.get(key));
    const timer = setTimeout(() => {
      this.timers.delete(key);
      void work();
    }, ms);
    timer.unref();
    this.timers.set(key, timer);
  }
}
