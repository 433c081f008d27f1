import { median, percentile } from './control-report.js';

/** One sample as the open dashboard received it. */
export interface ReceivedSample {
  /** The sample's own time (the control plane's clock, ms since the epoch). */
  t: number;
  /** When the page received it (ms since the epoch). */
  arrived: number;
  /** Main-thread ms from the WebSocket message until React rendered and the page was laid out. */
  updateMs: number;
}

/** One phase of the run: what flowed through the balancer, what the dashboard received. */
export interface LivePhase {
  round: number;
  load: 'idle' | 'wrk' | 'generator';
  /** How the load was made, as a user would type it. */
  command: string;
  durationS: number;
  /** The balancer's own rate (server-side), median of the phase's samples; the client's where it reported one. */
  balancerRps: number;
  clientRps: number | null;
  samples: ReceivedSample[];
  /** % of one core per process group over the phase (200 = both cores). */
  cpu: Record<string, number>;
}

export interface LiveReport {
  startedAt: string;
  machine: Record<string, string | number>;
  stack: string;
  budgetMs: number;
  maxGapMs: number;
  phases: LivePhase[];
}

/** Gaps between consecutive arrivals, ms. */
export function gapsOf(samples: readonly ReceivedSample[]): number[] {
  return samples.slice(1).map((s, i) => s.arrived - samples[i]!.arrived);
}

/** The phase's figures against the bar: a sample every second (none later than 2 s) and an update within budget. */
export function judgePhase(phase: LivePhase, budgetMs: number, maxGapMs: number) {
  const gaps = gapsOf(phase.samples);
  const updates = phase.samples.map((s) => s.updateMs);
  const expected = Math.floor(phase.durationS) - 1;
  const medianUpdate = median(updates);
  const maxGap = Math.max(...gaps);
  return {
    received: phase.samples.length,
    expected,
    maxGapMs: maxGap,
    late: gaps.filter((g) => g > maxGapMs).length,
    updateMedianMs: medianUpdate,
    updateP95Ms: percentile(updates, 95),
    updateMaxMs: Math.max(...updates),
    met: phase.samples.length >= expected && maxGap <= maxGapMs && medianUpdate <= budgetMs,
  };
}

const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '–');
const int = (n: number | null) => (n === null || !Number.isFinite(n) ? '–' : Math.round(n).toLocaleString('en-US'));

export function liveMarkdown(report: LiveReport): string {
  const rows = report.phases.map((p) => {
    const j = judgePhase(p, report.budgetMs, report.maxGapMs);
    return `| ${p.round} | ${p.load} | ${int(p.balancerRps)} | ${int(p.clientRps)} | ${j.received} of ≥ ${j.expected} | ${int(j.maxGapMs)} | ${j.late} | ${f1(j.updateMedianMs)} | ${f1(j.updateP95Ms)} | ${f1(j.updateMaxMs)} | ${j.met ? 'yes' : '**no**'} |`;
  });
  const cpuNames = [...new Set(report.phases.flatMap((p) => Object.keys(p.cpu)))].filter((n) => n !== 'machine');
  const cpuRows = report.phases.map(
    (p) => `| ${p.round} | ${p.load} | ${cpuNames.map((n) => int(p.cpu[n] ?? null)).join(' | ')} | ${int(p.cpu.machine ?? null)} |`,
  );
  const loaded = report.phases.filter((p) => p.load !== 'idle');
  const allMet = loaded.every((p) => judgePhase(p, report.budgetMs, report.maxGapMs).met);
  return `# The dashboard under load: samples and updates while traffic flows through the balancer

${report.startedAt}. ${Object.entries(report.machine)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}.
Stack: ${report.stack}. The dashboard is the real one, served by the control plane and opened in Debian's Chromium
(headless, 1280×800) through a one-time login URL, as \`scalelab up --open\` opens it. In the page the WebSocket's
message handler is wrapped: for each sample it records when it arrived and the main-thread time from the message until
React has rendered and the page is laid out (a MessageChannel task queued after React's render task, then a forced
layout, as in bench:renderer; paint excluded). The bar (issue 19): while 10k req/s flow through the balancer, a sample
every second, none later than ${report.maxGapMs / 1000} s after the last, and an update's median within ${report.budgetMs} ms.
**Loaded phases: ${allMet ? 'all met' : 'not all met'}.**

| round | load | balancer req/s (server) | client req/s | samples received | max gap ms | gaps > ${report.maxGapMs / 1000} s | update median ms | p95 | max | met? |
|---|---|---:|---:|---|---:|---:|---:|---:|---:|---|
${rows.join('\n')}

Loads: ${[...new Map(report.phases.map((p) => [p.load, p.command])).entries()].map(([l, c]) => `**${l}**: ${c}`).join('; ')}.
"balancer req/s" is the median of the samples' \`traffic.rps\` during the phase (what the balancer counted);
"client req/s" what the load tool reported.

## What shared the two cores

% of one core over each phase (200 = both cores busy). "chromium" is the browser's whole process tree, "control" the
control plane alone (telemetry, the generator's threads in the generator phase, the WebSocket), "haproxy" the balancer,
"api" the replicas, "load tool" wrk or the \`scalelab traffic\` CLI (the generator's threads are in "control"), "other" busy time no listed process accounts for (PostgreSQL, Redis, the
worker, interrupts).

| round | load | ${cpuNames.join(' | ')} | machine |
|---|---|${cpuNames.map(() => '---:').join('|')}|---:|
${cpuRows.join('\n')}
`;
}
