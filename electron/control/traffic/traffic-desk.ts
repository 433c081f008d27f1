import type { Sample, TimelineEvent, TrafficSecond, TrafficSpec, TrafficSummary, TrafficUpdate, WriteCheck } from '../../contract.js';
import { verifyWrites } from '../chaos/write-checker.js';
import { StackStateError } from '../errors.js';
import type { OnProgress } from '../runtimes/runtime.js';
import type { GeneratorCounts } from './generator-counters.js';
import { loadKeys } from './keyspace.js';
import { TrafficRun, type AcknowledgedWrite } from './traffic-run.js';

/** Acknowledged writes kept across a stack's traffic runs for `writes:verify` (about 100 MB at most). */
const MAX_ACKS = 1_000_000;

/**
 * The control plane's traffic: at most one run at a time, the last run's final second and
 * summary (so a finished run still answers), and every write the stack acknowledged to it, which
 * the lost-write checker reads back.
 */
export class TrafficDesk {
  private run: TrafficRun | undefined;
  private lastSecondOfLastRun: TrafficSecond | null = null;
  private lastSummary: TrafficSummary | undefined;
  private acks: AcknowledgedWrite[] = [];
  private acksStack: string | undefined;
  private lastCheck: WriteCheck | undefined;

  constructor(private readonly record: (event: Omit<TimelineEvent, 't'>) => void) {}

  /** The stack whose writes are counted; another stack (or a purge) starts the count afresh. */
  forStack(name: string, purged = false): void {
    if (this.acksStack === name && !purged) return;
    if (purged && this.acksStack !== name) return;
    this.acks = [];
    this.lastCheck = undefined;
    this.acksStack = purged ? undefined : name;
  }

  /**
   * Starts a run against the balancer at `target`; resolves once it fires. `onSecond` gets each of
   * its seconds as it ends; `keys` are user ids already read (else they are read from the stack).
   */
  async start(
    spec: TrafficSpec,
    target: string,
    onProgress: OnProgress,
    own: { onSecond?: (second: TrafficSecond) => void; keys?: number[] } = {},
  ): Promise<TrafficSummary> {
    if (this.run) throw new StackStateError('traffic is already running; change it with traffic:update or stop it first');
    onProgress('reading the user ids that the traffic will read');
    const keys = own.keys ?? (await loadKeys(target, onProgress));
    const run = new TrafficRun({ target, spec, keys, onSecond: own.onSecond });
    this.run = run;
    await run.start();
    const rate = spec.profile.kind === 'constant' ? `${spec.profile.rps} rps` : spec.profile.kind;
    this.record({
      kind: 'traffic',
      level: 'info',
      message: `traffic started: ${rate}${spec.durationS ? ` for ${spec.durationS} s` : ''}, ${spec.keys?.distribution ?? 'zipf'} keys over ${keys.length} users`,
    });
    void run.done.then(
      (summary) => this.ended(run, summary),
      (err: Error) => this.ended(run, undefined, err),
    );
    onProgress('traffic is running', 1);
    return run.summary();
  }

  update(change: TrafficUpdate): TrafficSummary {
    const run = this.run;
    if (!run) throw new StackStateError('no traffic is running; start it with traffic:start');
    run.update(change);
    this.record({
      kind: 'traffic',
      level: 'info',
      message: `traffic updated: ${[change.rps !== undefined ? `${change.rps} rps` : '', change.mix ? 'new mix' : '', change.keys ? `${change.keys.distribution} keys` : ''].filter(Boolean).join(', ')}`,
    });
    return run.summary();
  }

  /** Stops the running traffic, if any; resolves with its summary, or the last run's when none runs. */
  async stop(): Promise<TrafficSummary | undefined> {
    const run = this.run;
    if (!run) return this.lastSummary;
    const summary = await run.stop();
    this.ended(run, summary);
    return summary;
  }

  /**
   * The running run's last second (null before its first), or, when none runs, the last run's
   * final one (so the Sample shows it stopped). A new run never shows its predecessor's figures.
   */
  lastSecond(): TrafficSecond | null {
    return this.run ? (this.run.lastSecond() ?? null) : this.lastSecondOfLastRun;
  }

  /** Whether a run is under way. */
  get running(): boolean {
    return this.run !== undefined;
  }

  /** The running run's end: its summary (rejects when its generator failed); undefined when none runs. */
  finished(): Promise<TrafficSummary> | undefined {
    return this.run?.done;
  }

  /** The running run's totals this instant and its start; null when none runs. */
  counts(): { since: number; counts: GeneratorCounts } | null {
    return this.run ? { since: this.run.startedAt, counts: this.run.counts() } : null;
  }

  /** The Sample's writes: acknowledged so far and the last check. */
  writes(): Sample['writes'] {
    const check = this.lastCheck;
    return {
      acknowledged: this.acks.length + (this.run?.acknowledgedWrites().length ?? 0),
      verified: check?.verified ?? null,
      lost: check?.lost ?? null,
      lostIds: check?.lostIds ?? [],
      checkedAt: check?.checkedAt ?? null,
    };
  }

  /** Reads back every acknowledged write (finished runs and the one running) from the stack. */
  async verify(stack: { balancer: string; databaseUrl: string }, onProgress: OnProgress): Promise<WriteCheck> {
    const acks = [...this.acks, ...(this.run?.acknowledgedWrites() ?? [])];
    onProgress(`reading back ${acks.length} acknowledged writes`);
    const check = await verifyWrites(acks, {
      ...stack,
      onProgress: (done, total) => onProgress(`read back ${done} of ${total}`, total === 0 ? 1 : done / total),
    });
    this.lastCheck = check;
    this.record({
      kind: 'chaos',
      level: check.lost > 0 || check.duplicated > 0 ? 'error' : 'info',
      message: `writes: ${check.acknowledged} acknowledged, ${check.verified} verified, ${check.lost} lost, ${check.duplicated} duplicated`,
    });
    return check;
  }

  private ended(run: TrafficRun, summary: TrafficSummary | undefined, err?: Error): void {
    if (this.run !== run) return;
    this.run = undefined;
    const last = run.lastSecond();
    this.lastSecondOfLastRun = last ? { ...last, running: false } : null;
    this.lastSummary = summary;
    // A loop, not push(...list): a spread of a few hundred thousand arguments overflows the stack.
    for (const ack of run.acknowledgedWrites()) if (this.acks.length < MAX_ACKS) this.acks.push(ack);
    if (summary) {
      const errors = summary.errors.timeout + summary.errors.refused + summary.errors.http4xx + summary.errors.http5xx;
      const limited = summary.health?.limitedBy
        ? `; the load generator was the bottleneck (${summary.health.limitReason}), so these client-observed figures understate the stack`
        : '';
      this.record({
        kind: 'traffic',
        level: errors > 0 || limited ? 'warn' : 'info',
        message: `traffic stopped: ${summary.requests} requests, ${summary.achievedRps}/${summary.offeredRps} rps achieved/offered, p99 ${summary.p99Ms?.toFixed(1) ?? '–'} ms, ${errors} errors, ${summary.droppedByClient} dropped by client${limited}`,
      });
    } else {
      this.record({ kind: 'traffic', level: 'error', message: `traffic generator failed: ${err?.message}` });
    }
  }
}
