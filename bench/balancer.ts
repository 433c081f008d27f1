/**
 * The request path's front door, measured as users run it (issue 19 item 1): wrk on cached
 * GET /users/:id against one api replica (tracing off at the replica), directly, through nginx
 * (proxy_pass, keep-alive upstream, 1 worker), through ScaleLab's balancer process, and through
 * the same balancer inside another Node process's event loop (how it ran before, in the control
 * plane, minus the control plane's own work). Rounds interleave the paths, so a busy neighbour
 * on the machine shows as a range, not as one path's bad luck.
 *
 * Usage: npm run build && node --import tsx bench/balancer.ts
 * Env: BENCH_DURATION_S (8), BENCH_WARMUP_S (2), BENCH_ROUNDS (3), BENCH_PATHS (direct,nginx,process,in-process)
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Balancer } from '../electron/control/balancer/balancer.js';
import type { RemoteBalancer } from '../electron/control/balancer/remote-balancer.js';
import { freePort } from '../electron/control/runtimes/local/ports.js';
import { createHarness, envNumber, machineFacts } from './lib/harness.js';
import { startNginxProxy } from './lib/nginx-proxy.js';
import { BenchStack, loadBackendProcess } from './lib/stack.js';
import { killWrk, runWrk } from './lib/wrk.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const USERS = 200;
const durationS = envNumber('BENCH_DURATION_S', 8);
const warmupS = envNumber('BENCH_WARMUP_S', 2);
const rounds = envNumber('BENCH_ROUNDS', 3);
const paths = (process.env.BENCH_PATHS ?? 'direct,nginx,process,in-process').split(',').map((p) => p.trim());
const harness = createHarness(killWrk);
const { say } = harness;

interface Run {
  round: number;
  path: string;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  loadAverage: number;
}

type Launcher = typeof import('../electron/control/runtimes/local/balancer-launcher.js');

async function main(): Promise<void> {
  const { helper, compiled } = await loadBackendProcess(ROOT);
  if (!compiled) throw new Error('dist/ is missing: run `npm run build` first (the replica and the balancer run as users run them)');
  process.env.SCALELAB_BACKEND = 'dist';
  // The compiled launcher starts dist/…/balancer-process.js with plain node, as the product does.
  const launcher = (await import(
    pathToFileURL(path.join(ROOT, 'dist/electron/control/runtimes/local/balancer-launcher.js')).href
  )) as Launcher;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'scalelab-bench-balancer-'));
  harness.onCleanup(() => rm(dir, { recursive: true, force: true }));
  const stack = await BenchStack.create({ helper, dir, apiEnv: { LOG_LEVEL: 'warn', OTEL_SDK_DISABLED: 'true' }, onProgress: say });
  harness.onCleanup(() => stack.stop());
  await stack.start();
  await stack.startApi();
  const { minId, maxId } = await stack.seed(USERS);
  await stack.warmCache(minId, maxId);

  const nginx = await startNginxProxy(path.join(dir, 'nginx'), stack.apiUrl, 1);
  harness.onCleanup(() => nginx.stop());
  const remote: RemoteBalancer = await launcher.launchBalancer({ port: await freePort(), logFile: path.join(dir, 'balancer.log') }, {});
  harness.onCleanup(() => remote.close());
  remote.add('api-1', stack.apiUrl);
  remote.setReady('api-1', true);
  const inProcess = new Balancer({ port: 0 });
  const inProcessPort = await inProcess.listen();
  harness.onCleanup(() => inProcess.close());
  inProcess.add('api-1', stack.apiUrl);
  inProcess.setReady('api-1', true);
  const urls: Record<string, string> = {
    direct: stack.apiUrl,
    nginx: nginx.url,
    process: `http://127.0.0.1:${remote.port}`,
    'in-process': `http://127.0.0.1:${inProcessPort}`,
  };

  const runs: Run[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const name of paths) {
      const url = urls[name];
      if (!url) throw new Error(`BENCH_PATHS: unknown path "${name}"`);
      const common = {
        url,
        script: 'bench/lua/get-random-id.lua',
        scriptArgs: [String(minId), String(maxId)],
        threads: 2,
        connections: 64,
        cwd: ROOT,
      };
      await runWrk({ ...common, durationS: warmupS });
      const wrk = await runWrk({ ...common, durationS });
      const run: Run = {
        round,
        path: name,
        rps: Math.round(wrk.rps),
        p50Ms: wrk.latencyMs.p50,
        p99Ms: wrk.latencyMs.p99,
        errors: wrk.non2xx3xx + Object.values(wrk.socketErrors).reduce((a, b) => a + b, 0),
        loadAverage: Number(os.loadavg()[0]!.toFixed(2)),
      };
      runs.push(run);
      say(
        `round ${round} ${name}: ${run.rps} req/s, p50 ${run.p50Ms.toFixed(2)} ms, p99 ${run.p99Ms.toFixed(2)} ms, errors ${run.errors}, load ${run.loadAverage}`,
      );
    }
  }
  const summary = paths.map((name) => {
    const mine = runs.filter((r) => r.path === name);
    const rps = mine.map((r) => r.rps);
    const p99 = mine.map((r) => r.p99Ms);
    return { path: name, rpsMin: Math.min(...rps), rpsMax: Math.max(...rps), p99MinMs: Math.min(...p99), p99MaxMs: Math.max(...p99) };
  });
  const machine = machineFacts();
  const report = {
    date: new Date().toISOString(),
    machine: {
      ...machine,
      loadAverage: os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' '),
    },
    settings: {
      wrk: `-t2 -c64 -d${durationS}s after ${warmupS} s unrecorded, GET /users/:id over ${USERS} cached users`,
      replica: 'one api replica from its bundle, OTEL_SDK_DISABLED=true, LOG_LEVEL=warn',
      nginx: 'proxy_pass, keepalive 64 upstream, 1 worker',
    },
    runs,
    summary,
  };
  await writeFile(path.join(ROOT, 'bench/results/balancer.json'), `${JSON.stringify(report, null, 2)}\n`);
  const rows = summary.map((s) => `| ${s.path} | ${s.rpsMin}–${s.rpsMax} | ${s.p99MinMs.toFixed(1)}–${s.p99MaxMs.toFixed(1)} |`);
  await writeFile(
    path.join(ROOT, 'bench/results/balancer.md'),
    `# The balancer beside its parts and nginx\n\n${report.date}, ${machine.cpus} cpus (${machine.cpuModel}), load average at the end ${report.machine.loadAverage}. ${report.settings.wrk}; ${report.settings.replica}; nginx ${report.settings.nginx}. ${rounds} interleaved rounds; ranges over rounds.\n\n| path | req/s | p99 ms |\n|---|---:|---:|\n${rows.join('\n')}\n`,
  );
  say('wrote bench/results/balancer.json and .md');
}

harness.run(main);
