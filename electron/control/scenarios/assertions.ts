import { assertionText, type Assertion, type AssertionResult, type AssertMetric, type AssertOp, type Sample } from '../../contract.js';

/** One second of a scenario: its time on the scenario's clock and the sample. */
export interface ScenarioPoint {
  /** Seconds since the scenario started (its clock stops while paused). */
  at: number;
  sample: Sample;
}

/** A figure of one second, and how much it weighs in a mean (requests, lookups; 1 for counts). */
type Reading = { value: number; weight: number };

function reading(metric: AssertMetric, s: Sample): Reading | undefined {
  const rps = s.traffic.rps;
  switch (metric) {
    case 'p50_ms':
    case 'p95_ms':
    case 'p99_ms': {
      const value = s.traffic[metric.slice(0, 3) as 'p50' | 'p95' | 'p99'];
      return value === null || rps <= 0 ? undefined : { value, weight: rps };
    }
    case 'error_rate':
      return rps > 0 ? { value: s.traffic.errorsPerSec / rps, weight: rps } : undefined;
    case 'rps':
      return { value: rps, weight: 1 };
    case 'cache_hit_rate': {
      const lookups = s.cache.hitsPerSec + s.cache.missesPerSec;
      return s.cache.hitRate === null || lookups <= 0 ? undefined : { value: s.cache.hitRate, weight: lookups };
    }
    case 'api_replicas':
      // Ready replicas: "reaches 4 replicas" means 4 serving, not 4 starting.
      return { value: s.replicas.apiReady, weight: 1 };
    case 'worker_replicas':
      return { value: s.replicas.worker, weight: 1 };
    case 'queue_waiting':
      return s.queue.up ? { value: s.queue.waiting, weight: 1 } : undefined;
    case 'lost_writes':
      return undefined;
    case 'replica_read_share': {
      // Database reads (cache misses and lists) the replica served, weighed by reads.
      const reads = s.data?.reads;
      const total = reads ? reads.primaryPerSec + reads.replicaPerSec : 0;
      return reads && total > 0 ? { value: reads.replicaPerSec / total, weight: total } : undefined;
    }
    case 'replica_lag_s': {
      const lag = s.data?.replica?.lagSeconds;
      return lag === null || lag === undefined ? undefined : { value: lag, weight: 1 };
    }
    case 'stream_lag': {
      // Events not yet in the read model: unrelayed outbox rows plus the projector group's lag.
      const stream = s.data?.stream;
      return stream && stream.groupLag !== null ? { value: stream.outboxBacklog + stream.groupLag + stream.pending, weight: 1 } : undefined;
    }
    case 'read_model_freshness_s': {
      const freshness = s.data?.stream?.freshnessS;
      return freshness === null || freshness === undefined ? undefined : { value: freshness, weight: 1 };
    }
  }
}

/** Whether `value op target` holds. */
export function holds(value: number, op: AssertOp, target: number): boolean {
  switch (op) {
    case '<':
      return value < target;
    case '<=':
      return value <= target;
    case '>':
      return value > target;
    case '>=':
      return value >= target;
    case '==':
      return Math.abs(value - target) < 1e-9;
  }
}

/** Options of {@link evaluateAssertion}. */
export interface EvaluateOptions {
  durationS: number;
  /** Scenario seconds elapsed; the window is judged finally once it has passed. */
  elapsedS: number;
  /** The scenario ended: every assertion gets its final verdict. */
  final: boolean;
  /** Lost writes from the end-of-run check; undefined before it, or a reason it could not run. */
  lostWrites?: number | { unavailable: string };
}

const round = (n: number) => Math.round(n * 1000) / 1000;

/**
 * Judges one assertion against the scenario's seconds. While the window is open the state is
 * passing or failing so far (or pending without data); once it has closed, or the scenario ended,
 * held or failed.
 */
export function evaluateAssertion(assertion: Assertion, points: ScenarioPoint[], options: EvaluateOptions): AssertionResult {
  const text = assertionText(assertion, options.durationS);
  const to = Math.min(assertion.to ?? options.durationS, options.durationS);
  const closed = options.final || options.elapsedS >= to;
  const result = (state: AssertionResult['state'], value: number | null, detail?: string): AssertionResult => ({
    text,
    assertion,
    state,
    value: value === null ? null : round(value),
    ...(detail ? { detail } : {}),
  });

  if (assertion.metric === 'lost_writes') {
    const lost = options.lostWrites;
    if (lost === undefined)
      return result(
        options.final ? 'failed' : 'pending',
        null,
        options.final ? 'the writes were not checked' : 'checked when the scenario ends',
      );
    if (typeof lost === 'object')
      return result(options.final ? 'failed' : 'pending', null, `could not check the writes: ${lost.unavailable}`);
    return result(
      holds(lost, assertion.op, assertion.value) ? 'held' : 'failed',
      lost,
      `${lost} acknowledged write${lost === 1 ? '' : 's'} lost`,
    );
  }

  const window = points.filter((p) => p.at >= assertion.from && p.at <= to);
  const readings = window.flatMap((p) => {
    const r = reading(assertion.metric, p.sample);
    return r ? [{ at: p.at, ...r }] : [];
  });
  if (readings.length === 0)
    return result(closed ? 'failed' : 'pending', null, closed ? `no data between ${assertion.from} and ${to} s` : undefined);

  const verdict = (ok: boolean) => (closed ? (ok ? 'held' : 'failed') : ok ? 'passing' : 'failing');
  switch (assertion.over) {
    case 'eventually': {
      const first = readings.find((r) => holds(r.value, assertion.op, assertion.value));
      if (first) return result(closed ? 'held' : 'passing', first.value, `first held at ${Math.round(first.at)} s`);
      return result(closed ? 'failed' : 'pending', readings.at(-1)!.value, `not yet held (last ${round(readings.at(-1)!.value)})`);
    }
    case 'always': {
      const broken = readings.find((r) => !holds(r.value, assertion.op, assertion.value));
      if (broken) return result(closed ? 'failed' : 'failing', broken.value, `broken at ${Math.round(broken.at)} s`);
      return result(verdict(true), readings.at(-1)!.value, `held for ${readings.length} s`);
    }
    default: {
      const values = readings.map((r) => r.value);
      const value =
        assertion.over === 'max'
          ? Math.max(...values)
          : assertion.over === 'min'
            ? Math.min(...values)
            : assertion.over === 'last'
              ? values.at(-1)!
              : readings.reduce((sum, r) => sum + r.value * r.weight, 0) /
                Math.max(
                  1e-9,
                  readings.reduce((sum, r) => sum + r.weight, 0),
                );
      return result(verdict(holds(value, assertion.op, assertion.value)), value, `${assertion.over} of ${readings.length} s`);
    }
  }
}
