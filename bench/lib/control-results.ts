/**
 * The control-plane benchmark's results, assembled from what bench/control.ts measured: its three
 * cases (the local runtime beside its floor), their notes, the report written to
 * bench/results/control.json and the "Reading the results" section of control.md.
 */
import { execFile } from 'node:child_process';
import os from 'node:os';
import { promisify } from 'node:util';
import { postgresBinaries } from '../../electron/control/runtimes/local/postgres.js';
import { restartDelay } from '../../electron/control/runtimes/local/replica.js';
import {
  controlCase,
  median,
  noteNoisy,
  type ControlCase,
  type ControlReport,
  type KillSample,
  type TimelineStep,
} from './control-report.js';
import { machineFacts } from './harness.js';
import type { cpuSince, TimedSample } from './quiet.js';

type Sample = TimedSample<ReturnType<typeof cpuSince>>;

/** What control.ts fixed before it ran. */
export interface ControlPlan {
  pollMs: number;
  goalUpMs: number;
  goalScaleMs: number;
  scaleFrom: number;
  scaleTo: number;
  /** other work (% of one core) below which a sample starts */
  quietOtherCpu: number;
}

/** Everything control.ts measured, each case's samples beside its floor's. */
export interface ControlMeasured {
  repeats: number;
  /** the command replicas and floors ran (backendCommand), and whether it is the bundled build */
  command: string;
  compiled: boolean;
  /** replicas of the `up` samples */
  upReplicas: { api: number; worker: number };
  coldUpMs: number;
  up: Sample[];
  upFloor: Sample[];
  upTimeline: TimelineStep[];
  scale: Sample[];
  scaleFloor: Sample[];
  scaleDown: number[];
  /** the replica killed in each kill → ready sample */
  fresh: string;
  kill: Sample[];
  killFloor: Sample[];
  killBackoffs: number[];
  repeatedKills: KillSample[];
}

/** What the run's sampler (quiet.ts createSampler) says about its samples. */
export interface ControlSampler {
  figures(list: Sample[]): { samplesMs: number[]; otherCpu: number[] };
  quietNote(): string;
}

async function redisVersion(): Promise<string> {
  const { stdout } = await promisify(execFile)('redis-server', ['--version']).catch(() => ({ stdout: 'unknown' }));
  return stdout.replace(/^Redis server v=(\S+).*/s, '$1').trim();
}

/** The report and the explanations for control.md. */
export async function controlResults(
  plan: ControlPlan,
  m: ControlMeasured,
  sampler: ControlSampler,
): Promise<{ report: ControlReport; explanations: string[] }> {
  const { scaleFrom, scaleTo } = plan;
  const { command, fresh } = m;
  const samples = sampler.figures;
  const runtimeTsx = m.compiled ? 'the bundled build (npm run build), as npm start runs it' : 'TypeScript through tsx';
  const cases: ControlCase[] = [
    controlCase({
      id: 'up-warm',
      title: `up warm (api=${m.upReplicas.api}, worker=${m.upReplicas.worker})`,
      measures:
        '`new LocalRuntime({ home }).up(spec)` until it resolves (every replica ready), PostgreSQL data already initialised; includes CREATE DATABASE check, the watchdog spawn, the balancer and the state file.',
      ...samples(m.up),
      floor: {
        title: `PostgreSQL (same data) and Redis together, then ${m.upReplicas.api} api + ${m.upReplicas.worker} worker together, bare`,
        ...samples(m.upFloor),
      },
      goalMs: plan.goalUpMs,
      notes: [],
    }),
    controlCase({
      id: 'scale-api',
      title: `scale api ${scaleFrom} → ${scaleTo}`,
      measures: `\`runtime.scale('api', ${scaleTo})\` on a running stack at api=${scaleFrom} until it resolves (all ${scaleTo} ready, in the balancer).`,
      ...samples(m.scale),
      floor: { title: `${scaleTo - scaleFrom} api processes at once, bare, against the running stack's stores`, ...samples(m.scaleFloor) },
      goalMs: plan.goalScaleMs,
      notes: [`scaling back ${scaleTo} → ${scaleFrom} (drain, SIGTERM) took ${Math.round(median(m.scaleDown))} ms (median)`],
    }),
    controlCase({
      id: 'kill-to-ready',
      title: 'api replica SIGKILL → ready',
      measures: `\`runtime.kill('${fresh}', 'kill')\` until \`instances()\` (polled every ${plan.pollMs} ms) shows it ready with a new pid. ${fresh} is started just before each sample and killed once, so each sample is a first crash.`,
      ...samples(m.kill),
      floor: { title: 'one api process, bare, no backoff', ...samples(m.killFloor) },
      notes: [
        `includes the restart backoff of a first crash: restartDelay(1) = ${restartDelay(1)} ms (replica.ts; doubles per crash within 60 s, up to 30 s); overhead without it: ${Math.round(median(m.kill.map((x) => x.ms)) - median(m.killBackoffs) - median(m.killFloor.map((x) => x.ms)))} ms`,
      ],
    }),
  ];
  const allGoalsMet = cases.every((c) => c.goalMs === undefined || c.met === true);
  noteNoisy(cases, plan.quietOtherCpu);

  const report: ControlReport = {
    date: new Date().toISOString(),
    machine: {
      ...machineFacts(),
      postgres: (await postgresBinaries()).version.split('-')[0] ?? 'unknown',
      redis: await redisVersion(),
    },
    settings: {
      repeats: m.repeats,
      backendCommand: `${command} (${runtimeTsx}; replicas and floors alike)`,
      replicaEnv:
        'DATABASE_URL, REDIS_URL, ADMIN_TOKEN, CACHE_TTL_SECONDS=60, SHUTDOWN_DELAY_MS=0, INSTANCE_ID, LOG_LEVEL=info, PORT or METRICS_PORT, NODE_ENV=production',
      readiness:
        'api GET /readyz 200, worker GET /healthz 200 on METRICS_PORT; the floor polls every 20 ms (a TCP connect until the port accepts, then the HTTP check), the runtime probes with fetch every 150 ms while starting',
      pollMs: plan.pollMs,
      quiet: sampler.quietNote(),
      loadAverageAtEnd: os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' '),
      scaleDownMedianMs: Math.round(median(m.scaleDown)),
      home: 'a temp SCALELAB_HOME under os.tmpdir(), deleted at the end',
    },
    cases,
    allGoalsMet,
    coldUpMs: Math.round(m.coldUpMs),
    upTimeline: m.upTimeline,
    repeatedKills: m.repeatedKills,
  };
  const explanations = [
    '## Reading the results',
    [
      `- Replicas and floor processes both ran \`${command}\`: ${runtimeTsx}. The bench sets SCALELAB_BACKEND=dist so \`backendCommand\` picks the single-file bundles under dist/ (one module to load instead of hundreds: about half the start-up time of unbundled JavaScript, a quarter of tsx).`,
      "- The floor is a lower bound, not a target: it is the processes' own start-up (Node, module loading, the PostgreSQL connection, migrations check) with nothing around them. Overhead is what the runtime adds: sequential steps (PostgreSQL, then Redis, then CREATE DATABASE, the watchdog, the balancer), its 150 ms readiness probe, the state file.",
      '- Watching costs CPU too: the floor polls each process every 20 ms with a TCP connect (about 1% of a core per process; a refused fetch() every 20 ms would cost about 4%), the runtime probes with fetch() every 150 ms. On a CPU-bound start-up of many processes that is visible in both figures.',
      `- All processes share ${os.cpus().length} CPUs: ${scaleTo - scaleFrom} api processes starting at once are CPU-bound, so the 1 → ${scaleTo} figures mostly measure Node start-up under contention, for the runtime and the floor alike.`,
      `- Restart backoff: replica.ts \`restartDelay(n) = min(30 s, 250 ms × 2^min(n − 1, 7))\`, n = consecutive crashes; a run that lasted over 60 s starts a new series. The kill → ready row waits ${restartDelay(1)} ms of it before respawning; the table below shows it doubling when one replica is killed repeatedly.`,
    ].join('\n'),
  ];
  return { report, explanations };
}
