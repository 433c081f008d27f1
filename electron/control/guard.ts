/**
 * The safety guard: armed by a trainer, it watches every telemetry sample and, when the stack's
 * errors stay at or above a share of requests for some seconds in a row, stops what makes load and
 * breaks things — the capacity search, the scenario, the traffic run, the faults and the monkey —
 * through the control plane's own door, and says why (a timeline event, the `guard` event, the
 * dashboard's banner). It never scales or turns the autoscaler off: the stack stays as it is, to be
 * looked at.
 */
import { stopLoadAndChaos, type StopDeps } from './lab-reset.js';
import { DEFAULT_GUARD, type GuardSetInput, type GuardStatus, type GuardTrip, type Sample, type TimelineEvent } from '../contract.js';

/** What the guard reads and runs. */
export interface GuardDeps extends StopDeps {
  record: (event: Omit<TimelineEvent, 't'>) => void;
  onStatus: (status: GuardStatus) => void;
}

/**
 * A second's error share, in percent, or null with nothing to judge: the larger of the balancer's
 * (5xx and its own failures over what it served) and, while a run goes, the load generator's
 * (timeouts, refused connections and 5xx over what it offered: when no replica answers, the
 * balancer may count little). Planned 4xx (missing ids in the mix) are not errors.
 */
export function errorShare(sample: Sample): number | null {
  const { traffic } = sample;
  const failed = traffic.errorsPerSec + traffic.proxyErrorsPerSec;
  const server = traffic.rps > 0 ? (failed / traffic.rps) * 100 : failed > 0 ? 100 : null;
  const g = sample.generator?.running ? sample.generator : null;
  const clientFailed = g ? g.errorsPerSec.timeout + g.errorsPerSec.refused + g.errorsPerSec.http5xx : 0;
  const client = g && g.offeredRps > 0 ? Math.min(100, (clientFailed / g.offeredRps) * 100) : null;
  if (server === null) return client;
  return client === null ? server : Math.max(server, client);
}

const round = (n: number) => (n >= 10 ? Math.round(n) : Math.round(n * 10) / 10);

export class SafetyGuard {
  private enabled = false;
  private errorPercent: number = DEFAULT_GUARD.errorPercent;
  private seconds: number = DEFAULT_GUARD.seconds;
  private badSeconds = 0;
  private lastErrorPercent: number | null = null;
  private tripped: GuardTrip | null = null;
  /** The error shares of the bad seconds in a row, for the reason. */
  private badShares: number[] = [];
  private stopping: Promise<void> | null = null;

  constructor(private readonly deps: GuardDeps) {}

  status(): GuardStatus {
    return {
      enabled: this.enabled,
      errorPercent: this.errorPercent,
      seconds: this.seconds,
      badSeconds: this.badSeconds,
      lastErrorPercent: this.lastErrorPercent,
      tripped: this.tripped,
    };
  }

  /** `guard:set`: arming starts a fresh count (and forgets the last trip); disarming stops watching. */
  set(input: GuardSetInput): GuardStatus {
    this.errorPercent = input.errorPercent ?? this.errorPercent;
    this.seconds = input.seconds ?? this.seconds;
    const was = this.enabled;
    this.enabled = input.enabled;
    this.badSeconds = 0;
    this.badShares = [];
    if (input.enabled) this.tripped = null;
    if (input.enabled !== was || input.enabled) {
      this.deps.record({
        kind: 'chaos',
        level: 'info',
        message: input.enabled
          ? `safety guard armed: errors ≥ ${this.errorPercent} % for ${this.seconds} s stop traffic and chaos`
          : 'safety guard off',
      });
    }
    return this.emit();
  }

  /** Every sample: counts bad seconds in a row and trips at the limit. */
  observe(sample: Sample): void {
    const share = errorShare(sample);
    this.lastErrorPercent = share === null ? null : round(share);
    if (!this.enabled || this.stopping) return;
    const before = this.badSeconds;
    if (share !== null && share >= this.errorPercent) {
      this.badSeconds += 1;
      this.badShares.push(share);
    } else {
      this.badSeconds = 0;
      this.badShares = [];
    }
    if (this.badSeconds >= this.seconds) {
      const worst = Math.max(...this.badShares);
      const mean = this.badShares.reduce((a, b) => a + b, 0) / this.badShares.length;
      this.stopping = this.trip(
        `errors ${round(mean)} % on average (worst ${round(worst)} %) for ${this.badSeconds} s in a row; the limit is ${this.errorPercent} % for ${this.seconds} s`,
      ).finally(() => {
        this.stopping = null;
      });
    } else if (this.badSeconds !== before) this.emit();
  }

  /** Resolves once a trip under way has stopped everything (tests, shutdown). */
  async settled(): Promise<void> {
    await this.stopping;
  }

  private async trip(reason: string): Promise<void> {
    const stopped = await stopLoadAndChaos(this.deps, true).catch((err: Error) => [`stopping failed: ${err.message}`]);
    this.tripped = { at: Date.now(), reason, stopped };
    this.badSeconds = 0;
    this.badShares = [];
    this.deps.record({
      kind: 'chaos',
      level: 'error',
      message: `safety guard tripped: ${reason}; ${stopped.length > 0 ? stopped.join('; ') : 'nothing was running to stop'}`,
    });
    this.emit();
  }

  private emit(): GuardStatus {
    const status = this.status();
    this.deps.onStatus(status);
    return status;
  }

  commands(): { 'guard:set': (payload: GuardSetInput) => Promise<GuardStatus>; 'guard:status': () => Promise<GuardStatus> } {
    return {
      'guard:set': async (payload) => this.set(payload),
      'guard:status': async () => this.status(),
    };
  }
}
