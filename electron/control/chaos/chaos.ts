import pg from 'pg';
import { request } from 'undici';
import type { ActiveFault, ChaosAction, ChaosStatus, Instance, TimelineEvent } from '../../contract.js';
import type { ChaosActionModule, ChaosKit } from '../../chaos/action-kit.js';
import { actionName } from '../../chaos/action-kit.js';
import { CHAOS_ACTIONS } from '../../chaos/actions/index.js';
import type { Runtime } from '../runtimes/runtime.js';
import { ChaosMonkey } from './monkey.js';
import { NamedError } from '../../../backend/named-error.js';

/** A chaos action that cannot be done: no stack, no such instance, a fault the target has not. */
export class ChaosError extends NamedError {}

/** Options of {@link Chaos}. */
export interface ChaosOptions {
  /** The runtime of the running stack; undefined when none runs. */
  runtime: () => Runtime | undefined;
  /** Puts a line on the timeline: every action says what, when and where. */
  record: (event: Omit<TimelineEvent, 't'>) => void;
  /**
   * The running stack's read replica as the control plane reaches it (chaos `replica-delay`).
   * @defaultValue none: replica-delay says the replica is out of reach
   */
  replicaUrl?: () => string | undefined;
}

const MODULES = new Map<string, ChaosActionModule>(CHAOS_ACTIONS.map((m) => [actionName(m as ChaosActionModule), m as ChaosActionModule]));

/** An every-replica fault: what to send, and which incarnation (startedAt) of each replica has it. */
interface Everywhere {
  path: string;
  body: object;
  applied: Map<string, number>;
}

/**
 * Failures on demand, and the Chaos Monkey. What each action does lives in its module
 * (`electron/chaos/actions/`); this class is the kit they act through: kills, pauses and store
 * outages go through the runtime (which touches only the stack's own instances); latency, errors,
 * cpu, leaks, blocked event loops and the event pipeline's faults through the replicas'
 * token-guarded /admin hooks; the replica's replay delay through its SQL port.
 */
export class Chaos {
  private readonly faults = new Map<string, ActiveFault>();
  private readonly everywhere = new Map<string, Everywhere>();
  /** Timers that end a fault on their own; dropped by clear() and reset(). */
  private readonly timers = new Map<string, NodeJS.Timeout>();
  readonly monkey: ChaosMonkey;

  constructor(private readonly options: ChaosOptions) {
    this.monkey = new ChaosMonkey({
      instances: () => this.options.runtime()?.currentInstances(),
      kill: (id) => this.running().kill(id, 'kill'),
      onKill: (id) => this.options.record({ kind: 'chaos', level: 'warn', message: `monkey killed ${id}`, instance: id }),
    });
  }

  /** Does one action; resolves with the faults now in force. */
  async inject(action: ChaosAction): Promise<ChaosStatus> {
    const module = MODULES.get(action.action);
    if (!module) throw new ChaosError(`no chaos action "${action.action}"`);
    const done = await module.inject(this.kit(this.running()), action);
    this.options.record({ kind: 'chaos', level: 'warn', message: done.message, instance: done.instance });
    return { message: done.message, ...this.status() };
  }

  /** Undoes every reversible fault, each action its own (in reverse list order), and stops the monkey. */
  async clear(): Promise<ChaosStatus> {
    const runtime = this.options.runtime();
    this.dropTimers();
    this.everywhere.clear();
    this.monkey.stop();
    if (runtime) {
      const kit = this.kit(runtime);
      for (const module of [...MODULES.values()].reverse()) {
        await module
          .undo?.(kit)
          .catch((err: Error) =>
            this.options.record({ kind: 'chaos', level: 'error', message: `could not undo ${actionName(module)}: ${err.message}` }),
          );
      }
    }
    this.faults.clear();
    const message = 'chaos cleared: every reversible fault undone, monkey off';
    this.options.record({ kind: 'chaos', level: 'info', message });
    return { message, ...this.status() };
  }

  /** Faults in force (those that ended, or died with their replica, are left out) and the monkey. */
  status(): ChaosStatus {
    const now = Date.now();
    const runtime = this.options.runtime();
    const instances = new Map((runtime?.currentInstances() ?? []).map((i) => [i.id, i]));
    if (runtime) this.reapply(runtime, [...instances.values()]);
    for (const [key, fault] of this.faults) {
      const instance = instances.get(fault.target);
      const inForce = MODULES.get(fault.action)?.inForce ?? lastsUntilRestart;
      if (!inForce(fault, instance, now)) this.faults.delete(key);
    }
    const m = this.monkey;
    return {
      faults: [...this.faults.values()],
      monkey: { enabled: m.enabled, intervalSeconds: m.intervalSeconds, maxDown: m.maxDown, kills: m.kills, lastKillAt: m.lastKillAt },
    };
  }

  /** The stack stopped: the monkey stops and the faults are forgotten. Safe to call twice. */
  reset(): void {
    this.monkey.stop();
    this.dropTimers();
    this.faults.clear();
    this.everywhere.clear();
  }

  /** What the action modules act through, on this runtime. */
  private kit(runtime: Runtime): ChaosKit {
    const instance = (id: string): Instance => {
      const found = runtime.currentInstances().find((i) => i.id === id);
      if (!found) throw new ChaosError(`no instance "${id}" in this stack; \`scalelab status\` lists them`);
      return found;
    };
    const ready = (service: string) => runtime.currentInstances().filter((i) => i.service === service && i.phase === 'ready');
    let apiFaultsCleared: Promise<void> | undefined;
    return {
      runtimeName: runtime.name,
      spec: () => runtime.currentSpec(),
      instances: () => runtime.currentInstances(),
      instance,
      apiReplica(id, what) {
        const found = instance(id);
        if (found.service !== 'api')
          throw new ChaosError(`${what} acts on api replicas (their /admin fault hooks); ${found.id} is a ${found.service}`);
        return found;
      },
      apiTargets(target, what) {
        if (target !== 'all') return [this.apiReplica(target, what)];
        const all = ready('api');
        if (all.length === 0) throw new ChaosError('no ready api replica');
        return all;
      },
      random(service) {
        const candidates = ready(service);
        if (candidates.length === 0) throw new ChaosError(`no ready ${service} replica to kill`);
        return candidates[Math.floor(Math.random() * candidates.length)]!.id;
      },
      workers(required) {
        const workers = ready('worker');
        if (required && workers.length === 0)
          throw new ChaosError('no ready worker replica: the relay and the projector run in the workers; scale worker to 1 or more');
        return workers;
      },
      signal: (id, how) => runtime.kill(id, how),
      outage: (store, forMs, key, name) =>
        runtime.outage(store, forMs, (err) => {
          this.faults.delete(key);
          if (err)
            this.options.record({ kind: 'chaos', level: 'error', message: `${name} did not come back: ${err.message}`, instance: store });
          else this.options.record({ kind: 'chaos', level: 'info', message: `${name} is back`, instance: store });
        }),
      endOutage: (store) => runtime.endOutage(store),
      admin: (target, method, path, body) => this.admin(runtime, target, method, path, body),
      clearApiFaults: () =>
        (apiFaultsCleared ??= Promise.all(
          ready('api').map((i) => this.admin(runtime, i, 'DELETE', '/admin/faults').catch(() => undefined)),
        ).then(() => undefined)),
      faults: this.faults,
      everywhere: (key, fault) => {
        if (fault)
          this.everywhere.set(key, { path: fault.path, body: fault.body, applied: new Map(fault.applied.map((i) => [i.id, i.startedAt])) });
        else this.everywhere.delete(key);
      },
      later: (key, ms, work) => this.later(key, ms, work),
      cancel: (key) => {
        clearTimeout(this.timers.get(key));
        this.timers.delete(key);
      },
      record: (event) => this.options.record(event),
      monkey: this.monkey,
      replicaReachable: () => this.options.replicaUrl?.() !== undefined,
      replicaDelay: (ms) => this.setReplicaDelay(ms),
      fail: (message) => new ChaosError(message),
    };
  }

  /** Sends an every-replica fault to api replicas that started (or restarted) since it was applied. */
  private reapply(runtime: Runtime, instances: Instance[]): void {
    for (const fault of this.everywhere.values()) {
      for (const i of instances) {
        if (i.service !== 'api' || i.phase !== 'ready' || fault.applied.get(i.id) === i.startedAt) continue;
        fault.applied.set(i.id, i.startedAt);
        void this.admin(runtime, i, 'PUT', fault.path, fault.body).catch(() => fault.applied.delete(i.id));
      }
    }
  }

  private running(): Runtime {
    const runtime = this.options.runtime();
    if (!runtime) throw new ChaosError('no stack is running; start one with `scalelab up` before injecting failures');
    return runtime;
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

  private dropTimers(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  /** Sets (ms > 0) or resets the read replica's recovery_min_apply_delay; a reload applies it without a restart. */
  private async setReplicaDelay(ms: number): Promise<void> {
    const url = this.options.replicaUrl?.();
    if (!url) throw new ChaosError('the read replica is not reachable');
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
    client.on('error', () => undefined);
    await client.connect();
    try {
      // ALTER SYSTEM takes no parameters; ms is an integer checked by the contract's schema.
      await client.query(
        ms > 0 ? `ALTER SYSTEM SET recovery_min_apply_delay = '${Math.trunc(ms)}ms'` : 'ALTER SYSTEM RESET recovery_min_apply_delay',
      );
      await client.query('SELECT pg_reload_conf()');
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  private async admin(runtime: Runtime, instance: Instance, method: 'PUT' | 'POST' | 'DELETE', path: string, body?: object): Promise<void> {
    const token = runtime.adminToken();
    const base = runtime.instanceUrl?.(instance) ?? (instance.port ? `http://127.0.0.1:${instance.port}` : undefined);
    if (!token || !base) throw new ChaosError(`${instance.id} has no admin endpoint`);
    const response = await request(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      headersTimeout: 5_000,
      bodyTimeout: 5_000,
    });
    const text = await response.body.text();
    if (response.statusCode >= 300)
      throw new ChaosError(`${instance.id} refused ${method} ${path}: ${response.statusCode} ${text.slice(0, 200)}`);
  }
}

/** A fault ends at its `until`, and with the api replica it lived in when that restarts. */
function lastsUntilRestart(fault: ActiveFault, instance: Instance | undefined, now: number): boolean {
  const restarted = instance !== undefined && instance.service === 'api' && instance.startedAt > fault.since;
  return (fault.until === null || fault.until >= now) && !restarted;
}
