/** The tracing benchmark's figures (bench/tracing.ts): per run, per variant, and as markdown. */
import { median } from './control-report.js';

/** One measured wrk run against a replica started with one variant's environment. */
export interface TracingRun {
  round: number;
  variant: string;
  /** The replica's tracing variables (the token masked). */
  env: Record<string, string>;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  requests: number;
  /** Spans the receiver accepted per second of the run. */
  spansPerSecond: number;
  /** The receiver's process cpu, % of one core. */
  receiverCpuPercent: number;
  apiCpuPercent: number;
  /** The replica's cpu per answered request, µs: less sensitive than req/s to other work taking cores. */
  apiCpuUsPerRequest: number;
  wrkCpuPercent: number;
  machineCpuPercent: number;
  /** Busy cpu no process above accounts for (other helpers' work, interrupts). */
  otherCpuPercent: number;
}

/** A variant's figures across rounds. */
export interface VariantSummary {
  variant: string;
  rpsMin: number;
  rpsMax: number;
  rpsMedian: number;
  p99MsMedian: number;
  spansPerSecondMedian: number;
  receiverCpuPercentMedian: number;
  apiCpuUsPerRequestMedian: number;
  /** off's median cpu per request ÷ this variant's (1 = tracing costs nothing); null for off itself. */
  cpuRatioToOff: number | null;
  /** Median rps ÷ off's median rps; null for off itself or without an off variant. */
  ratioToOff: number | null;
  /** The same ratio per round (each against the off run of its own round). */
  roundRatios: number[];
}

/** Everything written to bench/results/tracing.json. */
export interface TracingReport {
  date: string;
  machine: Record<string, string | number>;
  settings: Record<string, string | number>;
  runs: TracingRun[];
  summary: VariantSummary[];
}

const ratio = (a: number, b: number) => Math.round((a / b) * 1000) / 1000;

/** Per-variant ranges, medians and ratios to the `off` variant. */
export function summarizeRounds(runs: TracingRun[]): VariantSummary[] {
  const variants = [...new Set(runs.map((r) => r.variant))];
  const offOf = (round: number) => runs.find((r) => r.round === round && r.variant === 'off');
  const offs = runs.filter((r) => r.variant === 'off');
  const offMedian = offs.length > 0 ? median(offs.map((r) => r.rps)) : null;
  const offCpu = offs.length > 0 ? median(offs.map((r) => r.apiCpuUsPerRequest)) : null;
  return variants.map((variant) => {
    const mine = runs.filter((r) => r.variant === variant);
    const rps = mine.map((r) => r.rps);
    const isOff = variant === 'off';
    return {
      variant,
      rpsMin: Math.min(...rps),
      rpsMax: Math.max(...rps),
      rpsMedian: median(rps),
      p99MsMedian: median(mine.map((r) => r.p99Ms)),
      spansPerSecondMedian: median(mine.map((r) => r.spansPerSecond)),
      receiverCpuPercentMedian: median(mine.map((r) => r.receiverCpuPercent)),
      apiCpuUsPerRequestMedian: median(mine.map((r) => r.apiCpuUsPerRequest)),
      cpuRatioToOff: isOff || offCpu === null ? null : ratio(offCpu, median(mine.map((r) => r.apiCpuUsPerRequest))),
      ratioToOff: isOff || offMedian === null ? null : ratio(median(rps), offMedian),
      roundRatios: isOff ? [] : mine.flatMap((r) => (offOf(r.round) ? [ratio(r.rps, offOf(r.round)!.rps)] : [])),
    };
  });
}

/** bench/results/tracing.md. */
export function tracingMarkdown(report: TracingReport): string {
  const lines = [
    '# Tracing cost: one api replica, tracing on vs off',
    '',
    `${report.date}. ${Object.entries(report.machine)
      .map(([k, v]) => `${k}: ${v}`)
      .join('; ')}.`,
    '',
    ...Object.entries(report.settings).map(([k, v]) => `- ${k}: ${v}`),
    '',
    '| variant | req/s (min–max) | median | p99 ms (median) | spans/s received | receiver cpu % | api µs cpu/request | req/s ÷ off (median) | per round | off ÷ this cpu/request |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---|---:|',
    ...report.summary.map(
      (s) =>
        `| ${s.variant} | ${s.rpsMin}–${s.rpsMax} | ${s.rpsMedian} | ${s.p99MsMedian.toFixed(1)} | ${s.spansPerSecondMedian} | ${s.receiverCpuPercentMedian} | ${s.apiCpuUsPerRequestMedian} | ${s.ratioToOff ?? '—'} | ${s.roundRatios.join(', ') || '—'} | ${s.cpuRatioToOff ?? '—'} |`,
    ),
    '',
    '## Runs',
    '',
    '| round | variant | req/s | p99 ms | errors | spans/s | receiver cpu % | api cpu % | api µs/request | wrk cpu % | other cpu % |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...report.runs.map(
      (r) =>
        `| ${r.round} | ${r.variant} | ${r.rps} | ${r.p99Ms.toFixed(1)} | ${r.errors} | ${r.spansPerSecond} | ${r.receiverCpuPercent} | ${r.apiCpuPercent} | ${r.apiCpuUsPerRequest} | ${r.wrkCpuPercent} | ${r.otherCpuPercent} |`,
    ),
    '',
    'cpu figures are % of one core over the measured run (200 = both cores). "other" is busy cpu of processes outside this',
    'benchmark (other work on a shared machine) and interrupts: a large figure means the round was disturbed, and both',
    'variants of a round were run next to each other so that the ratio stays comparable.',
    '',
  ];
  return lines.join('\n');
}
