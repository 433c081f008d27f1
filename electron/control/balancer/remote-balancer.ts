import { Pool } from 'undici';
import { isAlive } from '../runtimes/local/adopted-process.js';
import type { StoredSpan } from '../traces/otlp-json.js';
import type { BalancerHandle, UpstreamState } from './balancer.js';
import type { BalancerSnapshot } from './stats.js';
import { NamedError } from '../../../backend/named-error.js';

/** Where a balancer process is and how to drive it: what the stack's state file records (mode 0600). */
export interface BalancerRecord {
  pid: number;
  /** Its public port on 127.0.0.1. */
  port: number;
  /** Its control API's port on 127.0.0.1. */
  controlPort: number;
  /** Bearer token of the control API. */
  token: string;
}

/** Options of {@link RemoteBalancer}. */
export interface RemoteBalancerOptions {
  /** Asked on every collection: where the balancer's spans go; undefined turns them off. */
  traceSink?: () => ((span: StoredSpan) => void) | undefined;
  /** How often spans are collected. @defaultValue 1000 */
  spanPollMs?: number;
}

/** The balancer process did not answer its control API. */
export class BalancerUnreachableError extends NamedError {}

const CALL_TIMEOUT_MS = 2_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The control plane's side of a balancer process (balancer-process.ts): the same handle as an
 * in-process {@link Balancer}, over the process's control API. Upstream changes are kept here as
 * the wanted state and sent in order; a re-attached or restarted process gets all of it again.
 * Closing the control plane only detaches: the process keeps serving.
 */
export class RemoteBalancer implements BalancerHandle {
  private readonly wanted = new Map<string, { origin: string; ready: boolean }>();
  private pool: Pool;
  private chain: Promise<void> = Promise.resolve();
  private spanTimer: NodeJS.Timeout | undefined;
  private detached = false;

  private constructor(
    private current: BalancerRecord,
    private readonly options: RemoteBalancerOptions,
  ) {
    this.pool = new Pool(`http://127.0.0.1:${current.controlPort}`, { connections: 4 });
  }

  /**
   * Attaches to the balancer process `record` names, waiting up to `timeoutMs` for its control
   * API; its current upstreams become the wanted state until the runtime says otherwise.
   */
  static async connect(record: BalancerRecord, options: RemoteBalancerOptions = {}, timeoutMs = 15_000): Promise<RemoteBalancer> {
    const remote = new RemoteBalancer(record, options);
    try {
      const state = await remote.waitState(timeoutMs);
      for (const u of state.upstreams) if (!u.leaving) remote.wanted.set(u.id, { origin: u.origin, ready: u.ready });
    } catch (err) {
      await remote.pool.close().catch(() => undefined);
      throw err;
    }
    remote.pollSpans();
    return remote;
  }

  get port(): number {
    return this.current.port;
  }

  /** What the state file records. */
  get record(): BalancerRecord {
    return { ...this.current };
  }

  add(id: string, origin: string): void {
    const known = this.wanted.get(id);
    this.wanted.set(id, { origin, ready: known?.origin === origin ? known.ready : false });
    this.send(id);
  }

  /** Resolves once every change sent so far reached the balancer. */
  settled(): Promise<void> {
    return this.chain;
  }

  setReady(id: string, ready: boolean): void {
    const known = this.wanted.get(id);
    if (!known || known.ready === ready) return;
    known.ready = ready;
    this.send(id);
  }

  /** Takes the upstream out and resolves once its in-flight requests finished (or `timeoutMs`). */
  async remove(id: string, timeoutMs = 30_000): Promise<void> {
    this.wanted.delete(id);
    await this.chain;
    await this.call('POST', `/upstreams/${id}/drain`, { timeoutMs }, timeoutMs + CALL_TIMEOUT_MS).catch(() => undefined);
  }

  /** Drains every upstream but `ids`: what a re-attached control plane no longer runs. */
  async retain(ids: string[]): Promise<void> {
    const keep = new Set(ids);
    for (const id of [...this.wanted.keys()]) if (!keep.has(id)) this.wanted.delete(id);
    await this.chain;
    await this.call('POST', '/retain', { ids });
  }

  /** Upstreams as the process sees them. */
  async list(): Promise<UpstreamState[]> {
    return ((await this.call('GET', '/state')) as { upstreams: UpstreamState[] }).upstreams;
  }

  /** Counts since the previous call; undefined when the process does not answer. */
  async takeSnapshot(): Promise<BalancerSnapshot | undefined> {
    try {
      return (await this.call('GET', '/snapshot')) as BalancerSnapshot;
    } catch {
      return undefined;
    }
  }

  /** Switches to a new process (the old one died and was started again) and sends it the wanted state. */
  async replace(record: BalancerRecord): Promise<void> {
    const old = this.pool;
    this.current = record;
    this.pool = new Pool(`http://127.0.0.1:${record.controlPort}`, { connections: 4 });
    void old.close().catch(() => undefined);
    await this.waitState(15_000);
    for (const id of this.wanted.keys()) this.send(id);
    await this.chain;
  }

  /** Stops the balancer process (the stack goes down). Safe to call twice. */
  async close(): Promise<void> {
    if (this.detached) return;
    await this.call('POST', '/shutdown').catch(() => undefined);
    const pid = this.current.pid;
    const deadline = Date.now() + 5_000;
    while (isAlive(pid) && Date.now() < deadline) await sleep(50);
    if (isAlive(pid)) signal(pid, 'SIGKILL');
    await this.detach();
  }

  /** Stops driving the process, which keeps serving (a control plane closing or restarting). Safe twice. */
  async detach(): Promise<void> {
    if (this.detached) return;
    this.detached = true;
    clearTimeout(this.spanTimer);
    await this.chain;
    await this.pool.close().catch(() => undefined);
  }

  private send(id: string): void {
    this.chain = this.chain.then(async () => {
      const wanted = this.wanted.get(id);
      if (!wanted || this.detached) return;
      await this.call('PUT', `/upstreams/${id}`, wanted).catch((err: Error) =>
        console.warn(`balancer: could not update ${id}: ${err.message}`),
      );
    });
  }

  private pollSpans(): void {
    const tick = async () => {
      const sink = this.options.traceSink?.();
      const taken = (await this.call('POST', '/spans', { tracing: sink !== undefined }).catch(() => undefined)) as
        { spans: StoredSpan[] } | undefined;
      if (sink) for (const span of taken?.spans ?? []) sink(span);
    };
    const loop = () => {
      this.spanTimer = setTimeout(() => {
        void tick().finally(() => {
          if (!this.detached) loop();
        });
      }, this.options.spanPollMs ?? 1_000);
      this.spanTimer.unref();
    };
    loop();
  }

  private async waitState(timeoutMs: number): Promise<{ pid: number; upstreams: UpstreamState[] }> {
    const deadline = Date.now() + timeoutMs;
    let last: Error | undefined;
    while (Date.now() < deadline) {
      try {
        const state = (await this.call('GET', '/state')) as { pid: number; upstreams: UpstreamState[] };
        if (state.pid !== this.current.pid)
          throw new BalancerUnreachableError(
            `port ${this.current.controlPort} is another balancer (pid ${state.pid}, not ${this.current.pid})`,
          );
        return state;
      } catch (err) {
        if (err instanceof BalancerUnreachableError) throw err;
        last = err as Error;
        if (!isAlive(this.current.pid)) break;
        await sleep(100);
      }
    }
    throw new BalancerUnreachableError(
      `the balancer (pid ${this.current.pid}) does not answer on 127.0.0.1:${this.current.controlPort}: ${last?.message ?? 'timed out'}`,
    );
  }

  private async call(method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown, timeoutMs = CALL_TIMEOUT_MS): Promise<unknown> {
    const response = await this.pool.request({
      path,
      method,
      headers: { authorization: `Bearer ${this.current.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const text = await response.body.text();
    if (response.statusCode !== 200) throw new BalancerUnreachableError(`${method} ${path}: ${response.statusCode} ${text.slice(0, 200)}`);
    return JSON.parse(text) as unknown;
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}
