/**
 * Step runners for the capacity search: each step is one traffic run at a constant open-model
 * rate (the same generator as `traffic`, with its own health), and the stack's telemetry over the
 * step, averaged from its Samples.
 */
import os from 'node:os';
import type { CapacitySlo, StepTelemetry } from '../../capacity-spec.js';
import type { Sample } from '../../contract.js';
import type { Keys, TrafficSecond, TrafficSpec, TrafficSummary } from '../../traffic-spec.js';
import { TrafficRun } from '../traffic/traffic-run.js';
import { errorPercent, SearchStoppedError, type ProbeRunner, type StepRunner } from './search.js';

/** Runs one traffic spec to its end (or until `signal` aborts), resolving with its summary; `onSecond` gets each second as it ends. */
export type RunTraffic = (spec: TrafficSpec, signal: AbortSignal, onSecond?: (second: TrafficSecond) => void) => Promise<TrafficSummary>;

/** Options of {@link trafficStepRunner}. */
export interface TrafficStepRunnerOptions {
  run: RunTraffic;
  mix?: TrafficSpec['mix'];
  keys?: Keys;
  /** Per-request timeout (ms); a late answer counts as an error. @defaultValue 2000 */
  timeoutMs?: number;
  /** Subscribes to the stack's Samples (returns unsubscribe); without it a step has no telemetry. */
  onSample?: (listener: (sample: Sample) => void) => () => void;
  /**
   * Seconds of quiet before each step, so a failed step's backlog drains and does not count
   * against the next one. @defaultValue 1
   */
  settleS?: number;
  /** With it, the quiet comes only after a run that missed this SLO (a step that held it left no backlog). */
  slo?: CapacitySlo;
}

const mean = (xs: number[]): number | null => (xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
const round = (n: number | null, d = 1): number | null => (n === null ? null : Math.round(n * 10 ** d) / 10 ** d);

/** The machine's busy and total cpu time so far (ms), for a busy share over an interval. */
function hostTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const cpu of os.cpus()) {
    const t = cpu.times;
    busy += t.user + t.nice + t.sys + t.irq;
    total += t.user + t.nice + t.sys + t.irq + t.idle;
  }
  return { busy, total };
}

/** The means over a step's Samples of what may have run out; null where no Sample carried it. */
export function summariseSamples(samples: readonly Sample[]): Omit<StepTelemetry, 'hostCpuPercent'> {
  const per = (f: (s: Sample) => number | null | undefined) =>
    round(mean(samples.map(f).filter((v): v is number => typeof v === 'number' && Number.isFinite(v))));
  const apiCpu = (s: Sample) => mean(s.instances.filter((i) => i.service === 'api' && i.cpu !== null).map((i) => i.cpu!));
  const throttled = (s: Sample) => {
    const shares = s.instances
      .filter((i) => i.service === 'api')
      .map((i) => i.throttling?.throttledShare)
      .filter((v): v is number => typeof v === 'number');
    return shares.length > 0 ? Math.max(...shares) : null;
  };
  const of = (service: 'redis' | 'postgres') => (s: Sample) => s.instances.find((i) => i.service === service)?.cpu ?? null;
  const waiting = (s: Sample) => (s.data ? s.data.pools.reduce((a, p) => a + p.waiting, 0) : null);
  return {
    apiCpuPercent: per(apiCpu),
    apiThrottledShare: round(mean(samples.map(throttled).filter((v): v is number => v !== null)), 2),
    redisCpuPercent: per(of('redis')),
    postgresCpuPercent: per(of('postgres')),
    dbPoolWaiting: per(waiting),
    proxyErrorsPerSec: per((s) => s.traffic.proxyErrorsPerSec),
    generatorBusyCores: round(
      mean(samples.map((s) => s.generator?.health?.busyCores).filter((v): v is number => typeof v === 'number')),
      2,
    ),
    generatorBusiestThread: round(
      mean(samples.map((s) => s.generator?.health?.busiestThread).filter((v): v is number => typeof v === 'number')),
      2,
    ),
  };
}

/** Waits `ms`, or less when `signal` aborts. */
export const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/** A step runner over `options.run`: settle, then one constant-rate run with the Samples it spans. */
export function trafficStepRunner(options: TrafficStepRunnerOptions): StepRunner {
  let last: TrafficSummary | undefined;
  const held = (s: TrafficSummary, slo: CapacitySlo) =>
    s.p99Ms !== null && s.p99Ms < slo.p99Ms && errorPercent(s) < Math.max(slo.errorPercent, Number.MIN_VALUE);
  return async (rps, durationS, signal) => {
    const quiet = !options.slo || !last || !held(last, options.slo);
    if (quiet) await sleep((options.settleS ?? DEFAULT_SETTLE_S) * 1000, signal);
    if (signal.aborted) throw new SearchStoppedError();
    const samples: Sample[] = [];
    const off = options.onSample?.((sample) => {
      // Only the seconds the step's own traffic ran in.
      if (sample.generator?.running) samples.push(sample);
    });
    const before = hostTimes();
    try {
      const spec: TrafficSpec = {
        profile: { kind: 'constant', rps },
        durationS,
        mix: options.mix,
        keys: options.keys ?? { distribution: 'zipf', s: 1.1 },
        timeoutMs: options.timeoutMs,
      };
      const summary = await options.run(JSON.parse(JSON.stringify(spec)) as TrafficSpec, signal);
      last = summary;
      const after = hostTimes();
      const hostCpuPercent = after.total > before.total ? round(((after.busy - before.busy) * 100) / (after.total - before.total)) : null;
      return { summary, telemetry: options.onSample ? { hostCpuPercent, ...summariseSamples(samples) } : null };
    } finally {
      off?.();
    }
  };
}

/** Seconds of quiet before each step and probe. */
export const DEFAULT_SETTLE_S = 1;

/** A probe runner over `options.run`: settle, then one run that replays the rates, a second each. */
export function trafficProbeRunner(options: Omit<TrafficStepRunnerOptions, 'onSample'>): ProbeRunner {
  return async (rates, signal, onSecond) => {
    await sleep((options.settleS ?? DEFAULT_SETTLE_S) * 1000, signal);
    if (signal.aborted) throw new SearchStoppedError();
    const spec: TrafficSpec = {
      profile: { kind: 'replay', rates },
      durationS: rates.length,
      mix: options.mix,
      keys: options.keys ?? { distribution: 'zipf', s: 1.1 },
      timeoutMs: options.timeoutMs,
    };
    await options.run(JSON.parse(JSON.stringify(spec)) as TrafficSpec, signal, (second) => {
      if (!second.running) return;
      const requests = Math.round(second.achievedRps);
      const e = second.errorsPerSec;
      const errors = e.timeout + e.refused + e.http4xx + e.http5xx;
      onSecond({
        targetRps: second.targetRps,
        requests,
        p99Ms: second.p99,
        errorPercent: requests > 0 ? (errors * 100) / requests : 0,
        generatorLimited: Boolean(second.health?.limitedBy),
      });
    });
  };
}

/** Runs traffic straight through a {@link TrafficRun} (tests, and anywhere without a control plane). */
export function directRun(target: string, userIds: number[]): RunTraffic {
  return async (spec, signal, onSecond) => {
    const run = new TrafficRun({ target, spec, keys: userIds, onSecond });
    const stop = () => void run.stop();
    signal.addEventListener('abort', stop, { once: true });
    try {
      await run.start();
      if (signal.aborted) void run.stop();
      return await run.done;
    } finally {
      signal.removeEventListener('abort', stop);
    }
  };
}
