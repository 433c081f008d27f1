import type { TrafficSecond, TrafficSummary } from '../../electron/traffic-spec.js';
import type { WrkResult } from './wrk.js';
import { median } from './control-report.js';

/** A step of the ladder is sustained when achieved ≥ this share of the target… */
export const MIN_ACHIEVED_SHARE = 0.98;
/** …the generator dropped at most this share of the requests it was due to send… */
export const MAX_DROPPED_SHARE = 0.01;
/** …and at most this share of requests failed (as backend.ts's MAX_ERROR_RATE). */
export const MAX_ERROR_SHARE = 0.001;

/** One wrk run against the endpoint. */
export interface WrkCase {
  id: string;
  title: string;
  wrk: WrkResult;
  /** socket errors + non-2xx/3xx */
  errors: number;
  valid: boolean;
  /** CPU during the run, % of one core by group (see cpu.ts) */
  cpu: Record<string, number>;
}

/** One TrafficRun at a constant rate. */
export interface GeneratorRun {
  targetRps: number;
  durationS: number;
  /** ms from `new TrafficRun` until `start()` resolved (worker thread up and sending) */
  startMs: number;
  /** s from `start()` resolving until `done` resolved */
  wallS: number;
  summary: TrafficSummary;
  /** every onSecond callback, in order */
  seconds: TrafficSecond[];
  /** medians of the per-second p50/p99 over whole seconds after the first (see {@link steadyLatency}) */
  steady: { p50: number | null; p99: number | null; seconds: number };
  /** CPU from start() resolving until done, % of one core by group */
  cpu: Record<string, number>;
  notes: string[];
}

/** A rung of the rate ladder. */
export interface LadderStep extends GeneratorRun {
  /** added between a sustained and a failed rung to narrow the maximum */
  bisect: boolean;
  /** summary.achievedRps ÷ target */
  achievedShare: number;
  /** droppedByClient ÷ (target × durationS) */
  droppedShare: number;
  /** errors ÷ requests */
  errorShare: number;
  sustained: boolean;
  /** why it is not sustained */
  reason?: string;
}

/** The generator and wrk at the same moderate rate. */
export interface LatencyComparison {
  targetRps: number;
  generator: GeneratorRun;
  wrk: WrkCase & { threads: number; connections: number; meanDelayMs: number; pilotRps: number };
  p50Ratio: number | null;
  p99Ratio: number | null;
}

/** Everything written to bench/results/traffic.json. */
export interface TrafficReport {
  date: string;
  machine: Record<string, string | number>;
  settings: Record<string, string | number>;
  ceiling: WrkCase;
  ladder: LadderStep[];
  /** highest sustained target, 0 when none */
  maxSustainedRps: number;
  /** maxSustainedRps ÷ wrk's req/s */
  ratio: number;
  goal: number;
  met: boolean;
  latency: LatencyComparison;
  notes: string[];
}

/** The median, or null when there is nothing to take it of. */
function medianOrNull(values: number[]): number | null {
  return values.length === 0 ? null : median(values);
}

/**
 * Latency once the run is going: the median over whole seconds 2..N of each second's p50 and
 * p99. The first second carries the worker's start-up (cold code, connections opening) and the
 * last callback is a partial second sent when the run ends; both are left out.
 */
export function steadyLatency(seconds: TrafficSecond[], durationS: number): GeneratorRun['steady'] {
  const whole = seconds.slice(1, Math.floor(durationS)).filter((s) => s.p50 !== null && s.p99 !== null);
  return { p50: medianOrNull(whole.map((s) => s.p50!)), p99: medianOrNull(whole.map((s) => s.p99!)), seconds: whole.length };
}

function errorCount(summary: TrafficSummary): number {
  const e = summary.errors;
  return e.timeout + e.refused + e.http4xx + e.http5xx;
}

/** Judges one rung against the three thresholds. */
export function judgeStep(run: GeneratorRun, bisect: boolean): LadderStep {
  const { summary, targetRps, durationS } = run;
  const achievedShare = targetRps > 0 ? summary.achievedRps / targetRps : 0;
  const droppedShare = summary.droppedByClient / Math.max(1, targetRps * durationS);
  const errors = errorCount(summary);
  const errorShare = summary.requests > 0 ? errors / summary.requests : 1;
  const reasons: string[] = [];
  if (achievedShare < MIN_ACHIEVED_SHARE) reasons.push(`achieved ${(achievedShare * 100).toFixed(1)}% of the target`);
  if (droppedShare > MAX_DROPPED_SHARE) reasons.push(`dropped ${(droppedShare * 100).toFixed(1)}%`);
  if (errorShare > MAX_ERROR_SHARE) reasons.push(`${errors} errors (${(errorShare * 100).toFixed(2)}%)`);
  return {
    ...run,
    bisect,
    achievedShare,
    droppedShare,
    errorShare,
    sustained: reasons.length === 0,
    ...(reasons.length ? { reason: reasons.join(', ') } : {}),
  };
}

export const fmt = {
  rps: (n: number) => Math.round(n).toLocaleString('en-US'),
  ms: (n: number | null) => (n === null ? '–' : n < 10 ? n.toFixed(2) : n.toFixed(1)),
  ratio: (n: number | null) => (n === null ? '–' : n.toFixed(2)),
  pct: (n: number) => `${(n * 100).toFixed(n < 0.01 && n > 0 ? 2 : 1)}%`,
};

/** a ÷ b, or null when either is missing or b is 0. */
export const ratioOf = (a: number | null, b: number | null): number | null => (a === null || b === null || b <= 0 ? null : a / b);

const cell = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '' : String(v));

/** The ladder, every rung in the order it ran. */
export function ladderTable(ladder: LadderStep[]): string {
  return [
    '| target req/s | offered | achieved | achieved ÷ target | dropped | errors | p50 ms | p99 ms | p99 ms, s 2+ | generator CPU | endpoint CPU | other CPU | sustained? |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...ladder.map((s) => {
      const target = `${fmt.rps(s.targetRps)}${s.bisect ? ' (bisect)' : ''}`;
      const verdict = s.sustained ? 'yes' : `no: ${s.reason}`;
      return `| ${target} | ${fmt.rps(s.summary.offeredRps)} | ${fmt.rps(s.summary.achievedRps)} | ${fmt.pct(s.achievedShare)} | ${s.summary.droppedByClient} (${fmt.pct(s.droppedShare)}) | ${errorCount(s.summary)} | ${fmt.ms(s.summary.p50Ms)} | ${fmt.ms(s.summary.p99Ms)} | ${fmt.ms(s.steady.p99)} | ${cell(s.cpu.generator)} | ${cell(s.cpu.server)} | ${cell(s.cpu.other)} | ${verdict} |`;
    }),
  ].join('\n');
}

/** Headline: max rate and both latencies beside wrk's. */
export function headlineTable(report: TrafficReport): string {
  const { latency, ceiling } = report;
  const gen = latency.generator.summary;
  const steady = latency.generator.steady;
  const wrk = latency.wrk.wrk;
  return [
    '| measure | generator | wrk | generator ÷ wrk | goal | met? |',
    '|---|---:|---:|---:|---:|---|',
    `| highest sustained rate (req/s) | ${fmt.rps(report.maxSustainedRps)} | ${fmt.rps(ceiling.wrk.rps)} (closed-model ceiling, -t2 -c64) | ${report.ratio.toFixed(2)} | ≥ ${report.goal.toFixed(2)} | ${report.met ? 'yes' : '**no**'} |`,
    `| p50 at ~${fmt.rps(latency.targetRps)} req/s (ms), whole run | ${fmt.ms(gen.p50Ms)} | ${fmt.ms(wrk.latencyMs.p50)} | ${fmt.ratio(latency.p50Ratio)} |  |  |`,
    `| p99 at ~${fmt.rps(latency.targetRps)} req/s (ms), whole run | ${fmt.ms(gen.p99Ms)} | ${fmt.ms(wrk.latencyMs.p99)} | ${fmt.ratio(latency.p99Ratio)} |  |  |`,
    `| p50 / p99, generator after its first second (ms) | ${fmt.ms(steady.p50)} / ${fmt.ms(steady.p99)} | ${fmt.ms(wrk.latencyMs.p50)} / ${fmt.ms(wrk.latencyMs.p99)} | ${fmt.ratio(ratioOf(steady.p50, wrk.latencyMs.p50))} / ${fmt.ratio(ratioOf(steady.p99, wrk.latencyMs.p99))} |  |  |`,
  ].join('\n');
}

/** Both runs of the latency comparison, side by side. */
export function latencyTable(latency: LatencyComparison): string {
  const g = latency.generator;
  const w = latency.wrk;
  const genErrors = errorCount(g.summary);
  return [
    '| client | model | req/s | p50 ms | p95 / p90 ms | p99 ms | errors | generator CPU | endpoint CPU | wrk CPU |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    `| TrafficRun, constant ${fmt.rps(latency.targetRps)} req/s, whole run | open | ${fmt.rps(g.summary.achievedRps)} | ${fmt.ms(g.summary.p50Ms)} | ${fmt.ms(g.summary.p95Ms)} (p95) | ${fmt.ms(g.summary.p99Ms)} | ${genErrors} | ${cell(g.cpu.generator)} | ${cell(g.cpu.server)} | |`,
    `| the same run, seconds 2–${g.steady.seconds + 1} (median of per-second figures) | open | | ${fmt.ms(g.steady.p50)} | | ${fmt.ms(g.steady.p99)} | | | | |`,
    `| wrk -t${w.threads} -c${w.connections}, paced (mean delay ${w.meanDelayMs.toFixed(1)} ms) | closed | ${fmt.rps(w.wrk.rps)} | ${fmt.ms(w.wrk.latencyMs.p50)} | ${fmt.ms(w.wrk.latencyMs.p90)} (p90) | ${fmt.ms(w.wrk.latencyMs.p99)} | ${w.errors} | | ${cell(w.cpu.server)} | ${cell(w.cpu.wrk)} |`,
  ].join('\n');
}

/** bench/results/traffic.md */
export function trafficMarkdown(report: TrafficReport): string {
  const list = (record: Record<string, string | number>) =>
    Object.entries(record)
      .map(([k, v]) => `- ${k}: ${v}`)
      .join('\n');
  const { ceiling, latency } = report;
  const sections = [
    '# Traffic benchmark: the open-model generator against wrk',
    `Run ${report.date}. Both clients drive the same trivial endpoint (node:http in its own process, 200 with ${report.settings.endpointBody}) ` +
      `with \`GET /users/1\` on loopback. **ratio** = the generator's highest sustained constant rate ÷ wrk's closed-model ceiling ` +
      `(${fmt.rps(ceiling.wrk.rps)} req/s, p50 ${fmt.ms(ceiling.wrk.latencyMs.p50)} ms, p99 ${fmt.ms(ceiling.wrk.latencyMs.p99)} ms${ceiling.valid ? '' : ', INVALID: errors'}). ` +
      `Goal ≥ ${report.goal.toFixed(2)}: ${report.met ? 'met' : '**not met**'}.`,
    headlineTable(report),
    '## Rate ladder',
    `Each rung is one \`TrafficRun\` at a constant rate for its duration. Sustained = achieved ≥ ${MIN_ACHIEVED_SHARE * 100}% of the target, ` +
      `dropped by the client ≤ ${MAX_DROPPED_SHARE * 100}% of the requests due, errors ≤ ${MAX_ERROR_SHARE * 100}%. The ladder stops after two failed rungs in a row; ` +
      '"bisect" rungs narrow the gap between the highest sustained and the lowest failed rate. CPU in % of one core ' +
      `(max ${Number(report.machine.cpus) * 100}); "generator" is the whole bench process (its main thread only collects the per-second figures).`,
    ladderTable(report.ladder),
    '## Latency at a fixed moderate rate',
    `The generator is an **open** model: requests leave on the clock whether or not earlier ones have been answered, so a slow answer ` +
      'cannot delay the requests behind it and its wait counts in their latency. wrk is a **closed** model: each connection sends its next ' +
      'request only after the previous answer (here plus a random pause, to hold the rate), so when the server stalls wrk stops sending ' +
      'and the stall is counted once, not once per request that should have been sent (coordinated omission). At a moderate rate, far below ' +
      "saturation, the two should agree; what is left is each client's own cost per request (a Node event loop in a worker thread vs C and epoll).",
    latencyTable(latency),
    ...(report.notes.length ? ['## Notes', report.notes.map((n) => `- ${n}`).join('\n')] : []),
    '## Machine',
    list(report.machine),
    '## Settings',
    list(report.settings),
    '## wrk command lines',
    [
      '```sh',
      `# ceiling`,
      ceiling.wrk.command,
      `# latency at ~${latency.targetRps} req/s (the Lua script is written to a temp folder: bench/lib/traffic-wrk.ts)`,
      latency.wrk.wrk.command,
      '```',
    ].join('\n'),
  ];
  return `${sections.join('\n\n')}\n`;
}
