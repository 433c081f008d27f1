/** One control-plane operation, timed `repeats` times beside its floor measured in the same run. */
export interface ControlCase {
  id: string;
  title: string;
  /** what was timed, from which call to which answer */
  measures: string;
  samplesMs: number[];
  /** CPU used by other work during each sample, % of one core (see quiet.ts) */
  otherCpu: number[];
  medianMs: number;
  floor: { title: string; samplesMs: number[]; otherCpu: number[]; medianMs: number };
  /** medianMs ÷ floor.medianMs */
  ratio: number;
  /** medianMs − floor.medianMs */
  overheadMs: number;
  /** the median must stay below this */
  goalMs?: number;
  met?: boolean;
  notes: string[];
}

/** One kill of the same replica in a row: the backoff the supervisor waited and the time to ready. */
export interface KillSample {
  replica: string;
  /** restartDelay() for this kill, mirrored from replica.ts (age of the incarnation, kills so far) */
  backoffMs: number;
  killToReadyMs: number;
  /** killToReadyMs − backoffMs */
  withoutBackoffMs: number;
}

/** A step of `up`, from its onProgress messages: ms since `up` was called. */
export interface TimelineStep {
  atMs: number;
  message: string;
}

/** Everything written to bench/results/control.json. */
export interface ControlReport {
  date: string;
  machine: Record<string, string | number>;
  settings: Record<string, string | number>;
  cases: ControlCase[];
  allGoalsMet: boolean;
  /** the first `up` of the run: initdb, CREATE DATABASE, migrations (no floor) */
  coldUpMs: number;
  /** onProgress of the warm `up` closest to the median */
  upTimeline: TimelineStep[];
  /** the same replica killed again and again, a few seconds apart */
  repeatedKills: KillSample[];
}

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The value at percentile `p` (0–100) of `values`, nearest rank below; NaN when there are none. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Fills medians, ratio, overhead and met from the samples. */
export function controlCase(
  fields: Omit<ControlCase, 'medianMs' | 'ratio' | 'overheadMs' | 'met' | 'floor'> & { floor: Omit<ControlCase['floor'], 'medianMs'> },
): ControlCase {
  const medianMs = Math.round(median(fields.samplesMs));
  const floorMedian = Math.round(median(fields.floor.samplesMs));
  const c: ControlCase = {
    ...fields,
    samplesMs: fields.samplesMs.map(Math.round),
    medianMs,
    floor: { ...fields.floor, samplesMs: fields.floor.samplesMs.map(Math.round), medianMs: floorMedian },
    ratio: Math.round((medianMs / floorMedian) * 100) / 100,
    overheadMs: medianMs - floorMedian,
  };
  if (c.goalMs !== undefined) c.met = medianMs < c.goalMs;
  return c;
}

/** Adds a note to each case some of whose samples (floor included) saw other work use ≥ `threshold` % of a core. */
export function noteNoisy(cases: ControlCase[], threshold: number): void {
  for (const c of cases) {
    const noisy = [...c.otherCpu, ...c.floor.otherCpu].filter((o) => o >= threshold).length;
    if (noisy > 0)
      c.notes.push(
        `noisy: ${noisy} of ${c.otherCpu.length * 2} samples (floor included) saw other work use ≥ ${threshold}% of a core; their figures are likely high`,
      );
  }
}

const ms = (n: number) => Math.round(n).toLocaleString('en-US');

/** The results table, in markdown. */
export function controlTable(cases: ControlCase[]): string {
  const rows = cases.map((c) => {
    const met = c.goalMs === undefined ? '' : c.met ? 'yes' : '**no**';
    return `| ${c.title} | ${ms(c.medianMs)} | ${ms(c.floor.medianMs)} | ${c.ratio.toFixed(2)} | ${ms(c.overheadMs)} | ${c.goalMs === undefined ? '' : `< ${ms(c.goalMs)}`} | ${met} |`;
  });
  return ['| case | median ms | floor ms | ratio | overhead ms | goal | met? |', '|---|---:|---:|---:|---:|---:|---|', ...rows].join('\n');
}

/** Every sample, so the spread is visible next to the medians. */
export function samplesTable(cases: ControlCase[]): string {
  const list = (values: number[], other: number[]) => values.map((v, i) => `${ms(v)} (${other[i]}%)`).join(', ');
  return [
    '| case | samples ms (other CPU) | floor | floor samples ms (other CPU) |',
    '|---|---|---|---|',
    ...cases.map(
      (c) => `| ${c.title} | ${list(c.samplesMs, c.otherCpu)} | ${c.floor.title} | ${list(c.floor.samplesMs, c.floor.otherCpu)} |`,
    ),
  ].join('\n');
}

function killTable(samples: KillSample[]): string {
  return [
    '| kill | replica | backoff ms | kill → ready ms | without backoff ms |',
    '|---:|---|---:|---:|---:|',
    ...samples.map((s, i) => `| ${i + 1} | ${s.replica} | ${ms(s.backoffMs)} | ${ms(s.killToReadyMs)} | ${ms(s.withoutBackoffMs)} |`),
  ].join('\n');
}

/** bench/results/control.md */
export function controlMarkdown(report: ControlReport, explanations: string[]): string {
  const list = (record: Record<string, string | number>) =>
    Object.entries(record)
      .map(([k, v]) => `- ${k}: ${v}`)
      .join('\n');
  const notes = report.cases.flatMap((c) => c.notes.map((n) => `- ${c.title}: ${n}`));
  const timeline = [
    '| ms after `up` was called | step |',
    '|---:|---|',
    ...report.upTimeline.map((s) => `| ${ms(s.atMs)} | ${s.message} |`),
  ].join('\n');
  const sections = [
    '# Control-plane benchmark: supervised stack against bare processes',
    `Run ${report.date}, ${report.settings.repeats} repeats of each (medians shown). Ratios are the control plane's time ÷ the floor's: the same processes, ` +
      'started by the same command with the same environment, but spawned bare (no supervision) and polled every 20 ms until their ports answer. ' +
      `Goals: ${report.allGoalsMet ? 'all met' : '**not all met**'}.`,
    controlTable(report.cases),
    '## What each row times',
    report.cases.map((c) => `- **${c.title}**: ${c.measures} Floor: ${c.floor.title}.`).join('\n'),
    ...(notes.length ? ['## Notes', notes.join('\n')] : []),
    ...explanations,
    '## Samples',
    'Each sample, and in brackets the CPU other work on this machine used during it (% of one core: busy time not accounted to the process tree of this benchmark, so other processes and interrupts, and also grandchildren that exited during the sample). Before each sample the benchmark waits for other work to drop below the threshold in Settings, for a limited time.',
    samplesTable(report.cases),
    `First (cold) \`up\` of the run, with initdb and migrations, not part of any median: ${ms(report.coldUpMs)} ms.`,
    '## A warm `up`, step by step',
    'From its onProgress messages (the run closest to the median); the last line is when `up` resolved.',
    timeline,
    '## The same replica killed again and again',
    'Each kill follows the previous ready by a second or so, so the backoff doubles (replica.ts `restartDelay`); the "without backoff" column is what supervision costs besides the wait.',
    killTable(report.repeatedKills),
    '## Machine',
    list(report.machine),
    '## Settings',
    list(report.settings),
  ];
  return `${sections.join('\n\n')}\n`;
}
