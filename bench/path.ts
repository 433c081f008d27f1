/**
 * The product as users run it, beside its parts (issue 19 item 5). Two stacks started with the
 * CLI as `npm start` does (`scalelab up`, its background control plane, the balancer it ships,
 * tracing as shipped), one with tracing on (the default) and one with OTEL_SDK_DISABLED=true,
 * each with one api replica; wrk on cached GET /users/:id through each stack's balancer, to the
 * same replica directly, and through nginx (proxy_pass, keep-alive upstream, 1 worker) to it,
 * rounds interleaving every path of both stacks. Then a scale-out series: one stack with
 * `--api-cpu` (100m) per replica, saturated through its balancer at 1, 2 and 4 replicas, on local
 * processes (cgroups) and on Docker (NanoCpus).
 *
 * Usage: npm run build && node --import tsx bench/path.ts
 * Env: BENCH_DURATION_S (8), BENCH_WARMUP_S (2), BENCH_SCALE_WARMUP_S (20), BENCH_ROUNDS (2), BENCH_CPU (100m),
 *      BENCH_SCALE (1,2,4), BENCH_PARTS (single,scale,docker: the scale-out series
 *      on Docker too, host network, where an engine answers)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { StackStatus } from '../electron/contract.js';
import { cpuPercent, cpuSnapshot } from './lib/cpu.js';
import { createHarness, envNumber, machineFacts } from './lib/harness.js';
import { startNginxProxy } from './lib/nginx-proxy.js';
import { writePathReport, type PathRun, type ScaleRun } from './lib/path-report.js';
import { Product, seedUsers } from './lib/product.js';
import { warmUsers } from './lib/stack.js';
import { killWrk, runWrk, type WrkResult } from './lib/wrk.js';
import { dockerAvailable, ensureTestImages } from '../test/docker/images.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const USERS = 200;
const CONNECTIONS = 64;
const durationS = envNumber('BENCH_DURATION_S', 8);
const warmupS = envNumber('BENCH_WARMUP_S', 2);
// A replica held to 100m compiles its hot code at a tenth of the speed: wrk ran 150–1,600 req/s
// over its first ~15 s against the same warmed replica's steady 1,400–1,600 (probed 2026-12-06).
const scaleWarmupS = envNumber('BENCH_SCALE_WARMUP_S', 20);
// The scale-out series keeps 64 connections per replica: a replica held to its quota answers in
// bursts, once per 100 ms cfs period, so its throughput grows with the requests waiting on it;
// with 64 in all, 2 × 100m replicas gave 1,780 req/s, with 128 2,320, with 256 2,550, while
// 1 replica gave 1,200–1,360 at 64, 128 or 256 (probed 2026-12-06). Fewer per replica would
// measure the client's concurrency, not the replicas' capacity.
const rounds = envNumber('BENCH_ROUNDS', 2);
const cpuLimit = process.env.BENCH_CPU ?? '100m';
const scaleSteps = (process.env.BENCH_SCALE ?? '1,2,4').split(',').map(Number);
const parts = (process.env.BENCH_PARTS ?? 'single,scale,docker').split(',').map((p) => p.trim());
const harness = createHarness(killWrk);
const { say } = harness;

interface Target {
  url: string;
  /** Process trees and single processes whose cpu the run reports. */
  trees: Record<string, number | undefined>;
  own: Record<string, number | undefined>;
}

interface Measured {
  wrk: WrkResult;
  cpu: Record<string, number>;
  /** The stack's own sample taken near the end of the run (server-side figures). */
  sample: StackStatus['sample'];
}

async function measure(
  product: Product,
  target: Target,
  ids: { minId: number; maxId: number },
  warmS = warmupS,
  connections = CONNECTIONS,
): Promise<Measured> {
  // The default cache TTL is 60 s: every run reads the users again first.
  await warmUsers(target.url, ids.minId, ids.maxId);
  const common = {
    url: target.url,
    script: 'bench/lua/get-random-id.lua',
    scriptArgs: [String(ids.minId), String(ids.maxId)],
    threads: 2,
    connections,
    cwd: ROOT,
  };
  await runWrk({ ...common, durationS: warmS });
  const before = await cpuSnapshot(target.trees, target.own);
  const sample = delay(durationS * 800).then(() => product.status().then((s) => s.sample));
  const wrk = await runWrk({ ...common, durationS });
  const cpu = cpuPercent(before, await cpuSnapshot(target.trees, target.own));
  return { wrk, cpu, sample: await sample };
}

function errorsOf(wrk: WrkResult): number {
  return wrk.non2xx3xx + Object.values(wrk.socketErrors).reduce((a, b) => a + b, 0);
}

async function home(name: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `scalelab-bench-path-${name}-`));
  harness.onCleanup(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function startProduct(name: string, env: Record<string, string>, args: string[]): Promise<Product> {
  say(
    `${name}: scalelab up ${args.join(' ')}${
      Object.keys(env).length
        ? ` (${Object.entries(env)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')})`
        : ''
    }`,
  );
  const product = await Product.up(ROOT, await home(name), env, args);
  harness.onCleanup(() => product.down());
  return product;
}

/** One api replica: direct, nginx and the balancer, tracing on and off, rounds interleaved. */
async function single(): Promise<PathRun[]> {
  const variants = [
    { tracing: 'on', env: {} },
    { tracing: 'off', env: { OTEL_SDK_DISABLED: 'true' } },
  ] as const;
  const stacks = [];
  for (const v of variants) {
    const product = await startProduct(`tracing-${v.tracing}`, v.env, ['--api', '1', '--workers', '1']);
    const balancer = await product.balancerUrl();
    const [replica] = await product.apiReplicas();
    if (!replica?.port || !replica.pid) throw new Error('the stack reports no ready api replica with a port');
    const direct = `http://127.0.0.1:${replica.port}`;
    const ids = await seedUsers(balancer, USERS);
    const nginx = await startNginxProxy(path.join(product.home, 'nginx'), direct, 1);
    harness.onCleanup(() => nginx.stop());
    const pids = await product.pids();
    const own = { control: pids.control, haproxy: pids.haproxy };
    const targets: Record<string, Target> = {
      direct: { url: direct, trees: { api: replica.pid }, own },
      nginx: { url: nginx.url, trees: { api: replica.pid, nginx: nginx.pid }, own },
      balancer: { url: balancer, trees: { api: replica.pid }, own },
    };
    say(
      `tracing ${v.tracing}: balancer ${balancer}${pids.haproxy ? ' (HAProxy)' : ''}, api-1 ${direct}, nginx ${nginx.url}, users ${ids.minId}..${ids.maxId}`,
    );
    stacks.push({ tracing: v.tracing, product, targets, ids });
  }
  const runs: PathRun[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const stack of stacks) {
      for (const [name, target] of Object.entries(stack.targets)) {
        const m = await measure(stack.product, target, stack.ids);
        const run: PathRun = {
          round,
          tracing: stack.tracing,
          path: name,
          rps: Math.round(m.wrk.rps),
          p50Ms: m.wrk.latencyMs.p50,
          p99Ms: m.wrk.latencyMs.p99,
          errors: errorsOf(m.wrk),
          cpu: m.cpu,
          serverRps: m.sample?.traffic.rps ?? null,
        };
        runs.push(run);
        say(
          `round ${round} tracing ${stack.tracing} ${name}: ${run.rps} req/s, p99 ${run.p99Ms.toFixed(1)} ms, errors ${run.errors}; cpu % api ${m.cpu.api}, control ${m.cpu.control}, haproxy ${m.cpu.haproxy ?? '–'}, wrk ${m.cpu.wrk}, other ${m.cpu.other}`,
        );
      }
    }
  }
  for (const stack of stacks) await stack.product.down();
  return runs;
}

/** A fixed cpu limit per replica, saturated through the balancer at each replica count. */
async function scale(runtime: 'local' | 'docker', runtimeArgs: string[]): Promise<ScaleRun[]> {
  const product = await startProduct(`scale-${runtime}`, {}, [
    '--api',
    String(scaleSteps[0]),
    '--workers',
    '1',
    '--api-cpu',
    cpuLimit,
    ...runtimeArgs,
  ]);
  const status = await product.status();
  const enforced = status.cpuLimits?.notEnforced
    ? status.cpuLimits.notEnforced
    : `enforced by ${status.cpuLimits?.enforcedBy ?? 'unknown'}`;
  say(`cpu ${cpuLimit} per api replica: ${enforced}`);
  const balancer = await product.balancerUrl();
  const ids = await seedUsers(balancer, USERS);
  const pids = await product.pids();
  const runs: ScaleRun[] = [];
  for (let round = 1; round <= rounds; round++) {
    const order = round % 2 === 1 ? scaleSteps : [...scaleSteps].reverse();
    for (const n of order) {
      await product.scale(n);
      const replicas = await product.apiReplicas();
      const trees = Object.fromEntries(replicas.map((r) => [r.id, r.pid]));
      const m = await measure(
        product,
        { url: balancer, trees, own: { control: pids.control, haproxy: pids.haproxy } },
        ids,
        scaleWarmupS,
        CONNECTIONS * n,
      );
      const perReplica = (m.sample?.instances ?? []).filter((i) => i.service === 'api');
      const apiCpu = replicas.reduce((sum, r) => sum + (m.cpu[r.id] ?? 0), 0);
      const run: ScaleRun = {
        runtime,
        round,
        replicas: n,
        rps: Math.round(m.wrk.rps),
        p50Ms: m.wrk.latencyMs.p50,
        p99Ms: m.wrk.latencyMs.p99,
        errors: errorsOf(m.wrk),
        apiCpu,
        cpu: { control: m.cpu.control!, haproxy: m.cpu.haproxy!, wrk: m.cpu.wrk!, other: m.cpu.other!, machine: m.cpu.machine! },
        throttledShare: perReplica.map((i) => i.throttling?.throttledShare ?? null),
        serverRps: m.sample?.traffic.rps ?? null,
      };
      runs.push(run);
      say(
        `${runtime} round ${round} ${n} × ${cpuLimit}: ${run.rps} req/s, p99 ${run.p99Ms.toFixed(1)} ms, errors ${run.errors}; api cpu ${apiCpu} %, throttled ${run.throttledShare.map((s) => (s === null ? '–' : s.toFixed(2))).join(' ')}; haproxy ${run.cpu.haproxy} %, wrk ${run.cpu.wrk} %`,
      );
    }
  }
  await product.down();
  return runs;
}

async function main(): Promise<void> {
  const started = new Date().toISOString();
  const singleRuns = parts.includes('single') ? await single() : [];
  const scaleRuns = parts.includes('scale') ? await scale('local', []) : [];
  if (parts.includes('docker')) {
    const engine = await dockerAvailable();
    if (!engine.ok) say(`docker: skipped (${engine.reason})`);
    else {
      // The images the Docker tests build offline (debootstrap), from this checkout's backend.
      const images = await ensureTestImages((line) => say(`[test images] ${line}`));
      scaleRuns.push(
        ...(await scale('docker', [
          '--runtime',
          'docker',
          '--network',
          'host',
          '--image-service',
          images.service,
          '--image-postgres',
          images.postgres,
          '--image-redis',
          images.redis,
        ])),
      );
    }
  }
  const file = await writePathReport(ROOT, {
    date: started,
    machine: {
      ...machineFacts(),
      loadAverage: os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' '),
    },
    settings: {
      wrk: `-t2 -c${CONNECTIONS} -d${durationS}s after ${warmupS} s unrecorded (in the scale-out series -c${CONNECTIONS} per replica, after ${scaleWarmupS} s), GET /users/:id over ${USERS} cached users (re-read before each run)`,
      rounds,
      cpuLimit,
      scaleSteps,
      nginx: 'proxy_pass, keepalive 64 upstream, 1 worker',
    },
    single: singleRuns,
    scale: scaleRuns,
  });
  say(`wrote ${file} and .json`);
}

harness.run(main);
