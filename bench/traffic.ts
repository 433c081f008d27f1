/**
 * Traffic benchmark: how close does the open-model load generator (TrafficRun: a worker thread
 * that sends on the clock) get to wrk, a C load generator, against the same trivial endpoint?
 *
 * The endpoint is a node:http server in its own process answering 200 with a small JSON body to
 * any path (bench/lib/traffic-endpoint.ts). In one run, on loopback:
 *   1. wrk -t2 -c64 (closed model, `GET /users/1`, no script): the endpoint's ceiling, the reference;
 *   2. the generator at a constant rate, stepped up (2,000, 4,000, 6,000, 8,000, 12,000, … req/s)
 *      until two rungs in a row fail, then bisected; its highest sustained rate (achieved ≥ 98% of
 *      the target, dropped ≤ 1%, errors ≤ 0.1%) ÷ wrk's req/s is the ratio. Goal ≥ 0.8;
 *   3. p50/p99 at a fixed moderate rate (1,000 req/s): the generator, and wrk with each connection
 *      paced by a random delay (the Debian wrk is wrk, not wrk2, so it has no -R), calibrated by a
 *      short pilot run to about the same rate.
 * Before each measured run the bench waits (up to 20 s) for other work to use < 25% of a core.
 *
 * Env: BENCH_DURATION_S (10): the wrk ceiling and both fixed-rate runs; BENCH_STEP_S (8, at most
 * BENCH_DURATION_S): each ladder rung; BENCH_WARMUP_S (2); BENCH_LATENCY_RPS (1000).
 * Writes bench/results/traffic.json and bench/results/traffic.md.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createHarness, envNumber, machineFacts } from './lib/harness.js';
import { TrafficRun } from '../electron/control/traffic/traffic-run.js';
import { MAX_RPS, type TrafficSecond, type TrafficSummary } from '../electron/traffic-spec.js';
import { cpuPercent, cpuSnapshot, type CpuSnapshot } from './lib/cpu.js';
import { waitQuiet } from './lib/quiet.js';
import { ENDPOINT_BODY, startEndpoint, type Endpoint } from './lib/traffic-endpoint.js';
import {
  fmt,
  judgeStep,
  ratioOf,
  steadyLatency,
  trafficMarkdown,
  type GeneratorRun,
  type LadderStep,
  type LatencyComparison,
  type TrafficReport,
  type WrkCase,
} from './lib/traffic-report.js';
import { killPlainWrk, runPlainWrk, writePacingScript } from './lib/traffic-wrk.js';
import { MAX_ERROR_RATE } from './lib/report.js';
import type { WrkResult } from './lib/wrk.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS = path.join(ROOT, 'bench', 'results');
const PATH = '/users/1';
const GOAL = 0.8;
const CEILING_THREADS = 2;
const CEILING_CONNECTIONS = 64;
/** The rungs, in req/s; the ladder stops earlier after two failed rungs in a row. */
const LADDER = [2_000, 4_000, 6_000, 8_000, 12_000, 16_000, 20_000, 24_000, 32_000, 40_000, 48_000];
/** Bisection rungs between the highest sustained and the lowest failed rate, rounded to this. */
const BISECT_STEPS = 2;
const BISECT_ROUND = 500;
/** Paced wrk for the latency comparison: 1 thread; each connection sends about rate ÷ this. */
const PACED_THREADS = 1;
const PACED_CONNECTIONS = 20;
const PILOT_S = 2;
/** Other work (% of one core) under which a measured run starts, as control.ts. */
const QUIET_OTHER_CPU = 25;
const QUIET_MAX_WAIT_MS = 20_000;
/** How long past its duration a run's `done` may take before the bench stops it itself. */
const DONE_GRACE_MS = 15_000;
/** Pause between runs, so sockets of the last one close and the endpoint is idle. */
const SETTLE_MS = 1_000;

const durationS = envNumber('BENCH_DURATION_S', 10);
const stepS = envNumber('BENCH_STEP_S', Math.min(8, durationS));
const warmupS = envNumber('BENCH_WARMUP_S', 2);
const latencyRps = envNumber('BENCH_LATENCY_RPS', 1_000);
const notes: string[] = [];
let current: TrafficRun | undefined;
const harness = createHarness(() => {
  killPlainWrk();
  return current?.stop();
});
const { say, cleanup } = harness;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The endpoint's process tree, wrk (this process's reaped children) and this process (the generator's worker thread). */
async function cpuMark(endpoint: Endpoint): Promise<CpuSnapshot> {
  const snapshot = await cpuSnapshot({ server: endpoint.pid });
  const own = process.cpuUsage();
  snapshot.groups.generator = (own.user + own.system) / 1e6;
  return snapshot;
}

/**
 * Waits for a quiet machine; returns the CPU split of `work`, flagging a noisy run in `runNotes`.
 * CPU is counted from the start of `work`, or from its last call of `begin()` (after a start-up).
 */
async function measured<T>(
  endpoint: Endpoint,
  label: string,
  runNotes: string[],
  work: (begin: () => Promise<void>) => Promise<T>,
): Promise<{ value: T; cpu: Record<string, number> }> {
  await sleep(SETTLE_MS);
  const quiet = await waitQuiet(QUIET_OTHER_CPU, QUIET_MAX_WAIT_MS);
  if (quiet.other >= QUIET_OTHER_CPU) say(`  (machine still busy before ${label}: other work at ${quiet.other}% of a core)`);
  let before = await cpuMark(endpoint);
  const value = await work(async () => {
    before = await cpuMark(endpoint);
  });
  const cpu = cpuPercent(before, await cpuMark(endpoint));
  if ((cpu.other ?? 0) > QUIET_OTHER_CPU) runNotes.push(`noisy: ${cpu.other}% of a core went to other work during ${label}`);
  return { value, cpu };
}

function rejectAfter(ms: number, what: string): { promise: Promise<never>; clear(): void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return { promise, clear: () => clearTimeout(timer) };
}

/** One TrafficRun: constant `rps` for `seconds`, read-only on key 1 (every request `GET /users/1`). */
async function runGenerator(endpoint: Endpoint, rps: number, seconds: number): Promise<GeneratorRun> {
  const perSecond: TrafficSecond[] = [];
  const runNotes: string[] = [];
  const { value, cpu } = await measured(endpoint, `the generator at ${rps} req/s`, runNotes, async (begin) => {
    const t0 = performance.now();
    const run = new TrafficRun({
      target: endpoint.url,
      spec: {
        profile: { kind: 'constant', rps },
        durationS: seconds,
        mix: { read: 100, write: 0, list: 0, missing: 0, sendEmail: 0 },
        keys: { distribution: 'uniform' },
        timeoutMs: 2_000,
      },
      keys: [1],
      onSecond: (s: TrafficSecond) => perSecond.push(s),
    });
    current = run;
    try {
      await run.start();
      const startMs = performance.now() - t0;
      // The worker thread's start-up (tsx, imports) is not sending: leave it out of the CPU figures.
      await begin();
      const t1 = performance.now();
      const limit = rejectAfter(seconds * 1000 + DONE_GRACE_MS, `run.done at ${rps} req/s`);
      let summary: TrafficSummary;
      try {
        summary = await Promise.race([run.done, limit.promise]);
      } catch (err) {
        runNotes.push(`${(err as Error).message}; the bench called run.stop()`);
        const stopLimit = rejectAfter(DONE_GRACE_MS, `run.stop() at ${rps} req/s`);
        try {
          summary = await Promise.race([run.stop(), stopLimit.promise]);
        } finally {
          stopLimit.clear();
        }
      } finally {
        limit.clear();
      }
      return { summary, startMs, wallS: (performance.now() - t1) / 1000 };
    } finally {
      current = undefined;
    }
  });
  const { summary } = value;
  if (summary.running) runNotes.push('the final summary still says running: true');
  if (perSecond.length < Math.floor(seconds) - 1) runNotes.push(`only ${perSecond.length} onSecond callbacks in a ${seconds} s run`);
  // A constant rate should be offered at about that rate every second; say so when a callback is far off.
  const odd = perSecond.map((x, i) => ({ i: i + 1, x })).filter(({ x }) => x.offeredRps > 1.5 * rps || x.offeredRps < 0.5 * rps);
  if (odd.length) {
    const list = odd
      .map(({ i, x }) => `#${i}: target ${fmt.rps(x.targetRps)}, offered ${fmt.rps(x.offeredRps)}, achieved ${fmt.rps(x.achievedRps)}`)
      .join('; ');
    runNotes.push(`${odd.length} of ${perSecond.length} onSecond callbacks offered far from ${fmt.rps(rps)} req/s (${list})`);
  }
  return {
    targetRps: rps,
    durationS: seconds,
    startMs: value.startMs,
    wallS: value.wallS,
    summary,
    seconds: perSecond,
    steady: steadyLatency(perSecond, seconds),
    cpu,
    notes: runNotes,
  };
}

function wrkErrors(wrk: WrkResult): number {
  const s = wrk.socketErrors;
  return s.connect + s.read + s.write + s.timeout + wrk.non2xx3xx;
}

function wrkCase(id: string, title: string, wrk: WrkResult, cpu: Record<string, number>): WrkCase {
  const errors = wrkErrors(wrk);
  return { id, title, wrk, errors, valid: wrk.requests > 0 && errors / wrk.requests <= MAX_ERROR_RATE, cpu };
}

/** The ladder, then bisection between the highest sustained and the lowest failed rung. */
async function ladder(endpoint: Endpoint): Promise<LadderStep[]> {
  const steps: LadderStep[] = [];
  const rung = async (rps: number, bisect: boolean) => {
    say(`generator at ${fmt.rps(rps)} req/s for ${stepS} s${bisect ? ' (bisect)' : ''}`);
    const step = judgeStep(await runGenerator(endpoint, rps, stepS), bisect);
    steps.push(step);
    const s = step.summary;
    say(
      `  achieved ${fmt.rps(s.achievedRps)} (${fmt.pct(step.achievedShare)}), dropped ${s.droppedByClient}, p50 ${fmt.ms(s.p50Ms)} ms, p99 ${fmt.ms(s.p99Ms)} ms, ` +
        `p99 s2+ ${fmt.ms(step.steady.p99)} ms, CPU generator ${step.cpu.generator}% endpoint ${step.cpu.server}%: ${step.sustained ? 'sustained' : `NOT sustained (${step.reason})`}`,
    );
    return step;
  };
  let failedInARow = 0;
  for (const rps of LADDER.filter((r) => r <= MAX_RPS)) {
    const step = await rung(rps, false);
    failedInARow = step.sustained ? 0 : failedInARow + 1;
    if (failedInARow >= 2) break;
  }
  for (let i = 0; i < BISECT_STEPS; i += 1) {
    const best = Math.max(0, ...steps.filter((s) => s.sustained).map((s) => s.targetRps));
    const above = steps.filter((s) => !s.sustained && s.targetRps > best).map((s) => s.targetRps);
    if (above.length === 0) break;
    const failed = Math.min(...above);
    const mid = Math.round((best + failed) / 2 / BISECT_ROUND) * BISECT_ROUND;
    if (mid <= best || mid >= failed) break;
    await rung(mid, true);
  }
  return steps;
}

/** wrk paced to about `rps`: a pilot run measures each connection's overhead, then the measured run. */
async function pacedWrk(endpoint: Endpoint, dir: string, rps: number): Promise<LatencyComparison['wrk']> {
  const script = await writePacingScript(dir);
  const cycleMs = (PACED_CONNECTIONS * 1000) / rps;
  const common = { url: `${endpoint.url}${PATH}`, threads: PACED_THREADS, connections: PACED_CONNECTIONS };
  const pilot = await runPlainWrk({ ...common, durationS: PILOT_S, pacing: { script, meanDelayMs: cycleMs } });
  // Each connection's cycle is delay + latency + wrk's own overhead; take that extra off the delay.
  const overheadMs = Math.max(0, (PACED_CONNECTIONS * 1000) / pilot.rps - cycleMs);
  const meanDelayMs = Math.max(0, cycleMs - overheadMs);
  say(`  wrk pilot: ${fmt.rps(pilot.rps)} req/s at a mean delay of ${cycleMs.toFixed(1)} ms; measured run at ${meanDelayMs.toFixed(1)} ms`);
  const { value, cpu } = await measured(endpoint, `paced wrk at ${rps} req/s`, notes, () =>
    runPlainWrk({ ...common, durationS, pacing: { script, meanDelayMs } }),
  );
  const result = wrkCase('wrk-paced', `wrk paced to ~${rps} req/s`, value, cpu);
  if (Math.abs(value.rps / rps - 1) > 0.1)
    notes.push(`paced wrk ran at ${fmt.rps(value.rps)} req/s, more than 10% off the ${fmt.rps(rps)} req/s target`);
  return { ...result, threads: PACED_THREADS, connections: PACED_CONNECTIONS, meanDelayMs, pilotRps: pilot.rps };
}

/** First output line of `command args`; wrk -v prints its version and exits 1, so errors count too. */
async function version(command: string, args: string[]): Promise<string> {
  const output = await promisify(execFile)(command, args).catch((err: { stdout?: string; stderr?: string }) => err);
  return `${output.stdout ?? ''}${output.stderr ?? ''}`.trim().split('\n')[0] || 'unknown';
}

async function packageVersion(name: string): Promise<string> {
  const text = await readFile(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8').catch(() => undefined);
  return text ? (JSON.parse(text) as { version: string }).version : 'not installed';
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'scalelab-bench-traffic-'));
  harness.onCleanup(() => rm(dir, { recursive: true, force: true }));
  const endpoint = await startEndpoint();
  harness.onCleanup(() => endpoint.stop());
  const url = `${endpoint.url}${PATH}`;
  say(`endpoint (node:http, pid ${endpoint.pid}) on ${endpoint.url}`);

  say(`wrk warm-up ${warmupS} s, then the ceiling: wrk -t${CEILING_THREADS} -c${CEILING_CONNECTIONS} for ${durationS} s`);
  await runPlainWrk({ url, durationS: warmupS, threads: CEILING_THREADS, connections: CEILING_CONNECTIONS });
  const ceilingRun = await measured(endpoint, 'the wrk ceiling', notes, () =>
    runPlainWrk({ url, durationS, threads: CEILING_THREADS, connections: CEILING_CONNECTIONS }),
  );
  const ceiling = wrkCase(
    'wrk-ceiling',
    `wrk -t${CEILING_THREADS} -c${CEILING_CONNECTIONS} (closed model)`,
    ceilingRun.value,
    ceilingRun.cpu,
  );
  say(
    `  ${fmt.rps(ceiling.wrk.rps)} req/s, p50 ${fmt.ms(ceiling.wrk.latencyMs.p50)} ms, p99 ${fmt.ms(ceiling.wrk.latencyMs.p99)} ms, errors ${ceiling.errors}; CPU endpoint ${ceiling.cpu.server}% wrk ${ceiling.cpu.wrk}%`,
  );
  if (!ceiling.valid) notes.push(`the wrk ceiling is INVALID: ${ceiling.errors} errors of ${ceiling.wrk.requests} requests`);

  say(`latency at ${fmt.rps(latencyRps)} req/s: the generator for ${durationS} s`);
  const generator = await runGenerator(endpoint, latencyRps, durationS);
  say(
    `  achieved ${fmt.rps(generator.summary.achievedRps)} req/s, p50 ${fmt.ms(generator.summary.p50Ms)} ms, p99 ${fmt.ms(generator.summary.p99Ms)} ms ` +
      `(after the first second: p50 ${fmt.ms(generator.steady.p50)} ms, p99 ${fmt.ms(generator.steady.p99)} ms)`,
  );
  say(`latency at ${fmt.rps(latencyRps)} req/s: wrk -t${PACED_THREADS} -c${PACED_CONNECTIONS}, paced, for ${durationS} s`);
  const paced = await pacedWrk(endpoint, dir, latencyRps);
  say(`  ${fmt.rps(paced.wrk.rps)} req/s, p50 ${fmt.ms(paced.wrk.latencyMs.p50)} ms, p99 ${fmt.ms(paced.wrk.latencyMs.p99)} ms`);
  const latency: LatencyComparison = {
    targetRps: latencyRps,
    generator,
    wrk: paced,
    p50Ratio: ratioOf(generator.summary.p50Ms, paced.wrk.latencyMs.p50),
    p99Ratio: ratioOf(generator.summary.p99Ms, paced.wrk.latencyMs.p99),
  };

  const steps = await ladder(endpoint);
  const maxSustainedRps = Math.max(0, ...steps.filter((s) => s.sustained).map((s) => s.targetRps));
  const ratio = ceiling.wrk.rps > 0 ? maxSustainedRps / ceiling.wrk.rps : 0;
  const met = ceiling.valid && ratio >= GOAL;
  for (const run of [generator, ...steps]) for (const n of run.notes) notes.push(`generator at ${fmt.rps(run.targetRps)} req/s: ${n}`);
  const top = steps.filter((s) => s.sustained).at(-1);
  if (top === undefined) notes.push('no rung was sustained, not even the first');
  else if (steps.every((s) => s.sustained))
    notes.push(`every rung up to ${fmt.rps(top.targetRps)} req/s was sustained: the ladder ran out before the generator did`);
  if (steps.length)
    notes.push(
      `start-up: start() took ${Math.round(Math.min(...steps.map((s) => s.startMs)))}–${Math.round(Math.max(...steps.map((s) => s.startMs)))} ms per run`,
    );

  const report: TrafficReport = {
    date: new Date().toISOString(),
    machine: {
      ...machineFacts(),
      undici: await packageVersion('undici'),
      wrk: (await version('wrk', ['-v'])).replace(/\s+Copyright.*/, ''),
    },
    settings: {
      endpoint: 'node:http in a child node process on 127.0.0.1, 200 to any path, keep-alive',
      endpointBody: `${Buffer.byteLength(ENDPOINT_BODY)} B of JSON`,
      request: `GET ${PATH} (generator: mix read 100, keys [1]; wrk: the same URL, no script)`,
      generator: 'TrafficRun (electron/control/traffic/traffic-run.ts) from source through tsx, in this process; timeoutMs 2000',
      ceiling: `wrk -t${CEILING_THREADS} -c${CEILING_CONNECTIONS} --latency, ${warmupS} s unrecorded warm-up`,
      durationS,
      stepS,
      ladder: LADDER.join(', '),
      latencyRps,
      pacedWrk: `-t${PACED_THREADS} -c${PACED_CONNECTIONS}, random delay per request (uniform 0..2×mean), mean from a ${PILOT_S} s pilot`,
      quiet: `each measured run waits up to ${QUIET_MAX_WAIT_MS / 1000} s for other work < ${QUIET_OTHER_CPU}% of a core`,
      cores: `wrk or the generator shares the ${os.cpus().length} CPUs with the endpoint`,
    },
    ceiling,
    ladder: steps,
    maxSustainedRps,
    ratio,
    goal: GOAL,
    met,
    latency,
    notes,
  };

  await mkdir(RESULTS, { recursive: true });
  await writeFile(path.join(RESULTS, 'traffic.json'), `${JSON.stringify(report, null, 2)}\n`);
  const markdown = trafficMarkdown(report);
  await writeFile(path.join(RESULTS, 'traffic.md'), markdown);
  process.stdout.write(`\n${markdown.split('\n## Machine')[0]}\n`);
  say(
    `max sustained ${fmt.rps(maxSustainedRps)} req/s ÷ wrk ${fmt.rps(ceiling.wrk.rps)} = ${ratio.toFixed(2)} (goal ≥ ${GOAL}: ${met ? 'met' : 'NOT met'}); ` +
      'wrote bench/results/traffic.json and bench/results/traffic.md',
  );
}

main()
  .catch((err: unknown) => {
    if (harness.interrupted) return; // the killed run's error is expected
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(async () => {
    say('stopping the endpoint; removing temp folders');
    await cleanup();
  });
