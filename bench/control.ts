/**
 * Control-plane benchmark: what does supervision add to the time the processes themselves take?
 *
 * Each operation of the local runtime is timed beside its floor, measured in the same run: the
 * same processes (same command, same environment, same data) spawned bare, with no supervision,
 * and polled every 20 ms until their ports answer.
 *   1. `up` warm (PostgreSQL's data already initialised): api=2, worker=1. Floor: PostgreSQL on the
 *      same data folder and Redis (together), then 2 api processes and 1 worker (together).
 *   2. `scale('api', 10)` from a running stack at api=1. Floor: 9 bare api processes at once.
 *   3. A replica's SIGKILL-to-ready time (`kill(id, 'kill')`, then `instances()` every 20 ms until
 *      the replica is ready with a new pid). Floor: one bare api process. The supervisor waits a
 *      restart backoff before respawning (replica.ts `restartDelay`); the report shows it.
 * Goals: warm up < 5 s, scale 1 → 10 < 3 s. Ratio = median ÷ floor median.
 *
 * The runtime runs from the TypeScript source, but its replicas and the floor processes (which
 * share `backendCommand`) run the bundled build, as `npm start` does (SCALELAB_BACKEND=dist).
 *
 * Env: BENCH_REPEATS (3). Writes bench/results/control.json and bench/results/control.md.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { withDefaults, type Instance, type StackSpec } from '../electron/contract.js';
import { backendCommand } from '../electron/control/runtimes/local/backend-process.js';
import { LocalRuntime } from '../electron/control/runtimes/local/local-runtime.js';
import { stackDir } from '../electron/control/runtimes/local/stack-dir.js';
import { freePort } from '../electron/control/runtimes/local/ports.js';
import { LocalPostgres, postgresDataDir } from '../electron/control/runtimes/local/postgres.js';
import { LocalRedis } from '../electron/control/runtimes/local/redis.js';
import { restartDelay } from '../electron/control/runtimes/local/replica.js';
import { loadSecrets, type Secrets } from '../electron/control/runtimes/local/state.js';
import type { DirectEndpoints } from '../electron/control/runtimes/runtime.js';
import { sleep, startBare, stopBare, waitAnswering, type BareProcess, type StartBareOptions } from './lib/bare.js';
import { controlMarkdown, controlTable, median, samplesTable, type KillSample, type TimelineStep } from './lib/control-report.js';
import { controlResults } from './lib/control-results.js';
import { cpuMark, cpuSince, createSampler, waitQuiet, type TimedRun, type TimedSample } from './lib/quiet.js';
import { createHarness } from './lib/harness.js';
import { replicaEnv } from './lib/replica-env.js';

// Measure what `npm start` runs: the bundled build of the api and worker (scripts/bundle.mjs),
// for replicas and floors alike. SCALELAB_BACKEND=source measures the TypeScript source instead.
if (process.env.SCALELAB_BACKEND === undefined) process.env.SCALELAB_BACKEND = 'dist';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS = path.join(ROOT, 'bench', 'results');
const STACK = 'bench';
/** LocalRuntime's database name. */
const DATABASE = 'scalelab';
const POLL_MS = 20;
const GOAL_UP_MS = 5_000;
const GOAL_SCALE_MS = 3_000;
const SCALE_FROM = 1;
const SCALE_TO = 10;
/** replica.ts: a run that stayed up this long resets the backoff (STABLE_MS, not exported). */
const STABLE_MS = 60_000;
/** Other work (% of one core) below which a sample starts, as backend.ts's NOISY_OTHER_CPU. */
const QUIET_OTHER_CPU = 25;
/** Longest wait for that quiet before a sample starts anyway. */
const QUIET_MAX_WAIT_MS = 20_000;

const repeats = (() => {
  const raw = process.env.BENCH_REPEATS;
  const value = raw === undefined || raw === '' ? 3 : Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`BENCH_REPEATS must be a positive integer, got "${raw}"`);
  return value;
})();
const harness = createHarness();
const { say, cleanup } = harness;

const home = await mkdtemp(path.join(os.tmpdir(), 'scalelab-bench-control-'));
process.env.SCALELAB_HOME = home;
const dir = stackDir(home, STACK);
const floorLogs = path.join(home, 'floor-logs');
/** The runtime under test; a fresh one for each `up`, as a new control plane would be. */
let runtime: LocalRuntime | undefined;
/** Bare processes of the floor in progress, for Ctrl-C. */
const bareLive = new Set<BareProcess>();

let bareCount = 0;
/** Spawns bare processes together and resolves once every one answers; they keep running. */
async function startAllBare(
  programs: Array<'api' | 'worker'>,
  env: Record<string, string>,
  spawn?: StartBareOptions['spawn'],
): Promise<BareProcess[]> {
  const ports = await Promise.all(programs.map(() => freePort()));
  const processes = programs.map((program, i) =>
    startBare({ program, id: `floor-${program}-${++bareCount}`, port: ports[i]!, env, logsDir: floorLogs, spawn }),
  );
  for (const p of processes) bareLive.add(p);
  await Promise.all(processes.map((p) => waitAnswering(p, POLL_MS)));
  return processes;
}

async function stopAllBare(processes: BareProcess[]): Promise<void> {
  await stopBare(processes);
  for (const p of processes) bareLive.delete(p);
}

const sampler = createSampler({ waitQuiet, mark: cpuMark, since: cpuSince }, QUIET_OTHER_CPU, QUIET_MAX_WAIT_MS);
type Run = TimedRun;
type Sample = TimedSample<ReturnType<typeof cpuSince>>;
const sample = sampler.sample;

/** Bare processes started together, timed until all answer, stopped after the sample. */
function bareRun(programs: Array<'api' | 'worker'>, env: Record<string, string>, spawn?: StartBareOptions['spawn']): () => Promise<Run> {
  return async () => {
    const t0 = performance.now();
    const processes = await startAllBare(programs, env, spawn);
    return { ms: performance.now() - t0, after: () => stopAllBare(processes) };
  };
}

/** Floor of a warm `up`: the stores on the stack's own data, then the replicas' processes, bare. */
async function floorUp(secrets: Secrets, spec: StackSpec): Promise<Run> {
  const t0 = performance.now();
  const postgres = new LocalPostgres({
    dataDir: postgresDataDir(path.join(dir, 'postgres')),
    port: await freePort(),
    password: secrets.postgresPassword,
    logFile: path.join(floorLogs, 'postgres.log'),
  });
  const redis = new LocalRedis({ port: await freePort(), dir: path.join(floorLogs, 'redis'), logFile: path.join(floorLogs, 'redis.log') });
  const stores = async () => {
    await redis.stop();
    await postgres.stop();
  };
  harness.onCleanup(stores);
  const stop = async () => {
    await stopAllBare([...bareLive]);
    await stores();
  };
  try {
    await Promise.all([postgres.start(), redis.start()]);
    const programs = [...Array<'api'>(spec.replicas.api).fill('api'), ...Array<'worker'>(spec.replicas.worker).fill('worker')];
    await startAllBare(programs, replicaEnv(postgres.url(DATABASE), redis.url, secrets, spec));
    return { ms: performance.now() - t0, after: stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A new control plane's `up`, timed, with its progress messages. */
async function timedUp(spec: StackSpec): Promise<{ ms: number; timeline: TimelineStep[]; endpoints: DirectEndpoints }> {
  const timeline: TimelineStep[] = [];
  const t0 = performance.now();
  runtime = new LocalRuntime({ home });
  const endpoints = await runtime.up(spec, (message) => timeline.push({ atMs: Math.round(performance.now() - t0), message }));
  const ms = performance.now() - t0;
  timeline.push({ atMs: Math.round(ms), message: '`up` resolved' });
  await expectReady(spec.replicas.api, spec.replicas.worker);
  return { ms, timeline, endpoints };
}

/** Throws unless exactly `api` and `worker` replicas are listed and ready. */
async function expectReady(api: number, worker: number): Promise<void> {
  const instances = await runtime!.instances();
  const ready = (service: string) => instances.filter((i) => i.service === service && i.phase === 'ready').length;
  const count = (service: string) => instances.filter((i) => i.service === service).length;
  if (ready('api') !== api || ready('worker') !== worker || count('api') !== api || count('worker') !== worker) {
    throw new Error(
      `expected ${api} api and ${worker} worker replicas ready, got ${instances.map((i) => `${i.id}:${i.phase}`).join(', ')}`,
    );
  }
}

async function instance(id: string): Promise<Instance | undefined> {
  return (await runtime!.instances()).find((i) => i.id === id);
}

/** SIGKILL through the runtime, then `instances()` every 20 ms until `id` is ready with a new pid. */
async function killToReady(id: string): Promise<{ ms: number; ageMs: number }> {
  const before = await instance(id);
  if (!before?.pid || before.phase !== 'ready') throw new Error(`${id} is not ready before the kill (${before?.phase ?? 'missing'})`);
  const ageMs = Date.now() - before.startedAt;
  const t0 = performance.now();
  await runtime!.kill(id, 'kill');
  for (;;) {
    const now = await instance(id);
    if (now?.phase === 'ready' && now.pid !== undefined && now.pid !== before.pid) return { ms: performance.now() - t0, ageMs };
    if (performance.now() - t0 > 60_000) throw new Error(`${id} was not ready again within 60 s of its SIGKILL (phase ${now?.phase})`);
    await sleep(POLL_MS);
  }
}

/**
 * Mirrors Replica's backoff bookkeeping: a run longer than STABLE_MS resets the count, else it
 * grows by one; the delay is restartDelay(count).
 */
function backoffTracker(): (ageMs: number) => number {
  let consecutive = 0;
  return (ageMs) => {
    consecutive = ageMs > STABLE_MS ? 1 : consecutive + 1;
    return restartDelay(consecutive);
  };
}

const show = sampler.show;

function commandLine(): string {
  const { command, args, cwd } = backendCommand('api');
  const shown = args.map((a) => (path.isAbsolute(a) ? path.relative(cwd, a) : a));
  return `${path.basename(command)} ${shown.join(' ')}`;
}

async function main(): Promise<void> {
  await mkdir(floorLogs, { recursive: true });
  harness.onCleanup(() => rm(home, { recursive: true, force: true }));
  harness.onCleanup(() => new LocalRuntime({ home }).purge(dir)); // data left by a down({ keepData: true })
  harness.onCleanup(async () => runtime?.down({ keepData: false }));
  harness.onCleanup(() => stopAllBare([...bareLive]));

  const command = commandLine();
  const compiled = !command.includes('tsx');
  say(`SCALELAB_HOME=${home}; replicas and floors run: ${command}`);
  say(`${repeats} repeats of each measurement`);

  // 1. up, warm
  const upSpec = withDefaults({ name: STACK, replicas: { api: 2, worker: 1 } });
  say('cold up (initdb, CREATE DATABASE, migrations), then down keeping the data');
  const cold = await timedUp(upSpec);
  say(`  cold up: ${Math.round(cold.ms)} ms`);
  await runtime!.down({ keepData: true });
  const secrets = await loadSecrets(dir);
  const up: Sample[] = [];
  const upFloor: Sample[] = [];
  const timelines: TimelineStep[][] = [];
  for (let i = 0; i < repeats; i += 1) {
    upFloor.push(await sample(() => floorUp(secrets, upSpec)));
    up.push(
      await sample(async () => {
        const warm = await timedUp(upSpec);
        timelines.push(warm.timeline);
        return { ms: warm.ms, after: () => runtime!.down({ keepData: true }) };
      }),
    );
    say(`  up warm ${i + 1}/${repeats}: ${show(up[i]!)} (floor ${show(upFloor[i]!)})`);
  }
  const upMedian = median(up.map((x) => x.ms));
  const upTimeline = timelines[up.reduce((best, x, i) => (Math.abs(x.ms - upMedian) < Math.abs(up[best]!.ms - upMedian) ? i : best), 0)]!;

  // 2. scale api 1 → 10
  const scaleSpec = withDefaults({ name: STACK, replicas: { api: SCALE_FROM, worker: 1 } });
  say(`up at api=${SCALE_FROM} for the scaling and kill measurements`);
  const { endpoints } = await timedUp(scaleSpec);
  const env = replicaEnv(endpoints.databaseUrl, endpoints.redisUrl, secrets, scaleSpec);
  const scale: Sample[] = [];
  const scaleFloor: Sample[] = [];
  const scaleDown: number[] = [];
  for (let i = 0; i < repeats; i += 1) {
    scaleFloor.push(await sample(bareRun(Array<'api'>(SCALE_TO - SCALE_FROM).fill('api'), env)));
    scale.push(
      await sample(async () => {
        const t0 = performance.now();
        await runtime!.scale('api', SCALE_TO);
        const ms = performance.now() - t0;
        return {
          ms,
          after: async () => {
            await expectReady(SCALE_TO, 1);
            const t1 = performance.now();
            await runtime!.scale('api', SCALE_FROM);
            scaleDown.push(performance.now() - t1);
          },
        };
      }),
    );
    say(
      `  scale ${SCALE_FROM} → ${SCALE_TO} ${i + 1}/${repeats}: ${show(scale[i]!)} (floor ${show(scaleFloor[i]!)}; back to ${SCALE_FROM} in ${Math.round(scaleDown[i]!)} ms)`,
    );
  }

  // 3. kill → ready. Each sample kills a replica started moments before, once: its first crash,
  // so every sample waits the same backoff. Killing one replica again and again doubles it.
  const kill: Sample[] = [];
  const killFloor: Sample[] = [];
  const killBackoffs: number[] = [];
  const fresh = `api-${SCALE_FROM + 1}`;
  for (let i = 0; i < repeats; i += 1) {
    killFloor.push(await sample(bareRun(['api'], env)));
    await runtime!.scale('api', SCALE_FROM + 1);
    kill.push(
      await sample(async () => {
        const { ms, ageMs } = await killToReady(fresh);
        killBackoffs.push(backoffTracker()(ageMs));
        return { ms, after: () => runtime!.scale('api', SCALE_FROM) };
      }),
    );
    say(`  kill → ready ${i + 1}/${repeats} (${fresh}, backoff ${killBackoffs[i]} ms): ${show(kill[i]!)} (floor ${show(killFloor[i]!)})`);
  }
  const repeatedKills: KillSample[] = [];
  const backoff = backoffTracker();
  for (let i = 0; i < repeats; i += 1) {
    await sleep(1_000);
    const { ms, ageMs } = await killToReady('api-1');
    const backoffMs = backoff(ageMs);
    repeatedKills.push({ replica: 'api-1', backoffMs, killToReadyMs: Math.round(ms), withoutBackoffMs: Math.round(ms - backoffMs) });
    say(`  api-1 kill ${i + 1} in a row: backoff ${backoffMs} ms, ready after ${Math.round(ms)} ms`);
  }

  say('down, deleting the data');
  await runtime!.down({ keepData: false });
  runtime = undefined;

  const { report, explanations } = await controlResults(
    {
      pollMs: POLL_MS,
      goalUpMs: GOAL_UP_MS,
      goalScaleMs: GOAL_SCALE_MS,
      scaleFrom: SCALE_FROM,
      scaleTo: SCALE_TO,
      quietOtherCpu: QUIET_OTHER_CPU,
    },
    {
      repeats,
      command,
      compiled,
      upReplicas: upSpec.replicas,
      coldUpMs: cold.ms,
      up,
      upFloor,
      upTimeline,
      scale,
      scaleFloor,
      scaleDown,
      fresh,
      kill,
      killFloor,
      killBackoffs,
      repeatedKills,
    },
    sampler,
  );
  const { cases, allGoalsMet } = report;

  await mkdir(RESULTS, { recursive: true });
  await writeFile(path.join(RESULTS, 'control.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(path.join(RESULTS, 'control.md'), controlMarkdown(report, explanations));
  process.stdout.write(`\n${controlTable(cases)}\n\n${samplesTable(cases)}\n\n`);
  for (const c of cases) for (const note of c.notes) process.stdout.write(`- ${c.title}: ${note}\n`);
  say(
    `goals ${allGoalsMet ? 'met' : 'NOT met'} (up warm < ${GOAL_UP_MS} ms, scale ${SCALE_FROM} → ${SCALE_TO} < ${GOAL_SCALE_MS} ms); wrote bench/results/control.json and bench/results/control.md`,
  );
}

main()
  .catch((err: unknown) => {
    if (harness.interrupted) return;
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(async () => {
    say('stopping the stack and any floor process; removing the temp SCALELAB_HOME');
    await cleanup();
  });
