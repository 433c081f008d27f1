import { request } from 'undici';
import type { ActiveFault, ChaosAction, ChaosStatus, Instance, TimelineEvent } from '../../contract.js';
import type { Runtime } from '../runtimes/runtime.js';
import { DataChaos, isDataChaosAction } from './data-chaos.js';
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

const SECOND = 1000;

/**
 * Failures on demand, and the Chaos Monkey. Kills, pauses and store outages go through the
 * runtime (which touches only the stack's own instances); latency, errors, cpu, leaks and blocked
 * event loops go through the api replicas' token-guarded /admin fault hooks.
 */
export class Chaos {
  private readonly faults = new Map<string, ActiveFault>();
  /** Faults on every api replica: what to send, and which incarnation (startedAt) of each replica has it. */
  private readonly everywhere = new Map<'latency' | 'errors', { path: string; body: object; applied: Map<string, number> }>();
  readonly monkey: ChaosMonkey;
  /** The read replica and the event pipeline's faults. */
  private readonly data: DataChaos;

  constructor(private readonly options: ChaosOptions) {
    this.data = new DataChaos({
      replicaUrl: () => this.options.replicaUrl?.(),
      faults: this.faults,
      record: (event) => this.options.record(event),
      admin: (runtime, instance, method, path, body) => this.admin(runtime, instance, method, path, body),
      fail: (message) => new ChaosError(message),
    });
    this.monkey = new ChaosMonkey({
      instances: () => this.options.runtime()?.currentInstances(),
      kill: (id) => this.running().kill(id, 'kill'),
      onKill: (id) => this.options.record({ kind: 'chaos', level: 'warn', message: `monkey killed ${id}`, instance: id }),
    });
  }

  /** Does one action; resolves with the faults now in force. */
  async inject(action: ChaosAction): Promise<ChaosStatus> {
    const runtime = this.running();
    let said = '';
    const say = (message: string, instance?: string) => {
      said = message;
      this.options.record({ kind: 'chaos', level: 'warn', message, instance });
    };
    if (isDataChaosAction(action)) {
      const done = await this.data.inject(runtime, action);
      say(done.message, done.instance);
      return { message: said, ...this.status() };
    }
    switch (action.action) {
      case 'kill': {
        const id = action.target.startsWith('random-') ? this.random(runtime, action.target === 'random-api' ? 'api' : 'worker') : this.instance(runtime, action.target).id;
        await runtime.kill(id, action.graceful ? 'stop' : 'kill');
        say(`${action.graceful ? 'stop' : 'kill'} ${id}`, id);
        break;
      }
      case 'pause':
      case 'resume': {
        const id = this.instance(runtime, action.target).id;
        await runtime.kill(id, action.action);
        if (action.action === 'pause') this.faults.set(`pause:${id}`, { action: 'pause', target: id, detail: 'frozen (SIGSTOP) until resumed', since: Date.now(), until: null });
        else this.faults.delete(`pause:${id}`);
        say(`${action.action} ${id}`, id);
        break;
      }
      case 'kill-cache':
      case 'kill-db': {
        const store = action.action === 'kill-cache' ? 'redis' : 'postgres';
        const forMs = (action.forSeconds ?? (store === 'redis' ? 10 : 5)) * SECOND;
        const key = `${action.action}:${store}`;
        await runtime.outage(store, forMs, (err) => {
          this.faults.delete(key);
          if (err) this.options.record({ kind: 'chaos', level: 'error', message: `${store} did not come back: ${err.message}`, instance: store });
          else this.options.record({ kind: 'chaos', level: 'info', message: `${store} is back`, instance: store });
        });
        this.faults.set(key, { action: action.action, target: store, detail: `down for ${forMs / SECOND} s`, since: Date.now(), until: Date.now() + forMs });
        say(`killed ${store}; back in ${forMs / SECOND} s`, store);
        break;
      }
      case 'latency':
      case 'errors': {
        const body = action.action === 'latency' ? { dbMs: action.dbMs, cacheMs: action.cacheMs } : { rate: action.rate };
        if (action.action === 'latency' && body.dbMs === undefined && body.cacheMs === undefined) throw new ChaosError('latency needs --db or --cache (ms)');
        const targets = this.apiTargets(runtime, action.target);
        await Promise.all(targets.map((i) => this.admin(runtime, i, 'PUT', `/admin/faults/${action.action}`, body)));
        const detail = action.action === 'latency' ? [action.dbMs !== undefined ? `db +${action.dbMs} ms` : '', action.cacheMs !== undefined ? `cache +${action.cacheMs} ms` : ''].filter(Boolean).join(', ') : `${Math.round(action.rate * 100)} % errors`;
        if (action.target === 'all') {
          // One fault for the service: replicas that restart or are added later get it too (see status()).
          for (const i of runtime.currentInstances()) this.faults.delete(`${action.action}:${i.id}`);
          this.faults.set(`${action.action}:all`, { action: action.action, target: 'all', detail, since: Date.now(), until: null });
          this.everywhere.set(action.action, { path: `/admin/faults/${action.action}`, body, applied: new Map(targets.map((i) => [i.id, i.startedAt])) });
        } else {
          for (const i of targets) this.faults.set(`${action.action}:${i.id}`, { action: action.action, target: i.id, detail, since: Date.now(), until: null });
        }
        say(`${action.action} on ${action.target === 'all' ? `every api replica (${targets.map((i) => i.id).join(', ')})` : action.target}: ${detail}`, action.target === 'all' ? undefined : action.target);
        break;
      }
      case 'cpu':
      case 'leak':
      case 'block': {
        const target = this.instance(runtime, action.target);
        if (target.service !== 'api') throw new ChaosError(`${action.action} acts on api replicas (their /admin fault hooks); ${target.id} is a ${target.service}`);
        const [body, detail, until] =
          action.action === 'cpu'
            ? [{ threads: action.threads ?? 1, durationMs: (action.seconds ?? 30) * SECOND }, `${action.threads ?? 1} thread${(action.threads ?? 1) === 1 ? '' : 's'} for ${action.seconds ?? 30} s`, Date.now() + (action.seconds ?? 30) * SECOND]
            : action.action === 'leak'
              ? [{ mbPerSecond: action.mbPerSecond ?? 10 }, `${action.mbPerSecond ?? 10} MiB/s until restarted`, null]
              : [{ ms: action.ms ?? 2000 }, `event loop blocked ${action.ms ?? 2000} ms`, Date.now() + (action.ms ?? 2000)];
        // A block stalls the replica itself: do not wait for its answer.
        const sent = this.admin(runtime, target, 'POST', `/admin/faults/${action.action}`, body);
        if (action.action !== 'block') await sent;
        else void sent.catch(() => undefined);
        this.faults.set(`${action.action}:${target.id}`, { action: action.action, target: target.id, detail, since: Date.now(), until });
        say(`${action.action} on ${target.id}: ${detail}`, target.id);
        break;
      }
      case 'monkey': {
        this.monkey.set(action.enabled, action.intervalSeconds, action.maxDown);
        say(action.enabled ? `Chaos Monkey on: a random replica every ~${this.monkey.intervalSeconds} s, at most ${this.monkey.maxDown} down at once` : 'Chaos Monkey off');
        break;
      }
    }
    return { message: said, ...this.status() };
  }

  /** Undoes every reversible fault: the replicas' fault hooks, stores held down, the data layer's faults, the monkey. */
  async clear(): Promise<ChaosStatus> {
    const runtime = this.options.runtime();
    this.monkey.stop();
    this.everywhere.clear();
    await this.data.clear(runtime);
    if (runtime) {
      runtime.endOutage('redis');
      runtime.endOutage('postgres');
      const paused = [...this.faults.values()].filter((f) => f.action === 'pause').map((f) => f.target);
      await Promise.all(paused.map((id) => runtime.kill(id, 'resume').catch(() => undefined)));
      const api = runtime.currentInstances().filter((i) => i.service === 'api' && i.phase === 'ready');
      await Promise.all(api.map((i) => this.admin(runtime, i, 'DELETE', '/admin/faults').catch(() => undefined)));
    }
    this.faults.clear();
    const message = 'chaos cleared: every reversible fault undone, monkey off';
    this.options.record({ kind: 'chaos', level: 'info', message });
    return { message, ...this.status() };
  }

  /** Faults in force (those that ended, or died with their replica, are left out) and the monkey. */
  status(): ChaosStatus {
    const now = Date.now();
    const instances = new Map((this.options.runtime()?.currentInstances() ?? []).map((i) => [i.id, i]));
    const runtime = this.options.runtime();
    if (runtime) this.reapply(runtime, [...instances.values()]);
    for (const [key, fault] of this.faults) {
      const instance = instances.get(fault.target);
      if (fault.action === 'pause' && instance?.phase !== 'paused') {
        this.faults.delete(key);
        continue;
      }
      const restarted = instance !== undefined && instance.service === 'api' && instance.startedAt > fault.since;
      if ((fault.until !== null && fault.until < now && !fault.action.startsWith('kill-')) || restarted) this.faults.delete(key);
    }
    const m = this.monkey;
    return { faults: [...this.faults.values()], monkey: { enabled: m.enabled, intervalSeconds: m.intervalSeconds, maxDown: m.maxDown, kills: m.kills, lastKillAt: m.lastKillAt } };
  }

  /** The stack stopped: the monkey stops and the faults are forgotten. */
  reset(): void {
    this.monkey.stop();
    this.data.reset();
    this.faults.clear();
    this.everywhere.clear();
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

  private instance(runtime: Runtime, id: string): Instance {
    const found = runtime.currentInstances().find((i) => i.id === id);
    if (!found) throw new ChaosError(`no instance "${id}" in this stack; \`scalelab status\` lists them`);
    return found;
  }

  private random(runtime: Runtime, service: 'api' | 'worker'): string {
    const ready = runtime.currentInstances().filter((i) => i.service === service && i.phase === 'ready');
    if (ready.length === 0) throw new ChaosError(`no ready ${service} replica to kill`);
    return ready[Math.floor(Math.random() * ready.length)]!.id;
  }

  private apiTargets(runtime: Runtime, target: string): Instance[] {
    if (target !== 'all') {
      const one = this.instance(runtime, target);
      if (one.service !== 'api') throw new ChaosError(`latency and errors act on api replicas; ${one.id} is a ${one.service}`);
      return [one];
    }
    const all = runtime.currentInstances().filter((i) => i.service === 'api' && i.phase === 'ready');
    if (all.length === 0) throw new ChaosError('no ready api replica');
    return all;
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
    if (response.statusCode >= 300) throw new ChaosError(`${instance.id} refused ${method} ${path}: ${response.statusCode} ${text.slice(0, 200)}`);
  }
}
