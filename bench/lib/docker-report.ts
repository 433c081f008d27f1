import { controlTable, median, samplesTable, type ControlCase, type TimelineStep } from './control-report.js';
import type { DockerCpu } from './docker-cpu.js';

/** Median CPU (% of one core, per component) during a case's samples and during its floor's. */
export interface DockerCaseCpu {
  id: string;
  runtime: DockerCpu;
  floor: DockerCpu;
}

/** One kill → ready of the runtime, split by what `instances()` showed (ms after the kill call). */
export interface KillTrace {
  replica: string;
  /** first poll that no longer showed it ready (the engine's `die` event reached the supervisor) */
  notReadyMs: number;
  /** first poll that showed a new incarnation (startedAt changed: the backoff ended, a container is being launched) */
  relaunchedMs: number;
  /** first poll that showed it ready again */
  readyMs: number;
}

/** Everything written to bench/results/docker.json. */
export interface DockerReport {
  date: string;
  machine: Record<string, string | number>;
  settings: Record<string, string | number>;
  cases: ControlCase[];
  cpu: DockerCaseCpu[];
  /** the run's first `up` (cold), before any sample: not part of any median */
  primingUpMs: number;
  /** onProgress of the cold and warm `up` closest to their medians */
  upTimelines: { cold: TimelineStep[]; warm: TimelineStep[] };
  kills: KillTrace[];
  /** restartDelay(1) in replica.ts: what the supervisor waits after a first crash */
  restartBackoffMs: number;
  /** untimed steps between samples, ms */
  teardown: { downPurgeMs: number[]; downKeepDataMs: number[]; scaleBackMs: number[] };
}

/** Median of each component over the samples. */
export function medianCpu(samples: DockerCpu[]): DockerCpu {
  const of = (key: keyof DockerCpu) => Math.round(median(samples.map((s) => s[key])));
  return { ours: of('ours'), engine: of('engine'), containers: of('containers'), machine: of('machine'), other: of('other') };
}

const ms = (n: number) => Math.round(n).toLocaleString('en-US');

function cpuTable(report: DockerReport): string {
  const title = (id: string) => report.cases.find((c) => c.id === id)?.title ?? id;
  const row = (label: string, c: DockerCpu) => `| ${label} | ${c.ours} | ${c.engine} | ${c.containers} | ${c.other} | ${c.machine} |`;
  return [
    '| case | bench process | engine | containers | other | machine |',
    '|---|---:|---:|---:|---:|---:|',
    ...report.cpu.flatMap((c) => [row(title(c.id), c.runtime), row(`↳ floor`, c.floor)]),
  ].join('\n');
}

function timelineTable(steps: TimelineStep[]): string {
  let previous = 0;
  const rows = steps.map((s) => {
    const row = `| ${ms(s.atMs)} | +${ms(s.atMs - previous)} | ${s.message} |`;
    previous = s.atMs;
    return row;
  });
  return ['| ms after `up` was called | step took | step |', '|---:|---:|---|', ...rows].join('\n');
}

function killTable(kills: KillTrace[]): string {
  return [
    '| kill | replica | not ready seen ms | new incarnation seen ms | ready ms |',
    '|---:|---|---:|---:|---:|',
    ...kills.map((k, i) => `| ${i + 1} | ${k.replica} | ${ms(k.notReadyMs)} | ${ms(k.relaunchedMs)} | ${ms(k.readyMs)} |`),
  ].join('\n');
}

/** bench/results/docker.md */
export function dockerMarkdown(report: DockerReport, explanations: string[]): string {
  const list = (record: Record<string, string | number>) =>
    Object.entries(record)
      .map(([k, v]) => `- ${k}: ${v}`)
      .join('\n');
  const notes = report.cases.flatMap((c) => c.notes.map((n) => `- ${c.title}: ${n}`));
  const sections = [
    '# Docker-runtime benchmark: supervised containers against bare containers',
    `Run ${report.date}, ${report.settings.repeats} repeats of each (medians shown). Ratio = the runtime's median ÷ the floor's median: ` +
      'the floor is the same containers (the same create options from container-specs.ts, the same images, environment and host networking), ' +
      'created and started with bare dockerode calls and polled every 20 ms until they answer. Absolute times drift on this shared machine; compare ratios.',
    controlTable(report.cases),
    '## What each row times',
    report.cases.map((c) => `- **${c.title}**: ${c.measures} Floor: ${c.floor.title}.`).join('\n'),
    ...(notes.length ? ['## Notes', notes.join('\n')] : []),
    ...explanations,
    '## CPU during the samples',
    "Median % of one core: the bench process (the runtime's code runs in it; the floors' polling too), the engine (dockerd and containerd), all containers (the `docker` cpuacct cgroup), other work, and the whole machine.",
    cpuTable(report),
    '## Samples',
    'Each sample, and in brackets the CPU other work used during it (% of one core: the machine minus the bench process, the engine and the containers).',
    samplesTable(report.cases),
    `The run's first \`up\` (cold, before any sample, not in any median): ${ms(report.primingUpMs)} ms.`,
    '## A cold `up`, step by step',
    'From its onProgress messages (the sample closest to the median); the last line is when `up` resolved.',
    timelineTable(report.upTimelines.cold),
    '## A warm `up`, step by step',
    timelineTable(report.upTimelines.warm),
    '## Kill → ready, phase by phase',
    `What \`instances()\`, polled every 20 ms, showed after \`kill(id, 'kill')\`. Between "not ready" and "new incarnation" the supervisor waits its restart backoff, restartDelay(1) = ${report.restartBackoffMs} ms (replica.ts; each sample's replica is fresh, so each kill is a first crash).`,
    killTable(report.kills),
    '## Between samples (not timed in any row)',
    `- \`down({ keepData: false })\` (stop, remove containers and volume): ${report.teardown.downPurgeMs.map(ms).join(', ')} ms`,
    `- \`down({ keepData: true })\`: ${report.teardown.downKeepDataMs.map(ms).join(', ')} ms`,
    `- \`scale('api', 1)\` from 10 (drain, stop, remove 9 containers): ${report.teardown.scaleBackMs.map(ms).join(', ')} ms`,
    '## Machine',
    list(report.machine),
    '## Settings',
    list(report.settings),
  ];
  return `${sections.join('\n\n')}\n`;
}
