import type { CpuLimitStatus, ScalableService } from '../../../contract.js';
import type { ProcessLike } from './adopted-process.js';
import type { CpuCounters } from '../runtime.js';
import { findCgroupBase, StackCgroups } from './cgroup-cpu.js';

/** Options of {@link ReplicaCpu}. */
export interface ReplicaCpuOptions {
  stack: string;
  /** Millicores per replica of a service right now (the running spec's); null: no limit. */
  limit: (service: ScalableService) => number | null;
  /** A cgroup directory to use instead of the one found. @defaultValue $SCALELAB_CGROUP_ROOT, else found (see findCgroupBase) */
  root?: string;
  /** @defaultValue process.platform */
  platform?: NodeJS.Platform;
  /** Told when a replica could not be held to its limit (once per cause). */
  onWarn?: (message: string) => void;
}

interface Tracked {
  service: ScalableService;
  pid: number;
  /** Whether it sits in its group now. */
  held: boolean;
}

/**
 * The local runtime's cpu limits: each api and worker replica whose service has a limit goes into
 * its own cgroup right after it is spawned (or adopted), with a CFS quota of its millicores, and
 * the group goes when the replica exits. Where that cannot be done, {@link status} says so and why.
 */
export class ReplicaCpu {
  private readonly tracked = new Map<string, Tracked>();
  /** Work per instance id, in order: a group is never removed under a later hold. */
  private readonly chains = new Map<string, Promise<void>>();
  /** Why a hold failed after the probe said it would work (the latest one). */
  private failure: string | undefined;

  private constructor(
    private readonly options: ReplicaCpuOptions,
    private readonly groups: StackCgroups | undefined,
    private readonly enforcedBy: string | null,
    private readonly why: string | undefined,
  ) {}

  /** Finds where this machine enforces cpu limits (or why it cannot). */
  static async open(options: ReplicaCpuOptions): Promise<ReplicaCpu> {
    const probe = await findCgroupBase({ root: options.root, platform: options.platform });
    return probe.ok
      ? new ReplicaCpu(options, new StackCgroups(probe.base, options.stack), probe.enforcedBy, undefined)
      : new ReplicaCpu(options, undefined, null, probe.why);
  }

  /** The stack's folder of groups; undefined where limits are not enforced. */
  get dir(): string | undefined {
    return this.groups?.dir;
  }

  /** The limits and whether they hold here; "cpu limit not enforced here (why)" when they do not. */
  status(): CpuLimitStatus {
    const api = this.options.limit('api');
    const worker = this.options.limit('worker');
    if (api === null && worker === null) return { api, worker, enforcedBy: null, notEnforced: null };
    const why = this.why ?? this.failure;
    if (why) return { api, worker, enforcedBy: null, notEnforced: `cpu limit not enforced here (${why})` };
    return { api, worker, enforcedBy: this.enforcedBy, notEnforced: null };
  }

  /** Puts a just-started (or adopted) replica into its group; its exit removes the group. Returns `process`. */
  hold<P extends ProcessLike>(id: string, service: ScalableService, process: P): P {
    const pid = process.pid;
    if (pid === undefined) return process;
    const entry: Tracked = { service, pid, held: false };
    this.tracked.set(id, entry);
    this.serial(id, () => this.place(id, entry));
    process.once('exit', () => {
      if (this.tracked.get(id) === entry) this.tracked.delete(id);
      if (entry.held) this.serial(id, () => this.groups!.remove(id));
    });
    return process;
  }

  /** Applies the current limits to every running replica (the spec changed): quotas change in place. */
  async apply(): Promise<void> {
    await Promise.all([...this.tracked].map(([id, entry]) => this.serial(id, () => this.place(id, entry))));
  }

  /**
   * Removes this stack's groups that no running replica holds: what a previous run left (a crash,
   * a killed control plane). Groups with a process still inside stay.
   */
  async sweep(): Promise<string[]> {
    if (!this.groups) return [];
    const removed: string[] = [];
    for (const id of await this.groups.list()) {
      if (this.tracked.has(id)) continue;
      await this.serial(id, () => this.groups!.remove(id).then(() => void removed.push(id)));
    }
    return removed;
  }

  /** CFS counters of each replica held to a limit, by instance id. */
  async counters(): Promise<Map<string, CpuCounters>> {
    const out = new Map<string, CpuCounters>();
    if (!this.groups) return out;
    await Promise.all(
      [...this.tracked].map(async ([id, entry]) => {
        if (!entry.held) return;
        const counters = await this.groups!.counters(id);
        if (counters) out.set(id, counters);
      }),
    );
    return out;
  }

  /** After every replica stopped: removes their groups and the stack's folder. Safe to call twice. */
  async removeAll(): Promise<void> {
    await Promise.all([...this.chains.values()]);
    if (!this.groups) return;
    for (const id of await this.groups.list())
      await this.groups.remove(id).catch((err: Error) => this.warn(`could not remove the cgroup of ${id}: ${err.message}`));
    await this.groups.removeStack().catch((err: Error) => this.warn(`could not remove ${this.groups!.dir}: ${err.message}`));
  }

  private async place(id: string, entry: Tracked): Promise<void> {
    if (!this.groups) return;
    const millicores = this.options.limit(entry.service);
    try {
      if (millicores === null) {
        // No limit any more: its group stays (its exit removes it), without a quota.
        if (entry.held) await this.groups.setQuota(id, null);
        return;
      }
      await this.groups.hold(id, entry.pid, millicores);
      entry.held = true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Gone before it could be moved: its exit handler cleans up.
      if (code === 'ESRCH') return;
      this.failure = `${id} could not join its cgroup: ${(err as Error).message}`;
      this.warn(`cpu limit not enforced for ${id}: ${(err as Error).message}`);
    }
  }

  private readonly warned = new Set<string>();

  private warn(message: string): void {
    if (this.warned.has(message)) return;
    this.warned.add(message);
    this.options.onWarn?.(message);
  }

  private serial(id: string, work: () => Promise<void>): Promise<void> {
    const next = (this.chains.get(id) ?? Promise.resolve()).then(work).catch((err: Error) => this.warn(`cgroup of ${id}: ${err.message}`));
    this.chains.set(id, next);
    void next.then(() => {
      if (this.chains.get(id) === next) this.chains.delete(id);
    });
    return next;
  }
}
