/**
 * Tracing benchmark: what tracing as shipped costs one api replica at saturation.
 *
 * Starts embedded PostgreSQL, a local Redis and the control plane's real OTLP receiver (the
 * `Tracing` of electron/control/traces, in this process), seeds 200 users, warms the cache, and
 * drives ONE compiled api replica directly with `wrk -t2 -c64` on cached GET /users/:id, in
 * interleaved rounds of:
 *   - off: OTEL_SDK_DISABLED=true (what the control plane passes when tracing is turned off);
 *   - on: the environment the runtimes give a local replica (replicaTraceEnv: the receiver's
 *     endpoint and token, and the default sampler settings);
 *   - every: the same with every request sampled (OTEL_TRACES_SAMPLER=parentbased_always_on, the
 *     default before tracing had a bounded cost), for comparison;
 *   - any extra variant named in BENCH_VARIANTS, e.g. `on:OTEL_TRACES_SAMPLER_ARG=100`.
 * Each round restarts the replica with the variant's environment (the SDK is set up at start).
 * The ratio on ÷ off is taken per round (the two runs next to each other) and overall (medians),
 * so other work on a shared machine affects both sides alike. It also records the spans and
 * traces the receiver got per second and the receiver's cpu (this process's own cpu, which does
 * nothing else during a run).
 *
 * Env: BENCH_DURATION_S (8), BENCH_WARMUP_S (2), BENCH_ROUNDS (3), BENCH_VARIANTS (off,on,every),
 *      BENCH_PROFILE_DIR (unset: no profile; set: each run's api under node --cpu-prof, a folder per run).
 * Writes bench/results/tracing.json and bench/results/tracing.md.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tracing } from '../electron/control/traces/tracing.js';
import { replicaTraceEnv } from '../electron/control/traces/trace-env.js';
import { cpuPercent, cpuSnapshot } from './lib/cpu.js';
import { createHarness, envNumber, machineFacts } from './lib/harness.js';
import { BenchStack, loadBackendProcess } from './lib/stack.js';
import { tracingMarkdown, summarizeRounds, type TracingReport, type TracingRun } from './lib/tracing-report.js';
import { killWrk, runWrk } from './lib/wrk.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS = path.join(ROOT, 'bench', 'results');
const USERS = 200;
const THREADS = 2;
const CONNECTIONS = 64;
/** Long enough that no cached user expires during a run. */
const CACHE_TTL_SECONDS = 3600;

const durationS = envNumber('BENCH_DURATION_S', 8);
const warmupS = envNumber('BENCH_WARMUP_S', 2);
const rounds = envNumber('BENCH_ROUNDS', 3);
const variantNames = (process.env.BENCH_VARIANTS ?? 'off,on,every')
  .split(',')
  .map((v) => v.trim())
  .filter(Boolean);
const harness = createHarness(killWrk);
const { say, cleanup } = harness;

/** A variant's replica environment: `off`, `on`, `every`, or `on:NAME=value;NAME=value` (the default trace env plus overrides). */
function variantEnv(name: string): Record<string, string> {
  if (name === 'off') return { OTEL_SDK_DISABLED: 'true' };
  if (name === 'every') return { ...replicaTraceEnv('loopback'), OTEL_TRACES_SAMPLER: 'parentbased_always_on' };
  const [base, overrides] = name.split(/:(.*)/s);
  if (base !== 'on') throw new Error(`BENCH_VARIANTS: "${name}" is not off, on, or on:NAME=value;…`);
  const env = replicaTraceEnv('loopback');
  for (const pair of (overrides ?? '').split(';').filter(Boolean)) {
    const [key, value] = pair.split(/=(.*)/s);
    env[key!] = value ?? '';
  }
  return env;
}

async function main(): Promise<void> {
  const { helper, compiled } = await loadBackendProcess(ROOT);
  if (!compiled) throw new Error('dist/ is missing: run `npm run build` first (the replica runs as users run it, from its bundle)');
  process.env.SCALELAB_BACKEND = 'dist';
  const dir = await mkdtemp(path.join(os.tmpdir(), 'scalelab-bench-'));
  harness.onCleanup(() => rm(dir, { recursive: true, force: true }));

  const tracing = new Tracing();
  harness.onCleanup(() => tracing.close());
  await tracing.ready;
  if (!tracing.endpoint) throw new Error('the OTLP receiver did not start');
  say(`OTLP receiver on ${tracing.endpoint}`);

  const stack = await BenchStack.create({
    helper,
    dir,
    apiEnv: { LOG_LEVEL: 'warn', CACHE_TTL_SECONDS: String(CACHE_TTL_SECONDS) },
    onProgress: say,
  });
  harness.onCleanup(() => stack.stop());
  await stack.start();
  await stack.startApi();
  const { minId, maxId } = await stack.seed(USERS);
  await stack.warmCache(minId, maxId);
  await stack.stopApi();

  const runs: TracingRun[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const variant of variantNames) {
      const env = variantEnv(variant);
      // BENCH_PROFILE_DIR: each run's api under --cpu-prof, to see where tracing's cpu goes.
      const profile = process.env.BENCH_PROFILE_DIR
        ? ['--cpu-prof', `--cpu-prof-dir=${path.join(process.env.BENCH_PROFILE_DIR, `${round}-${variant.replace(/[^\w.-]+/g, '_')}`)}`]
        : [];
      await stack.startApi(profile, env);
      const common = {
        url: stack.apiUrl,
        script: 'bench/lua/get-random-id.lua',
        scriptArgs: [String(minId), String(maxId)],
        threads: THREADS,
        connections: CONNECTIONS,
        cwd: ROOT,
      };
      await runWrk({ ...common, durationS: warmupS });
      const spansBefore = tracing.store.spansReceived;
      const receiverBefore = process.cpuUsage();
      const cpuBefore = await cpuSnapshot({ api: stack.pids().api });
      const wrk = await runWrk({ ...common, durationS });
      const cpuAfter = await cpuSnapshot({ api: stack.pids().api });
      const cpu = cpuPercent(cpuBefore, cpuAfter);
      const apiCpuSeconds = (cpuAfter.groups.api ?? Number.NaN) - (cpuBefore.groups.api ?? Number.NaN);
      const receiverUs = process.cpuUsage(receiverBefore);
      // Spans still in the replica's export queue arrive within one schedule delay.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const spans = tracing.store.spansReceived - spansBefore;
      await stack.stopApi();
      const run: TracingRun = {
        round,
        variant,
        env: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, k === 'OTEL_EXPORTER_OTLP_HEADERS' ? '(token)' : v])),
        rps: Math.round(wrk.rps),
        p50Ms: wrk.latencyMs.p50,
        p99Ms: wrk.latencyMs.p99,
        errors: wrk.non2xx3xx + Object.values(wrk.socketErrors).reduce((a, b) => a + b, 0),
        requests: wrk.requests,
        spansPerSecond: Math.round(spans / wrk.durationS),
        receiverCpuPercent: Math.round(((receiverUs.user + receiverUs.system) / 1e6 / wrk.durationS) * 100),
        apiCpuPercent: cpu.api ?? Number.NaN,
        apiCpuUsPerRequest: Math.round((apiCpuSeconds * 1e6) / wrk.requests),
        wrkCpuPercent: cpu.wrk ?? Number.NaN,
        machineCpuPercent: cpu.machine ?? Number.NaN,
        otherCpuPercent: cpu.other ?? Number.NaN,
      };
      runs.push(run);
      say(
        `round ${round} ${variant}: ${run.rps} req/s, p99 ${run.p99Ms.toFixed(1)} ms, ${run.spansPerSecond} spans/s, receiver ${run.receiverCpuPercent}% of a core, api ${run.apiCpuPercent}%, other ${run.otherCpuPercent}%, api ${run.apiCpuUsPerRequest} µs cpu/request`,
      );
    }
  }

  const report: TracingReport = {
    date: new Date().toISOString(),
    machine: {
      ...machineFacts(),
      loadAverage: os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' '),
    },
    settings: {
      replica: 'one api replica, node dist/backend/api/server.bundle.mjs, LOG_LEVEL=warn',
      wrk: `-t${THREADS} -c${CONNECTIONS} -d${durationS}s (after ${warmupS} s unrecorded), keep-alive, loopback; GET /users/:id over ${USERS} cached users`,
      receiver: "the control plane's OTLP receiver and trace store (electron/control/traces), in the benchmark's process",
      rounds,
    },
    runs,
    summary: summarizeRounds(runs),
  };
  await mkdir(RESULTS, { recursive: true });
  await writeFile(path.join(RESULTS, 'tracing.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(path.join(RESULTS, 'tracing.md'), tracingMarkdown(report));
  process.stdout.write(`\n${tracingMarkdown(report)}\n`);
  say('wrote bench/results/tracing.json and bench/results/tracing.md');
}

main()
  .catch((err: unknown) => {
    if (harness.interrupted) return;
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(async () => {
    say('stopping the api, Redis, PostgreSQL and the receiver; removing temp folders');
    await cleanup();
  });
