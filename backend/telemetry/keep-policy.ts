/**
 * Which requests are worth a trace when tracing with bounded cost: a few each second chosen up
 * front (head sampling), and, of the rest, the failed and the slow ones, recorded after the fact
 * with their timing only. Plain arithmetic, no OpenTelemetry: the replicas (tracing.ts) and
 * ScaleLab's balancer (its traceparent hop) both decide with it.
 */

/** The span attribute that marks a span recorded after the fact for a request that was not sampled. */
export const SAMPLING_ATTRIBUTE = 'scalelab.sampling';
/** Its value: the span has the request's name, route, status and duration, and no children. */
export const TIMING_ONLY = 'unsampled: timing only';
/** Why such a span was kept: `error` or `slow`. */
export const KEPT_ATTRIBUTE = 'scalelab.kept';

/** ScaleLab's own sampler name (OTEL_TRACES_SAMPLER): parent-based, at most N new traces per second. */
export const RATE_LIMITED_SAMPLER = 'parentbased_ratelimited';
/**
 * New traces per second of {@link RATE_LIMITED_SAMPLER} when OTEL_TRACES_SAMPLER_ARG is unset.
 * 10: enough for the trace list at any rate (a sampled trace a tenth of a second per replica),
 * while at the README's spike (1000 req/s over four replicas on two cores) 100 raised the median
 * p99 from 25–27 ms to 32–66 ms in two runs of bench/spike.ts (tracing off: 14–15 ms). The failed
 * and slow requests are kept whatever this is (KeepPolicy), and they widen it (PerSecondBudget).
 */
export const DEFAULT_TRACES_PER_SECOND = 10;
/** Slowest duration (ms) not kept as slow, unless the running p99 is higher. */
export const DEFAULT_KEEP_SLOW_MS = 100;
/** Unsampled requests kept per second, for errors and for slow ones each. */
export const DEFAULT_KEEP_PER_SECOND = 100;

/**
 * While something is wrong, more of the requests are traced in full: each failed or slow request
 * kept (KeepPolicy) widens the head-sampling budget to this many new traces a second...
 */
export const WIDENED_TRACES_PER_SECOND = 100;
/** ...for this long after the last one (ms)... */
export const WIDENED_FOR_MS = 10_000;
/**
 * ...but one widened spell lasts at most this long (ms), then the budget rests at its base for
 * {@link WIDEN_REST_MS}: in an overloaded stack every request is slow, and tracing 100 a second
 * for as long as it lasts would deepen the overload it is showing. A fault after the rest widens again.
 */
export const WIDENED_SPELL_MAX_MS = 30_000;
export const WIDEN_REST_MS = 60_000;

/**
 * The first `perSecond` takes of each wall-clock second succeed, the rest fail until the next
 * second. Taking the first ones rather than spreading them keeps the sampled requests of a
 * second together, so a replica pays for in-flight tracing (its async context) a few ms a
 * second instead of all the time. {@link widen} raises the limit for a while: a timing-only span
 * says a request was slow, a full trace says where the time went, so when requests turn slow
 * (an injected 200 ms on the database) the next ones are traced with their Redis and PostgreSQL
 * spans; in a quiet stack the cost stays that of `perSecond`.
 */
export class PerSecondBudget {
  private second = -1;
  private used = 0;
  private widenedUntil = 0;
  private spellStart = 0;
  private restUntil = 0;

  constructor(readonly perSecond: number) {}

  /** True when one more may go this second (and counts it). */
  take(now = Date.now()): boolean {
    if (this.perSecond <= 0) return false;
    const second = Math.floor(now / 1000);
    if (second !== this.second) {
      this.second = second;
      this.used = 0;
    }
    const limit = this.widened(now) ? Math.max(this.perSecond, WIDENED_TRACES_PER_SECOND) : this.perSecond;
    if (this.used >= limit) return false;
    this.used += 1;
    return true;
  }

  /**
   * Allows {@link WIDENED_TRACES_PER_SECOND} a second until {@link WIDENED_FOR_MS} from `now`, within
   * a spell of at most {@link WIDENED_SPELL_MAX_MS} and not during the rest after one (a budget of 0 stays 0).
   */
  widen(now = Date.now()): void {
    if (now < this.restUntil) return;
    if (!this.widened(now)) this.spellStart = now;
    const spellEnd = this.spellStart + WIDENED_SPELL_MAX_MS;
    this.widenedUntil = Math.min(now + WIDENED_FOR_MS, spellEnd);
    if (now + WIDENED_FOR_MS >= spellEnd) this.restUntil = spellEnd + WIDEN_REST_MS;
  }

  /** Whether the budget is widened at `now`. */
  widened(now = Date.now()): boolean {
    return this.perSecond > 0 && now < this.widenedUntil;
  }
}

/** Durations kept for the running p99. */
const WINDOW = 1024;
/** The p99 is sorted again after this many slow candidates (it is only needed for them). */
const RESORT_EVERY = 64;

/**
 * Slow means at least the floor and at least the running p99 of the last 1024 durations: a
 * fixed floor alone would keep every request of a replica whose ordinary latency is above it
 * (a small cpu limit, a saturated one), the p99 alone would call 1 % of a fast replica's
 * requests slow at 3 ms.
 */
export class SlowJudge {
  private readonly durations = new Float64Array(WINDOW);
  private count = 0;
  private p99 = 0;
  private sinceSort = RESORT_EVERY;

  constructor(readonly floorMs: number) {}

  /** Records a duration (ms); call once per request, before {@link isSlow}. */
  observe(ms: number): void {
    this.durations[this.count % WINDOW] = ms;
    this.count += 1;
  }

  /** The threshold now: the floor, or the running p99 when that is higher. */
  thresholdMs(): number {
    if (this.sinceSort >= RESORT_EVERY) {
      const n = Math.min(this.count, WINDOW);
      const sorted = this.durations.slice(0, n).sort();
      this.p99 = n > 0 ? sorted[Math.min(n - 1, Math.ceil(0.99 * n) - 1)]! : 0;
      this.sinceSort = 0;
    }
    return Math.max(this.floorMs, this.p99);
  }

  isSlow(ms: number): boolean {
    // The common case needs no p99 at all.
    if (ms < this.floorMs) return false;
    this.sinceSort += 1;
    return ms >= this.thresholdMs();
  }
}

/** Options of {@link KeepPolicy}. */
export interface KeepPolicyOptions {
  /** See {@link SlowJudge}. @defaultValue DEFAULT_KEEP_SLOW_MS */
  slowMs?: number;
  /** Kept per second, errors and slow ones each. @defaultValue DEFAULT_KEEP_PER_SECOND */
  perSecond?: number;
  /** Called for each request kept: the head-sampling budget to widen ({@link PerSecondBudget.widen}). */
  onKept?: () => void;
}

/** Why an unsampled request is kept. */
export type KeepReason = 'error' | 'slow';

/** Decides, for each unsampled request as it ends, whether it is kept; counts what it had to leave out. */
export class KeepPolicy {
  private readonly slow: SlowJudge;
  private readonly errors: PerSecondBudget;
  private readonly slowOnes: PerSecondBudget;
  private readonly onKept: () => void;
  /** Failed or slow requests not kept because their budget for the second was spent. */
  skipped = 0;

  constructor(options: KeepPolicyOptions = {}) {
    const perSecond = options.perSecond ?? DEFAULT_KEEP_PER_SECOND;
    this.slow = new SlowJudge(options.slowMs ?? DEFAULT_KEEP_SLOW_MS);
    this.errors = new PerSecondBudget(perSecond);
    this.slowOnes = new PerSecondBudget(perSecond);
    this.onKept = options.onKept ?? (() => undefined);
  }

  /** Every request's end (status, duration ms, ending at `now`): the reason to keep it, or undefined. */
  decide(status: number, ms: number, failed = false, now = Date.now()): KeepReason | undefined {
    this.slow.observe(ms);
    const reason: KeepReason | undefined = failed || status >= 500 ? 'error' : this.slow.isSlow(ms) ? 'slow' : undefined;
    if (reason === undefined) return undefined;
    if ((reason === 'error' ? this.errors : this.slowOnes).take(now)) {
      this.onKept();
      return reason;
    }
    this.skipped += 1;
    return undefined;
  }

  /** The slow threshold now (ms). */
  slowThresholdMs(): number {
    return this.slow.thresholdMs();
  }
}
