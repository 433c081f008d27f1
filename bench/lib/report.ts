import type { WrkResult } from './wrk.js';

/** One measured case: wrk's figures, how many answers were wrong, and the ratio to nginx. */
export interface CaseResult {
  id: string;
  title: string;
  /** what a correct answer is, e.g. "200" */
  expected: string;
  wrk: WrkResult;
  /** socket errors + wrong statuses */
  errors: number;
  errorRate: number;
  /** false when errors are significant: the figures then measure failures, not the service */
  valid: boolean;
  /** rps ÷ nginx (1 worker) rps */
  ratio?: number;
  /** rps ÷ nginx (worker_processes auto) rps */
  ratioAuto?: number;
  goal?: number;
  met?: boolean;
  /** CPU during the measured run, in % of one core, by process group (see cpu.ts) */
  cpu?: Record<string, number>;
  notes: string[];
}

/** A CPU profile of the api under one case, summarised. */
export interface ProfileReport {
  caseId: string;
  command: string;
  note: string;
  totalMs: number;
  markdown: string;
}

/** Everything written to bench/results/backend.json. */
export interface BackendReport {
  date: string;
  machine: Record<string, string | number>;
  settings: Record<string, string | number>;
  cases: CaseResult[];
  allGoalsMet: boolean;
  profiles: ProfileReport[];
}

/** Above this share of failed requests a case is flagged invalid. */
export const MAX_ERROR_RATE = 0.001;

/** Counts socket errors and statuses other than `expected`, and decides whether the case counts. */
export function judge(id: string, title: string, expected: string, wrk: WrkResult): CaseResult {
  const socket = wrk.socketErrors.connect + wrk.socketErrors.read + wrk.socketErrors.write + wrk.socketErrors.timeout;
  // wrk lumps every status >= 400 into "Non-2xx or 3xx"; scripts expecting a 4xx count statuses themselves.
  const wrongStatus = wrk.statuses ? wrk.statuses.other : wrk.non2xx3xx;
  const errors = socket + wrongStatus;
  const errorRate = wrk.requests > 0 ? errors / wrk.requests : 1;
  const valid = wrk.requests > 0 && errorRate <= MAX_ERROR_RATE;
  const notes: string[] = [];
  if (!valid) notes.push(`INVALID: ${errors} errors of ${wrk.requests} requests (${(errorRate * 100).toFixed(2)}%)`);
  return { id, title, expected, wrk, errors, errorRate, valid, notes };
}

/** Fills ratio, ratioAuto and met from the two nginx references. */
export function applyRatios(cases: CaseResult[], nginx1: CaseResult, nginxAuto: CaseResult, goals: Record<string, number>): void {
  for (const c of cases) {
    c.ratio = c.wrk.rps / nginx1.wrk.rps;
    c.ratioAuto = c.wrk.rps / nginxAuto.wrk.rps;
    const goal = goals[c.id];
    if (goal !== undefined) {
      c.goal = goal;
      c.met = c.valid && nginx1.valid && c.ratio >= goal;
    }
  }
}

const fmt = {
  rps: (n: number) => Math.round(n).toLocaleString('en-US'),
  ms: (n: number) => (n < 10 ? n.toFixed(2) : n.toFixed(1)),
  ratio: (n: number | undefined) => (n === undefined ? '' : n.toFixed(2)),
};

/** The results table, in markdown. */
export function resultsTable(cases: CaseResult[]): string {
  const rows = cases.map((c) => {
    const met = c.goal === undefined ? '' : c.met ? 'yes' : '**no**';
    const errors = `${c.errors}${c.valid ? '' : ' (invalid)'}`;
    return `| ${c.title} | ${c.expected} | ${fmt.rps(c.wrk.rps)} | ${fmt.ms(c.wrk.latencyMs.p50)} | ${fmt.ms(c.wrk.latencyMs.p99)} | ${errors} | ${fmt.ratio(c.ratio)} | ${fmt.ratio(c.ratioAuto)} | ${c.goal === undefined ? '' : `≥ ${c.goal.toFixed(2)}`} | ${met} |`;
  });
  return [
    '| case | expected | req/s | p50 ms | p99 ms | errors | ratio (nginx 1w) | ratio (nginx auto) | goal | met? |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---|',
    ...rows,
  ].join('\n');
}

/** Where each case's CPU went, in % of one core. */
export function cpuTable(cases: CaseResult[]): string {
  const groups = ['server', 'postgres', 'redis', 'wrk', 'other', 'machine'];
  const cell = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '' : String(v));
  return [
    `| case | ${groups.join(' | ')} |`,
    `|---|${groups.map(() => '---:').join('|')}|`,
    ...cases.map((c) => `| ${c.title} | ${groups.map((g) => cell(c.cpu?.[g])).join(' | ')} |`),
  ].join('\n');
}

/** bench/results/backend.md */
export function reportMarkdown(report: BackendReport): string {
  const list = (record: Record<string, string | number>) =>
    Object.entries(record)
      .map(([k, v]) => `- ${k}: ${v}`)
      .join('\n');
  const notes = report.cases.flatMap((c) => c.notes.map((n) => `- ${c.title}: ${n}`));
  const sections = [
    '# Backend benchmark: one API process against nginx',
    `Run ${report.date}. Ratios are req/s ÷ nginx serving a static JSON file of the same size with one worker ` +
      '(the headline reference: one process, like one API process); the "auto" column divides by nginx with one worker per CPU. ' +
      `Goals: ${report.allGoalsMet ? 'all met' : '**not all met**'}.`,
    resultsTable(report.cases),
    ...(notes.length ? ['## Notes', notes.join('\n')] : []),
    '## CPU during each measured run',
    '% of one core. "server" is nginx or the api; "other" is busy time none of them accounts for (interrupts, other processes); "machine" is all cores (max ' +
      `${Number(report.machine.cpus) * 100}).`,
    cpuTable(report.cases),
    '## Machine',
    list(report.machine),
    '## Settings',
    list(report.settings),
    '## wrk command lines',
    ['```sh', ...report.cases.map((c) => `# ${c.id} (run from the repo root)\n${c.wrk.command}`), '```'].join('\n'),
  ];
  for (const profile of report.profiles) {
    const title = report.cases.find((c) => c.id === profile.caseId)?.title ?? profile.caseId;
    sections.push(`## CPU profile of the api: ${title}`, `\`${profile.command}\`: ${profile.note}`, profile.markdown);
  }
  return `${sections.join('\n\n')}\n`;
}
