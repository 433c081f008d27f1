import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { median } from './control-report.js';

/** The seed tutorial's FastAPI app with one worker on this machine (issue 19): the bar the product's default must beat 4×. */
export const SEED_RPS = 2_500;

/** One wrk run of the single-replica part. */
export interface PathRun {
  round: number;
  tracing: 'on' | 'off';
  path: string;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** % of one core per process (tree) over the measured run; see bench/lib/cpu.ts */
  cpu: Record<string, number>;
  /** The balancer's own req/s in the stack's sample near the end of the run (server-side). */
  serverRps: number | null;
}

/** One wrk run of the scale-out part. */
export interface ScaleRun {
  runtime: 'local' | 'docker';
  round: number;
  replicas: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** Sum over the api replicas, % of one core. */
  apiCpu: number;
  cpu: { control: number; haproxy: number; wrk: number; other: number; machine: number };
  /** Each replica's share of throttled periods in the sample near the end of the run. */
  throttledShare: Array<number | null>;
  serverRps: number | null;
}

export interface PathReport {
  date: string;
  machine: Record<string, string | number>;
  settings: { wrk: string; rounds: number; cpuLimit: string; scaleSteps: number[]; nginx: string };
  single: PathRun[];
  scale: ScaleRun[];
}

const range = (xs: number[], digits = 0): string =>
  xs.length === 0 ? '–' : `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;
const fmt = (x: number, digits = 2): string => (Number.isFinite(x) ? x.toFixed(digits) : '–');

/** Per-round ratios a ÷ b, where both ran in the same round. */
function ratios(runs: PathRun[], a: (r: PathRun) => boolean, b: (r: PathRun) => boolean): number[] {
  const out: number[] = [];
  for (const round of new Set(runs.map((r) => r.round))) {
    const x = runs.find((r) => r.round === round && a(r));
    const y = runs.find((r) => r.round === round && b(r));
    if (x && y && y.rps > 0) out.push(x.rps / y.rps);
  }
  return out;
}

function singleSection(runs: PathRun[]): string {
  if (runs.length === 0) return '';
  const is = (tracing: string, p: string) => (r: PathRun) => r.tracing === tracing && r.path === p;
  const groups = [...new Set(runs.map((r) => `${r.tracing}|${r.path}`))];
  const rows = groups.map((key) => {
    const [tracing, p] = key.split('|') as [string, string];
    const mine = runs.filter(is(tracing, p));
    const cpu = (name: string) => fmt(median(mine.map((r) => r.cpu[name] ?? Number.NaN)), 0);
    return `| ${p} | ${tracing} | ${range(mine.map((r) => r.rps))} | ${Math.round(median(mine.map((r) => r.rps)))} | ${range(
      mine.map((r) => r.p99Ms),
      1,
    )} | ${mine.reduce((s, r) => s + r.errors, 0)} | ${cpu('api')} | ${cpu('control')} | ${cpu('haproxy')} | ${cpu('nginx')} | ${cpu('wrk')} | ${cpu('other')} |`;
  });
  return `## One api replica: the balancer beside its parts

wrk is the client: req/s and p99 are client-observed. cpu is % of one core over the measured run (200 = both cores),
median over rounds; "control" is the control plane's own process (telemetry, trace receiver, WebSocket), "haproxy" the
balancer it runs, "other" busy cpu no listed process accounts for (PostgreSQL, Redis, the worker, the other stack idling,
interrupts).

| path | tracing | req/s (min–max) | median | p99 ms | errors | api | control | haproxy | nginx | wrk | other |
|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
${rows.join('\n')}

`;
}

const goalRow = (name: string, xs: number[], bar: number | undefined, per = 'per round'): string =>
  `| ${name} | ${fmt(median(xs))} | ${per === 'per round' ? xs.map((x) => fmt(x)).join(', ') : per} | ${bar === undefined ? '' : `≥ ${bar}`} | ${bar === undefined ? '' : median(xs) >= bar ? 'yes' : '**no**'} |`;

/** The issue's bars, each a ratio of figures measured in this run. */
function goalsSection(report: PathReport): string {
  const runs = report.single;
  const is = (tracing: string, p: string) => (r: PathRun) => r.tracing === tracing && r.path === p;
  const rows: string[] = [];
  if (runs.length > 0) {
    rows.push(goalRow('balancer ÷ nginx → the same replica (tracing off)', ratios(runs, is('off', 'balancer'), is('off', 'nginx')), 0.9));
    rows.push(goalRow('tracing on ÷ tracing off, through the balancer', ratios(runs, is('on', 'balancer'), is('off', 'balancer')), 0.9));
    rows.push(
      goalRow(
        `defaults through the balancer ÷ the seed app's ${SEED_RPS} req/s`,
        runs.filter(is('on', 'balancer')).map((r) => r.rps / SEED_RPS),
        4,
      ),
    );
    rows.push(goalRow('balancer ÷ direct to the replica (tracing on)', ratios(runs, is('on', 'balancer'), is('on', 'direct')), undefined));
    rows.push(
      goalRow('balancer ÷ direct to the replica (tracing off)', ratios(runs, is('off', 'balancer'), is('off', 'direct')), undefined),
    );
  }
  const bars: Record<number, number> = { 2: 1.8, 4: 3.4 };
  for (const runtime of ['local', 'docker'] as const) {
    const scale = report.scale.filter((r) => r.runtime === runtime);
    const counts = [...new Set(scale.map((r) => r.replicas))].sort((a, b) => a - b);
    const base = median(scale.filter((r) => r.replicas === counts[0]).map((r) => r.rps));
    for (const n of counts.slice(1)) {
      const mine = scale.filter((r) => r.replicas === n).map((r) => r.rps / base);
      rows.push(
        goalRow(
          `${runtime}: ${n} ÷ ${counts[0]} api replicas at ${report.settings.cpuLimit} each, through the balancer (each run ÷ the median at ${counts[0]})`,
          mine,
          bars[n],
        ),
      );
    }
  }
  return `| ratio (one run) | median | per round | goal | met? |
|---|---:|---|---:|---|
${rows.join('\n')}
`;
}

function scaleSection(all: ScaleRun[], cpuLimit: string, runtime: 'local' | 'docker'): string {
  const runs = all.filter((r) => r.runtime === runtime);
  if (runs.length === 0) return '';
  const counts = [...new Set(runs.map((r) => r.replicas))].sort((a, b) => a - b);
  const base = median(runs.filter((r) => r.replicas === counts[0]).map((r) => r.rps));
  const bars: Record<number, number> = { 2: 1.8, 4: 3.4 };
  const rows = counts.map((n) => {
    const mine = runs.filter((r) => r.replicas === n);
    const rps = median(mine.map((r) => r.rps));
    const times = rps / base;
    const bar = bars[n];
    const shares = mine.flatMap((r) => r.throttledShare).filter((s): s is number => s !== null);
    const cpu = (pick: (r: ScaleRun) => number) => fmt(median(mine.map(pick)), 0);
    return `| ${n} | ${range(mine.map((r) => r.rps))} | ${Math.round(rps)} | ${fmt(times)}${bar ? ` (goal ≥ ${bar}: ${times >= bar ? 'met' : '**not met**'})` : ''} | ${range(
      mine.map((r) => r.p99Ms),
      1,
    )} | ${mine.reduce((s, r) => s + r.errors, 0)} | ${cpu((r) => r.apiCpu)} | ${range(shares, 2)} | ${cpu((r) => r.cpu.haproxy)} | ${cpu((r) => r.cpu.control)} | ${cpu((r) => r.cpu.wrk)} | ${cpu((r) => r.cpu.machine)} |`;
  });
  return `## Scale-out at ${cpuLimit} per api replica, through the balancer: ${runtime === 'local' ? 'local processes (cgroups)' : 'Docker (NanoCpus, host network)'}

Tracing as shipped. "× 1" divides medians. "throttled" is each replica's share of cfs periods throttled in the stack's
sample near the end of the run (the same figure its tile shows). "machine" is the busy cpu of both cores (200 = full).
wrk keeps 64 connections per replica (a throttled replica's throughput grows with the requests waiting on it; see
bench/path.ts). A lone replica at its quota is the noisiest figure here: one garbage collection or compile at a tenth of
a core stalls every request it holds, which several replicas absorb; a ratio above the replica count says that the
single replica's figure is low, not that replicas add more than their own capacity.

| api replicas | req/s (min–max) | median | × ${counts[0]} | p99 ms | errors | api cpu % (sum) | throttled | haproxy | control | wrk | machine |
|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|
${rows.join('\n')}
`;
}

function runsSection(report: PathReport): string {
  const single = report.single.map(
    (r) =>
      `| ${r.round} | ${r.tracing} ${r.path} | ${r.rps} | ${r.serverRps === null ? '–' : Math.round(r.serverRps)} | ${r.p99Ms.toFixed(1)} | ${r.errors} | ${Object.entries(
        r.cpu,
      )
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')} |`,
  );
  const scale = report.scale.map(
    (r) =>
      `| ${r.round} | ${r.runtime} ${r.replicas} × ${report.settings.cpuLimit} | ${r.rps} | ${r.serverRps === null ? '–' : Math.round(r.serverRps)} | ${r.p99Ms.toFixed(1)} | ${r.errors} | api ${r.apiCpu}, ${Object.entries(
        r.cpu,
      )
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')} |`,
  );
  return `## Runs

"server req/s" is the balancer's own figure from the stack's sample near the end of the run, beside wrk's (client-observed).

| round | run | wrk req/s | server req/s | p99 ms | errors | cpu % |
|---:|---|---:|---:|---:|---:|---|
${[...single, ...scale].join('\n')}
`;
}

/** Writes bench/results/path.json and path.md; returns the .md's path. */
export async function writePathReport(root: string, report: PathReport): Promise<string> {
  const base = path.join(root, 'bench/results/path');
  await writeFile(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  const m = report.machine;
  const md = `# The product's request path, as users run it

${report.date}. ${m.cpus} cpus (${m.cpuModel}), ${m.memoryGiB} GiB, ${m.os}, node ${m.node}; load average at the end ${m.loadAverage}.
Stacks started with the compiled CLI (\`scalelab up\`, as \`npm start\` runs it) in their own SCALELAB_HOME: background
control plane, its balancer, tracing as shipped (sampling and export at their defaults) or OTEL_SDK_DISABLED=true.
wrk ${report.settings.wrk}; ${report.settings.rounds} rounds, paths interleaved in each; nginx ${report.settings.nginx}.
Everything (wrk, the stack's processes, nginx) shared the same 2 cores.

${goalsSection(report)}
${singleSection(report.single)}
${scaleSection(report.scale, report.settings.cpuLimit, 'local')}
${scaleSection(report.scale, report.settings.cpuLimit, 'docker')}
${runsSection(report)}`;
  await writeFile(`${base}.md`, md);
  return `${base}.md`;
}
