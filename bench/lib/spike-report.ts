/** bench/spike.ts's report: its shapes and its markdown. */
import { median } from './control-report.js';

/** One tracing setting: the environment `scalelab up` starts with. */
export interface SpikeSetting {
  name: string;
  env: Record<string, string>;
  note: string;
}

/** One run of the README's spike example: `scalelab traffic … --json`'s summary. */
export interface SpikeRun {
  setting: string;
  round: number;
  /** The first run on a fresh stack (replicas, pools and cache as `up` left them). */
  afterUp: boolean;
  summary: {
    achievedRps: number;
    requests: number;
    p50Ms: number;
    p95Ms: number;
    p99Ms: number;
    errors: { timeout: number; refused: number; http4xx: number; http5xx: number };
    droppedByClient: number;
    generator: { busyCores: number; lagP99Ms: number; limitedBy: string | null } | null;
  };
}

export interface SpikeReport {
  startedAt: string;
  machine: Record<string, string | number>;
  example: string;
  settings: SpikeSetting[];
  rounds: number;
  warmRuns: number;
  runs: SpikeRun[];
}

/** The bar: p99 under this, and no errors. */
export const P99_BAR_MS = 50;

export const errorsOf = (r: SpikeRun) =>
  r.summary.errors.timeout + r.summary.errors.refused + r.summary.errors.http4xx + r.summary.errors.http5xx;
const meets = (r: SpikeRun) => r.summary.p99Ms < P99_BAR_MS && errorsOf(r) === 0;

const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '–');

export function spikeMarkdown(report: SpikeReport): string {
  const lines = [
    "# Spike benchmark: the README's spike example on the product, by tracing setting",
    '',
    `Run ${report.startedAt}. Each setting on its own fresh \`scalelab up --api 4\` stack (local processes, HAProxy, one worker, Redis, PostgreSQL), ${report.rounds} rounds interleaved; per stack the first run straight after \`up\` and ${report.warmRuns} more. Command: \`${report.example}\`. Figures are client-observed (the load generator's, from each request's scheduled time). Bar (issue 19): p99 < ${P99_BAR_MS} ms and 0 errors in every run. Everything shares the machine's ${report.machine.cpus} cores: the generator runs in the control plane's worker thread beside HAProxy, the replicas and the stores.`,
    '',
    '| setting | runs | p99 after up (ms) | p99 warm (ms) | median p99 | worst p99 | median p95 | errors | runs meeting the bar |',
    '|---|---:|---|---|---:|---:|---:|---:|---:|',
  ];
  for (const setting of report.settings) {
    const runs = report.runs.filter((r) => r.setting === setting.name);
    const p99 = runs.map((r) => r.summary.p99Ms);
    lines.push(
      `| ${setting.name} (${setting.note}) | ${runs.length} | ${runs
        .filter((r) => r.afterUp)
        .map((r) => ms(r.summary.p99Ms))
        .join(', ')} | ${runs
        .filter((r) => !r.afterUp)
        .map((r) => ms(r.summary.p99Ms))
        .join(
          ', ',
        )} | ${ms(median(p99))} | ${ms(Math.max(...p99))} | ${ms(median(runs.map((r) => r.summary.p95Ms)))} | ${runs.reduce((n, r) => n + errorsOf(r), 0)} | ${runs.filter(meets).length} of ${runs.length} |`,
    );
  }
  lines.push(
    '',
    '## Runs',
    '',
    '| round | setting | run | achieved req/s | p50 | p95 | p99 (ms) | errors | generator cpu (cores) | generator lag p99 (ms) |',
    '|---:|---|---|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const r of report.runs) {
    const g = r.summary.generator;
    lines.push(
      `| ${r.round} | ${r.setting} | ${r.afterUp ? 'after up' : 'warm'} | ${r.summary.achievedRps} | ${ms(r.summary.p50Ms)} | ${ms(r.summary.p95Ms)} | ${ms(r.summary.p99Ms)} | ${errorsOf(r)} | ${g ? g.busyCores.toFixed(2) : '–'} | ${g ? ms(g.lagP99Ms) : '–'} |`,
    );
  }
  lines.push('', '## Machine', '', ...Object.entries(report.machine).map(([k, v]) => `- ${k}: ${v}`), '');
  return lines.join('\n');
}
