/**
 * Docker-runtime benchmark: what does the runtime add to the time the containers themselves take?
 *
 * Each operation of DockerRuntime is timed beside its floor, measured in the same run: the same
 * containers (container-specs.ts create options, the same images, environment and host
 * networking) created and started with bare dockerode calls and polled every 20 ms until they
 * answer (PostgreSQL a query, Redis PING, api /readyz, worker /healthz).
 *   1. `up` cold (no volume, no containers; images present): api=2, worker=1. Floor: a fresh
 *      labelled volume, PostgreSQL and Redis together, then 2 api + 1 worker together.
 *   2. `up` warm (the volume initialised by an earlier `up`, after `down({ keepData: true })`).
 *      Floor: the same, on that volume.
 *   3. `scale('api', 10)` from a running stack at api=1. Floor: 9 api containers at once.
 *   4. `kill('api-2', 'kill')`, then `instances()` every 20 ms until api-2 is ready again.
 *      Floor: one api container. The supervisor's restart backoff is reported separately.
 * Ratio = median ÷ floor median. Everything runs on host networking (127.0.0.1 only) and carries
 * the label scalelab.stack=benchdocker; all of it is removed at the end, or on Ctrl-C.
 *
 * Env: BENCH_REPEATS (3). Writes bench/results/docker.json and bench/results/docker.md.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { withDefaults, type Instance, type StackSpec } from '../electron/contract.js';
import { postgresContainer, redisContainer, serviceUrls, type StackLayout } from '../electron/control/runtimes/docker/container-specs.js';
import { DockerRuntime } from '../electron/control/runtimes/docker/docker-runtime.js';
import { connectDocker } from '../electron/control/runtimes/docker/engine.js';
import { LABELS, names } from '../electron/control/runtimes/docker/labels.js';
import { stackDir } from '../electron/control/runtimes/local/stack-dir.js';
import { freePort } from '../electron/control/runtimes/local/ports.js';
import { loadSecrets, type Secrets } from '../electron/control/runtimes/local/state.js';
import { ensureTestImages } from '../test/docker/images.js';
import { sleep } from './lib/bare.js';
import { controlTable, samplesTable, type TimelineStep } from './lib/control-report.js';
import { dockerCpuMark, dockerCpuSince, waitDockerQuiet, type DockerCpu } from './lib/docker-cpu.js';
import { postgresReady, redisReady, removeFloor, replicaSpec, startFloor } from './lib/docker-floor.js';
import { dockerMarkdown, type DockerReport, type KillTrace } from './lib/docker-report.js';
import { dockerResults } from './lib/docker-results.js';
import { replicaEnv } from './lib/replica-env.js';
import { createSampler, type TimedRun, type TimedSample } from './lib/quiet.js';
import { createHarness, envNumber } from './lib/harness.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS = path.join(ROOT, 'bench', 'results');
const STACK = 'benchdocker';
const POLL_MS = 20;
const UP = { api: 2, worker: 1 };
const SCALE_FROM = 1;
const SCALE_TO = 10;
const KILLED = `api-${SCALE_FROM + 1}`;
/** Other work (% of one core) below which a sample starts, as control.ts. */
const QUIET_OTHER_CPU = 25;
/** Longest wait for that quiet before a sample starts anyway. */
const QUIET_MAX_WAIT_MS = 20_000;

const repeats = envNumber('BENCH_REPEATS', 3);
if (!Number.isInteger(repeats)) throw new Error(`BENCH_REPEATS must be a positive integer, got "${process.env.BENCH_REPEATS}"`);
const harness = createHarness();
const { say, cleanup } = harness;

const docker = new Docker();
const home = await mkdtemp(path.join(os.tmpdir(), 'scalelab-bench-docker-'));
const dir = stackDir(home, STACK);
/** The runtime under test; a fresh one for each `up`, as a new control plane would be. */
let runtime: DockerRuntime | undefined;
/** Floor containers not yet removed, for a failure or Ctrl-C. */
const floorLive = new Set<Docker.Container>();

const sampler = createSampler(
  { waitQuiet: waitDockerQuiet, mark: dockerCpuMark, since: dockerCpuSince },
  QUIET_OTHER_CPU,
  QUIET_MAX_WAIT_MS,
);
type Run = TimedRun;
type Sample = TimedSample<DockerCpu>;
const sample = sampler.sample;

let floorCount = 0;
/** `count` bare api containers at once against the running stack, timed until all answer. */
function floorApis(layout: StackLayout, count: number, env: Record<string, string>): () => Promise<Run> {
  return async () => {
    const ports = await Promise.all(Array.from({ length: count }, () => freePort()));
    const t0 = performance.now();
    const specs = ports.map((port) => replicaSpec(layout, `floor-api-${++floorCount}`, 'api', port, env));
    try {
      const containers = await startFloor(docker, specs, floorLive, POLL_MS);
      return { ms: performance.now() - t0, after: () => removeFloor(containers, STACK, floorLive) };
    } catch (err) {
      await removeFloor([...floorLive], STACK, floorLive);
      throw err;
    }
  };
}

/**
 * Floor of `up`: (a fresh labelled volume, when cold), PostgreSQL and Redis together, then the
 * replicas together, as the runtime orders them. Everything but a kept volume is removed after.
 */
async function floorUp(
  layout: StackLayout,
  spec: StackSpec,
  secrets: Secrets,
  volume: 'fresh' | 'existing',
  storesMs: number[],
): Promise<Run> {
  const volumeName = names.volume(STACK);
  const t0 = performance.now();
  const ports = { postgres: await freePort(), redis: await freePort() };
  const remove = async () => {
    await removeFloor([...floorLive], STACK, floorLive);
    if (volume === 'fresh') await docker.getVolume(volumeName).remove();
  };
  try {
    if (volume === 'fresh') await docker.createVolume({ Name: volumeName, Labels: { [LABELS.stack]: STACK } });
    const urls = serviceUrls(layout, ports, secrets.postgresPassword, secrets.redisPassword);
    await startFloor(
      docker,
      [
        {
          create: postgresContainer(layout, ports.postgres, secrets.postgresPassword),
          ready: postgresReady(ports.postgres, urls.databaseUrl),
        },
        { create: redisContainer(layout, ports.redis, secrets.redisPassword), ready: redisReady(ports.redis, secrets.redisPassword) },
      ],
      floorLive,
      POLL_MS,
    );
    storesMs.push(performance.now() - t0);
    const env = replicaEnv(urls.databaseUrl, urls.redisUrl, secrets, spec);
    const replicas = [
      ...Array.from({ length: spec.replicas.api }, (_, i) => ['api', i + 1] as const),
      ...Array.from({ length: spec.replicas.worker }, (_, i) => ['worker', i + 1] as const),
    ];
    const specs = await Promise.all(
      replicas.map(async ([service, n]) => replicaSpec(layout, `floor-${service}-${n}`, service, await freePort(), env)),
    );
    await startFloor(docker, specs, floorLive, POLL_MS);
    return { ms: performance.now() - t0, after: remove };
  } catch (err) {
    await remove().catch(() => undefined);
    throw err;
  }
}

/** A new control plane's `up`, timed, with its progress messages. */
async function timedUp(spec: StackSpec): Promise<{ ms: number; timeline: TimelineStep[] }> {
  const timeline: TimelineStep[] = [];
  const t0 = performance.now();
  runtime = new DockerRuntime({ home });
  await runtime.up(spec, (message) => timeline.push({ atMs: Math.round(performance.now() - t0), message }));
  const ms = performance.now() - t0;
  timeline.push({ atMs: Math.round(ms), message: '`up` resolved' });
  await expectReady(spec.replicas.api, spec.replicas.worker);
  return { ms, timeline };
}

/** `down`, timed (for the report; never inside a sample). */
async function timedDown(keepData: boolean, into: number[]): Promise<void> {
  const t0 = performance.now();
  await runtime!.down({ keepData });
  into.push(Math.round(performance.now() - t0));
  runtime = undefined;
}

/** Throws unless exactly `api` and `worker` replicas (and both stores) are listed and ready. */
async function expectReady(api: number, worker: number): Promise<void> {
  const instances = await runtime!.instances();
  const ready = (service: string) => instances.filter((i) => i.service === service && i.phase === 'ready').length;
  const count = (service: string) => instances.filter((i) => i.service === service).length;
  const ok =
    ready('api') === api &&
    ready('worker') === worker &&
    count('api') === api &&
    count('worker') === worker &&
    ready('postgres') === 1 &&
    ready('redis') === 1;
  if (!ok)
    throw new Error(
      `expected ${api} api and ${worker} worker replicas ready, got ${instances.map((i) => `${i.id}:${i.phase}`).join(', ')}`,
    );
}

async function instance(id: string): Promise<Instance | undefined> {
  return (await runtime!.instances()).find((i) => i.id === id);
}

/** SIGKILL through the runtime, then `instances()` every 20 ms until `id` is ready in a new incarnation. */
async function killToReady(id: string): Promise<KillTrace> {
  const before = await instance(id);
  if (before?.phase !== 'ready') throw new Error(`${id} is not ready before the kill (${before?.phase ?? 'missing'})`);
  const t0 = performance.now();
  const trace: KillTrace = { replica: id, notReadyMs: Number.NaN, relaunchedMs: Number.NaN, readyMs: Number.NaN };
  await runtime!.kill(id, 'kill');
  for (;;) {
    const now = await instance(id);
    const at = Math.round(performance.now() - t0);
    if (Number.isNaN(trace.notReadyMs) && now?.phase !== 'ready') trace.notReadyMs = at;
    if (Number.isNaN(trace.relaunchedMs) && now && now.startedAt !== before.startedAt) trace.relaunchedMs = at;
    if (now?.phase === 'ready' && now.restarts > before.restarts) return { ...trace, readyMs: performance.now() - t0 };
    if (at > 60_000) throw new Error(`${id} was not ready again within 60 s of its SIGKILL (phase ${now?.phase})`);
    await sleep(POLL_MS);
  }
}

const show = sampler.show;

async function main(): Promise<void> {
  harness.onCleanup(() => rm(home, { recursive: true, force: true }));
  // Whatever is still labelled scalelab.stack=benchdocker: containers, volume (and a network, if any).
  harness.onCleanup(() => new DockerRuntime({ home }).purge(STACK));
  harness.onCleanup(async () => {
    const current = runtime;
    runtime = undefined;
    // dispose() first if down fails, so no supervisor restarts what purge removes.
    await current?.down({ keepData: false }).catch(async (err: unknown) => {
      await current.dispose();
      throw err;
    });
  });
  harness.onCleanup(() => removeFloor([...floorLive], STACK, floorLive));

  const engine = await connectDocker();
  say(`${engine.version} at ${engine.endpoint}; SCALELAB_HOME=${home}`);
  const images = await ensureTestImages((line) => say(`[test images] ${line}`));
  say(`images: ${images.service}, ${images.postgres}, ${images.redis}; ${repeats} repeats of each measurement`);
  const layout: StackLayout = { stack: STACK, mode: 'host', images };
  const stackSpec = async (replicas: { api: number; worker: number }) =>
    withDefaults({ name: STACK, runtime: 'docker', images, docker: { network: 'host' }, port: await freePort(), replicas });
  const teardown: DockerReport['teardown'] = { downPurgeMs: [], downKeepDataMs: [], scaleBackMs: [] };

  // 0. A first `up`, not measured: it warms the page cache with the images' files.
  const upSpec = await stackSpec(UP);
  say('priming: a first cold up (not measured), then down deleting the data');
  const priming = await timedUp(upSpec);
  say(`  first up: ${Math.round(priming.ms)} ms`);
  await timedDown(false, teardown.downPurgeMs);

  // 1. up, cold. The last sample keeps its volume: the warm samples start from it.
  const floorSecrets = await (async () => {
    await mkdir(path.join(home, 'floor'), { recursive: true });
    return loadSecrets(path.join(home, 'floor'));
  })();
  const cold: Sample[] = [];
  const coldFloor: Sample[] = [];
  const coldTimelines: TimelineStep[][] = [];
  const coldFloorStores: number[] = [];
  for (let i = 0; i < repeats; i += 1) {
    coldFloor.push(await sample(() => floorUp(layout, upSpec, floorSecrets, 'fresh', coldFloorStores)));
    const keepData = i === repeats - 1;
    cold.push(
      await sample(async () => {
        const run = await timedUp(upSpec);
        coldTimelines.push(run.timeline);
        return { ms: run.ms, after: () => timedDown(keepData, keepData ? teardown.downKeepDataMs : teardown.downPurgeMs) };
      }),
    );
    say(`  up cold ${i + 1}/${repeats}: ${show(cold[i]!)} (floor ${show(coldFloor[i]!)})`);
  }

  // 2. up, warm: the runtime's own volume (and its PostgreSQL password) for the floor too.
  const secrets = await loadSecrets(dir);
  const warm: Sample[] = [];
  const warmFloor: Sample[] = [];
  const warmTimelines: TimelineStep[][] = [];
  const warmFloorStores: number[] = [];
  for (let i = 0; i < repeats; i += 1) {
    warmFloor.push(await sample(() => floorUp(layout, upSpec, secrets, 'existing', warmFloorStores)));
    warm.push(
      await sample(async () => {
        const run = await timedUp(upSpec);
        warmTimelines.push(run.timeline);
        return { ms: run.ms, after: () => timedDown(true, teardown.downKeepDataMs) };
      }),
    );
    say(`  up warm ${i + 1}/${repeats}: ${show(warm[i]!)} (floor ${show(warmFloor[i]!)})`);
  }

  // 3. scale api 1 → 10, the floor against the running stack's stores.
  const scaleSpec = await stackSpec({ api: SCALE_FROM, worker: 1 });
  say(`up at api=${SCALE_FROM} for the scaling and kill measurements`);
  await timedUp(scaleSpec);
  const endpoints = runtime!.endpoints();
  const env = replicaEnv(endpoints.databaseUrl, endpoints.redisUrl, secrets, scaleSpec);
  const scale: Sample[] = [];
  const scaleFloor: Sample[] = [];
  for (let i = 0; i < repeats; i += 1) {
    scaleFloor.push(await sample(floorApis(layout, SCALE_TO - SCALE_FROM, env)));
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
            teardown.scaleBackMs.push(Math.round(performance.now() - t1));
          },
        };
      }),
    );
    say(
      `  scale ${SCALE_FROM} → ${SCALE_TO} ${i + 1}/${repeats}: ${show(scale[i]!)} (floor ${show(scaleFloor[i]!)}; back to ${SCALE_FROM} in ${teardown.scaleBackMs[i]} ms)`,
    );
  }

  // 4. kill → ready. Each sample kills a replica started moments before, once: a first crash,
  // so every sample waits the same backoff, restartDelay(1).
  const kill: Sample[] = [];
  const killFloor: Sample[] = [];
  const kills: KillTrace[] = [];
  for (let i = 0; i < repeats; i += 1) {
    killFloor.push(await sample(floorApis(layout, 1, env)));
    await runtime!.scale('api', SCALE_FROM + 1);
    kill.push(
      await sample(async () => {
        const trace = await killToReady(KILLED);
        kills.push(trace);
        return { ms: trace.readyMs, after: () => runtime!.scale('api', SCALE_FROM) };
      }),
    );
    say(
      `  kill → ready ${i + 1}/${repeats} (${KILLED}): ${show(kill[i]!)}; not ready seen at ${kills[i]!.notReadyMs} ms, relaunched at ${kills[i]!.relaunchedMs} ms (floor ${show(killFloor[i]!)})`,
    );
  }

  say('down, deleting the data');
  await timedDown(false, teardown.downPurgeMs);

  const { report, explanations } = await dockerResults(
    { stack: STACK, pollMs: POLL_MS, up: UP, scaleFrom: SCALE_FROM, scaleTo: SCALE_TO, killed: KILLED, quietOtherCpu: QUIET_OTHER_CPU },
    {
      repeats,
      engine,
      primingUpMs: priming.ms,
      cold,
      coldFloor,
      coldTimelines,
      coldFloorStores,
      warm,
      warmFloor,
      warmTimelines,
      warmFloorStores,
      scale,
      scaleFloor,
      kill,
      killFloor,
      kills,
      teardown,
    },
    sampler,
    docker,
    images,
  );
  const { cases } = report;

  await mkdir(RESULTS, { recursive: true });
  await writeFile(path.join(RESULTS, 'docker.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(path.join(RESULTS, 'docker.md'), dockerMarkdown(report, explanations));
  process.stdout.write(`\n${controlTable(cases)}\n\n${samplesTable(cases)}\n\n`);
  for (const c of cases) for (const note of c.notes) process.stdout.write(`- ${c.title}: ${note}\n`);
  say('wrote bench/results/docker.json and bench/results/docker.md');
}

main()
  .catch((err: unknown) => {
    if (harness.interrupted) return;
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(async () => {
    say(`removing every object labelled ${LABELS.stack}=${STACK} and the temp SCALELAB_HOME`);
    await cleanup();
  });
