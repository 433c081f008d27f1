import { isAlive } from '../../runtimes/local/adopted-process.js';
import type { BalancerHandle, UpstreamState } from '../balancer.js';
import type { BalancerSnapshot } from '../stats.js';
import { BACKEND, HAPROXY_SLOTS, slotName } from './haproxy-config.js';
import { HaproxyStats, readingOf } from './haproxy-stats.js';
import { LatencyReceiver } from './latency-receiver.js';
import { parseServersState, parseStatCsv, runtimeCommand, runtimeSet, RuntimeApiError } from './runtime-api.js';

/** Where an HAProxy balancer is and how to drive it: what the stack's state file records (mode 0600). */
export interface HaproxyRecord {
  engine: 'haproxy';
  pid: number;
  /** Its public port on 127.0.0.1. */
  port: number;
  /** The runtime API's unix socket (mode 0600). */
  socket: string;
  /** The UDP port on 127.0.0.1 its log lines go to (the control plane's latency receiver). */
  logPort: number;
  /** The prefix of its log lines. */
  secret: string;
}

/** A slot of the backend's `server-template`, as this control plane wants it. */
interface Slot {
  /** The instance in it; undefined when free, or held by a replica an adopted HAProxy still routes to. */
  id: string | undefined;
  host: string;
  port: number;
  ready: boolean;
  leaving: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `http://127.0.0.1:4101` → host and port; the replicas' origins are always of that form. */
function addressOf(origin: string): { host: string; port: number } {
  const url = new URL(origin);
  const port = Number(url.port);
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(url.hostname) || !Number.isInteger(port) || port < 1 || port > 65_535)
    throw new RuntimeApiError(`not an IPv4 origin with a port: ${origin}`);
  return { host: url.hostname, port };
}

/**
 * The control plane's side of an HAProxy balancer: the same handle as the Node balancer's
 * (RemoteBalancer), over HAProxy's runtime API. A replica gets a slot (an address and a state:
 * `ready`, `drain` while leaving, `maint` when out); counts come from `show stat`, latency from the
 * sampled log lines. Closing the control plane only detaches: HAProxy keeps serving, and the next
 * control plane re-attaches by the slots' addresses.
 */
export class HaproxyBalancer implements BalancerHandle {
  private readonly slots: (Slot | undefined)[] = Array.from({ length: HAPROXY_SLOTS }, () => undefined);
  private readonly stats = new HaproxyStats();
  private receiver: LatencyReceiver;
  private chain: Promise<void> = Promise.resolve();
  private detached = false;

  private constructor(
    private current: HaproxyRecord,
    private readonly onWarn: (message: string) => void,
  ) {
    this.receiver = new LatencyReceiver(current.secret);
  }

  /**
   * Attaches to the HAProxy `record` names, waiting up to `timeoutMs` for its runtime API; slots
   * that already route somewhere are kept as they are until the runtime says otherwise.
   */
  static async connect(
    record: HaproxyRecord,
    onWarn: (message: string) => void = console.warn,
    timeoutMs = 15_000,
  ): Promise<HaproxyBalancer> {
    const balancer = new HaproxyBalancer(record, onWarn);
    await balancer.waitRuntimeApi(timeoutMs);
    await balancer.listenLog();
    for (const state of parseServersState(await runtimeCommand(record.socket, `show servers state ${BACKEND}`))) {
      const index = Number(state.name.slice(1)) - 1;
      if (index >= 0 && index < HAPROXY_SLOTS && !state.maint)
        balancer.slots[index] = { id: undefined, host: state.addr, port: state.port, ready: !state.drain, leaving: false };
    }
    return balancer;
  }

  get port(): number {
    return this.current.port;
  }

  /** What the state file records. */
  get record(): HaproxyRecord {
    return { ...this.current };
  }

  add(id: string, origin: string): void {
    const { host, port } = addressOf(origin);
    const held = this.slots.findIndex((s) => s?.id === id);
    if (held >= 0 && this.slots[held]?.host === host && this.slots[held]?.port === port) return;
    if (held >= 0) this.free(held);
    // A slot an adopted HAProxy already routes to this address keeps serving: claim it as it is.
    const adopted = this.slots.findIndex((s) => s !== undefined && s.id === undefined && s.host === host && s.port === port && !s.leaving);
    if (adopted >= 0) {
      (this.slots[adopted] as Slot).id = id;
      return;
    }
    const free = this.slots.findIndex((s) => s === undefined);
    if (free < 0) {
      this.onWarn(`balancer: no free slot for ${id} (HAProxy has ${HAPROXY_SLOTS}); it gets no traffic`);
      return;
    }
    this.slots[free] = { id, host, port, ready: false, leaving: false };
    this.send([
      `set server ${BACKEND}/${slotName(free + 1)} state maint`,
      `set server ${BACKEND}/${slotName(free + 1)} addr ${host} port ${port}`,
    ]);
  }

  /** Resolves once every change sent so far reached the balancer. */
  settled(): Promise<void> {
    return this.chain;
  }

  setReady(id: string, ready: boolean): void {
    const index = this.slots.findIndex((s) => s?.id === id);
    const slot = this.slots[index];
    if (!slot || slot.leaving || slot.ready === ready) return;
    slot.ready = ready;
    this.send([`set server ${BACKEND}/${slotName(index + 1)} state ${ready ? 'ready' : 'maint'}`]);
  }

  /** Takes the upstream out and resolves once its in-flight requests finished (or `timeoutMs`). */
  async remove(id: string, timeoutMs = 30_000): Promise<void> {
    const index = this.slots.findIndex((s) => s?.id === id);
    if (index >= 0) await this.drain(index, timeoutMs);
  }

  /** Drains every slot but those of `ids`: what a re-attached control plane no longer runs. */
  async retain(ids: string[]): Promise<void> {
    const keep = new Set(ids);
    const leaving = this.slots.flatMap((s, i) => (s && !(s.id !== undefined && keep.has(s.id)) ? [i] : []));
    await Promise.all(leaving.map((i) => this.drain(i, 10_000)));
  }

  /** Upstreams as HAProxy routes them now (every change sent so far applied), with its in-flight counts. */
  async list(): Promise<UpstreamState[]> {
    await this.chain;
    const [states, reading] = await Promise.all([
      runtimeCommand(this.current.socket, `show servers state ${BACKEND}`).then(parseServersState),
      runtimeCommand(this.current.socket, 'show stat').then((t) => readingOf(parseStatCsv(t))),
    ]);
    return this.slots.flatMap((s, i) => {
      const name = slotName(i + 1);
      const live = states.find((st) => st.name === name);
      if (!s || !live) return [];
      const routable = !live.maint && !live.drain;
      return [
        {
          id: s.id ?? `(slot ${name})`,
          origin: `http://${live.addr}:${live.port}`,
          ready: routable,
          leaving: live.drain,
          inFlight: reading?.slots.get(name)?.cur ?? 0,
        },
      ];
    });
  }

  /** Counts since the previous call; undefined when HAProxy does not answer. */
  async takeSnapshot(): Promise<BalancerSnapshot | undefined> {
    let reading;
    try {
      reading = readingOf(parseStatCsv(await runtimeCommand(this.current.socket, 'show stat')));
    } catch {
      return undefined;
    }
    if (!reading) return undefined;
    const owners = new Map<string, string>();
    this.slots.forEach((s, i) => {
      if (s?.id !== undefined) owners.set(slotName(i + 1), s.id);
    });
    return this.stats.take(reading, this.receiver.take(), owners);
  }

  /** Switches to a new HAProxy (the old one died and was started again) and sends it every slot. */
  async replace(record: HaproxyRecord): Promise<void> {
    this.current = record;
    await this.waitRuntimeApi(15_000);
    this.slots.forEach((s, i) => {
      if (!s) return;
      const name = `${BACKEND}/${slotName(i + 1)}`;
      this.send([
        `set server ${name} addr ${s.host} port ${s.port}`,
        `set server ${name} state ${s.leaving ? 'drain' : s.ready ? 'ready' : 'maint'}`,
      ]);
    });
    await this.chain;
  }

  /** Stops HAProxy (the stack goes down): a soft stop lets in-flight requests finish. Safe twice. */
  async close(): Promise<void> {
    if (this.detached) return;
    const pid = this.current.pid;
    signal(pid, 'SIGUSR1');
    const deadline = Date.now() + 5_000;
    while (isAlive(pid) && Date.now() < deadline) await sleep(50);
    if (isAlive(pid)) signal(pid, 'SIGKILL');
    await this.detach();
  }

  /** Stops driving HAProxy, which keeps serving (a control plane closing or restarting). Safe twice. */
  async detach(): Promise<void> {
    if (this.detached) return;
    this.detached = true;
    await this.chain;
    await this.receiver.close();
  }

  private async drain(index: number, timeoutMs: number): Promise<void> {
    const slot = this.slots[index];
    if (!slot) return;
    const name = slotName(index + 1);
    slot.leaving = true;
    this.send([`set server ${BACKEND}/${name} state drain`]);
    await this.chain;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !this.detached) {
      const reading = await runtimeCommand(this.current.socket, 'show stat').then(
        (t) => readingOf(parseStatCsv(t)),
        () => undefined,
      );
      if (!reading || (reading.slots.get(name)?.cur ?? 0) === 0) break;
      await sleep(50);
    }
    this.send([`set server ${BACKEND}/${name} state maint`]);
    await this.chain;
    if (this.slots[index] === slot) this.slots[index] = undefined;
  }

  private free(index: number): void {
    this.slots[index] = undefined;
    this.send([`set server ${BACKEND}/${slotName(index + 1)} state maint`]);
  }

  private send(commands: string[]): void {
    this.chain = this.chain.then(async () => {
      if (this.detached) return;
      await runtimeSet(this.current.socket, commands).catch((err: Error) => this.onWarn(`balancer: ${err.message}`));
    });
  }

  private async listenLog(): Promise<void> {
    try {
      await this.receiver.listen(this.current.logPort);
    } catch (err) {
      // Counts still come from `show stat`; only latency percentiles are missing.
      this.onWarn(
        `balancer: cannot receive HAProxy's latency lines on 127.0.0.1:${this.current.logPort} (${(err as Error).message}); latency is not measured until the stack restarts`,
      );
    }
  }

  private async waitRuntimeApi(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last: Error | undefined;
    while (Date.now() < deadline) {
      try {
        const info = await runtimeCommand(this.current.socket, 'show info');
        const pid = Number(/^Pid: (\d+)$/m.exec(info)?.[1]);
        if (pid !== this.current.pid)
          throw new RuntimeApiError(`${this.current.socket} is another HAProxy (pid ${pid}, not ${this.current.pid})`);
        return;
      } catch (err) {
        last = err as Error;
        if (!isAlive(this.current.pid) || /another HAProxy/.test(last.message)) break;
        await sleep(100);
      }
    }
    throw new RuntimeApiError(
      `HAProxy (pid ${this.current.pid}) does not answer on ${this.current.socket}: ${last?.message ?? 'timed out'}`,
    );
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}
