/**
 * The Docker benchmark's results, assembled from what bench/docker.ts measured: its four cases
 * (the runtime beside its floor), their notes, the CPU per case, the report written to
 * bench/results/docker.json and the "Reading the results" section of docker.md.
 */
import os from 'node:os';
import type Docker from 'dockerode';
import { LABELS } from '../../electron/control/runtimes/docker/labels.js';
import { restartDelay } from '../../electron/control/runtimes/local/replica.js';
import type { TestImages } from '../../test/docker/images.js';
import { controlCase, median, noteNoisy, type ControlCase, type TimelineStep } from './control-report.js';
import type { DockerCpu } from './docker-cpu.js';
import { medianCpu, type DockerReport, type KillTrace } from './docker-report.js';
import { machineFacts } from './harness.js';
import type { TimedSample } from './quiet.js';

type Sample = TimedSample<DockerCpu>;

/** What docker.ts fixed before it ran. */
export interface DockerPlan {
  stack: string;
  pollMs: number;
  up: { api: number; worker: number };
  scaleFrom: number;
  scaleTo: number;
  /** the replica killed in each kill → ready sample */
  killed: string;
  /** other work (% of one core) below which a sample starts */
  quietOtherCpu: number;
}

/** Everything docker.ts measured, each case's samples beside its floor's. */
export interface DockerMeasured {
  repeats: number;
  engine: { version: string; endpoint: string };
  primingUpMs: number;
  cold: Sample[];
  coldFloor: Sample[];
  coldTimelines: TimelineStep[][];
  coldFloorStores: number[];
  warm: Sample[];
  warmFloor: Sample[];
  warmTimelines: TimelineStep[][];
  warmFloorStores: number[];
  scale: Sample[];
  scaleFloor: Sample[];
  kill: Sample[];
  killFloor: Sample[];
  kills: KillTrace[];
  teardown: DockerReport['teardown'];
}

/** What the run's sampler (quiet.ts createSampler) says about its samples. */
export interface DockerSampler {
  figures(list: Sample[]): { samplesMs: number[]; otherCpu: number[] };
  quietNote(): string;
}

/** When both stores were ready in an `up`, from its timeline (ms after `up` was called). */
function storesReadyAt(timeline: TimelineStep[]): number {
  return Math.max(...timeline.filter((s) => /^(postgres|redis) is ready$/.test(s.message)).map((s) => s.atMs));
}

/** Notes of an `up` case: when the stores were ready, and the replicas' stage after that. */
function stageNotes(list: Sample[], timelines: TimelineStep[][], floor: Sample[], floorStoresMs: number[]): string[] {
  const stores = median(timelines.map(storesReadyAt));
  const floorStores = median(floorStoresMs);
  const replicas = median(list.map((x, i) => x.ms - storesReadyAt(timelines[i]!)));
  const floorReplicas = median(floor.map((x, i) => x.ms - floorStoresMs[i]!));
  return [
    `PostgreSQL and Redis ready after ${Math.round(stores)} ms (median; floor ${Math.round(floorStores)} ms); from there to every replica ready ${Math.round(replicas)} ms (floor ${Math.round(floorReplicas)} ms)`,
  ];
}

/** The sample closest to the median's timeline. */
function nearestMedian(list: Sample[], timelines: TimelineStep[][]): TimelineStep[] {
  const mid = median(list.map((x) => x.ms));
  return timelines[list.reduce((best, x, i) => (Math.abs(x.ms - mid) < Math.abs(list[best]!.ms - mid) ? i : best), 0)] ?? [];
}

/** Each test image's role, tag and size, for the report's machine facts. */
async function imageFacts(docker: Docker, images: TestImages): Promise<string> {
  const facts = await Promise.all(
    Object.entries(images).map(async ([role, tag]) => {
      const info = await docker.getImage(tag).inspect();
      return `${role} ${tag} (${Math.round(info.Size / 2 ** 20)} MiB)`;
    }),
  );
  return facts.join('; ');
}

/**
 * The report and the explanations for docker.md; `docker` and `images` describe the images in
 * the machine facts.
 */
export async function dockerResults(
  plan: DockerPlan,
  m: DockerMeasured,
  sampler: DockerSampler,
  docker: Docker,
  images: TestImages,
): Promise<{ report: DockerReport; explanations: string[] }> {
  const { up, scaleFrom, scaleTo, killed } = plan;
  const samples = sampler.figures;
  const backoffMs = restartDelay(1);
  const medianOf = (list: Sample[]) => median(list.map((x) => x.ms));
  const cases: ControlCase[] = [
    controlCase({
      id: 'up-cold',
      title: `up cold (api=${up.api}, worker=${up.worker})`,
      measures:
        '`new DockerRuntime({ home }).up(spec)` until it resolves (every replica ready) with no volume and no container of the stack: connect to the engine, check the 3 images, open the event stream, create the volume, PostgreSQL (initdb) and Redis, the balancer, then the replicas (migrations run on first start).',
      ...samples(m.cold),
      floor: {
        title: `a fresh labelled volume, PostgreSQL and Redis together (until a query and PING answer), then ${up.api} api + ${up.worker} worker together (until /readyz, /healthz answer 200), bare`,
        ...samples(m.coldFloor),
      },
      notes: stageNotes(m.cold, m.coldTimelines, m.coldFloor, m.coldFloorStores),
    }),
    controlCase({
      id: 'up-warm',
      title: `up warm (api=${up.api}, worker=${up.worker})`,
      measures:
        'the same `up`, with the volume already initialised (after `down({ keepData: true })`): no initdb, migrations already applied; no container of the stack exists.',
      ...samples(m.warm),
      floor: { title: 'the same containers, bare, on the same initialised volume', ...samples(m.warmFloor) },
      notes: stageNotes(m.warm, m.warmTimelines, m.warmFloor, m.warmFloorStores),
    }),
    controlCase({
      id: 'scale-api',
      title: `scale api ${scaleFrom} → ${scaleTo}`,
      measures: `\`runtime.scale('api', ${scaleTo})\` on a running stack at api=${scaleFrom} until it resolves (all ${scaleTo} ready, in the balancer).`,
      ...samples(m.scale),
      floor: {
        title: `${scaleTo - scaleFrom} api containers created and started at once, bare, against the running stack's stores`,
        ...samples(m.scaleFloor),
      },
      notes: [
        `scaling back ${scaleTo} → ${scaleFrom} (drain, stop, remove) took ${Math.round(median(m.teardown.scaleBackMs))} ms (median)`,
      ],
    }),
    controlCase({
      id: 'kill-to-ready',
      title: 'api container SIGKILL → ready',
      measures: `\`runtime.kill('${killed}', 'kill')\` until \`instances()\` (polled every ${plan.pollMs} ms) shows it ready in a new incarnation. ${killed} is started just before each sample and killed once, so each sample is a first crash.`,
      ...samples(m.kill),
      floor: { title: 'one api container created and started, bare, no backoff', ...samples(m.killFloor) },
      notes: [
        `includes the restart backoff of a first crash, restartDelay(1) = ${backoffMs} ms (replica.ts; doubles per crash within 60 s, up to 30 s); without it: ${Math.round(medianOf(m.kill) - backoffMs)} ms, ratio ${((medianOf(m.kill) - backoffMs) / medianOf(m.killFloor)).toFixed(2)}`,
        `median time until instances() showed it not ready: ${Math.round(median(m.kills.map((k) => k.notReadyMs)))} ms; until a new incarnation: ${Math.round(median(m.kills.map((k) => k.relaunchedMs)))} ms`,
      ],
    }),
  ];
  const byCase = {
    'up-cold': [m.cold, m.coldFloor],
    'up-warm': [m.warm, m.warmFloor],
    'scale-api': [m.scale, m.scaleFloor],
    'kill-to-ready': [m.kill, m.killFloor],
  } as const;
  noteNoisy(cases, plan.quietOtherCpu);

  const report: DockerReport = {
    date: new Date().toISOString(),
    machine: {
      ...machineFacts(),
      docker: `${m.engine.version} at ${m.engine.endpoint}`,
      images: await imageFacts(docker, images),
    },
    settings: {
      repeats: m.repeats,
      network: 'host (every container on 127.0.0.1; no bridge, no published ports)',
      replicaEnv:
        'DATABASE_URL, REDIS_URL, ADMIN_TOKEN, CACHE_TTL_SECONDS=60, SHUTDOWN_DELAY_MS=0, INSTANCE_ID, LOG_LEVEL=info, PORT/HOST or METRICS_PORT, NODE_ENV=production (runtime and floor alike)',
      readiness:
        'floor: polled every 20 ms (a TCP connect until the port accepts, then PostgreSQL SELECT 1, Redis PING, GET /readyz or /healthz); runtime: stores probed every 250 ms and waited on every 200 ms, replicas probed every 150 ms while starting',
      pollMs: plan.pollMs,
      quiet: sampler.quietNote(),
      loadAverageAtEnd: os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' '),
      labels: `every container and volume carries ${LABELS.stack}=${plan.stack}; all removed at the end`,
      home: 'a temp SCALELAB_HOME under os.tmpdir(), deleted at the end',
    },
    cases,
    cpu: cases.map((c) => {
      const [timed, floor] = byCase[c.id as keyof typeof byCase];
      return { id: c.id, runtime: medianCpu(timed.map((x) => x.cpu)), floor: medianCpu(floor.map((x) => x.cpu)) };
    }),
    primingUpMs: Math.round(m.primingUpMs),
    upTimelines: { cold: nearestMedian(m.cold, m.coldTimelines), warm: nearestMedian(m.warm, m.warmTimelines) },
    kills: m.kills.map((k) => ({ ...k, readyMs: Math.round(k.readyMs) })),
    restartBackoffMs: backoffMs,
    teardown: m.teardown,
  };
  const explanations = [
    '## Reading the results',
    [
      "- The floor is a lower bound, not a target: the engine creating and starting the same containers, and the processes inside starting (PostgreSQL's initdb when cold, Node, migrations), with nothing around them. Overhead is what the runtime adds: connecting and checking the images, the event stream, a log stream and (every 2 s) a stats stream per container, removing a stale container of the same name before each create, its probe intervals, the balancer and the state file.",
      '- "other" CPU is the machine minus the bench process, the engine (dockerd, containerd) and the containers\' cgroup: it also holds the containerd shims and runc (children of pid 1 here, so in neither tree), which work for the runtime and the floor alike, hence the 5–20% it shows even on a quiet machine.',
      `- All containers share ${os.cpus().length} CPUs with the engine and this process: ${scaleTo - scaleFrom} api containers starting at once are CPU-bound, for the runtime and the floor alike.`,
      `- Restart backoff: replica.ts \`restartDelay(n) = min(30 s, 250 ms × 2^min(n − 1, 7))\`; the kill row includes restartDelay(1) = ${backoffMs} ms of waiting, shown apart in its notes and in the phase table below.`,
    ].join('\n'),
  ];
  return { report, explanations };
}
