/// <reference lib="dom" />
/**
 * The dashboard under load, as users run it: `scalelab up` (npm start's stack: defaults, HAProxy,
 * tracing as shipped), its real dashboard open in Debian's Chromium, and traffic through the
 * balancer. Per round, three phases of BENCH_PHASE_S each:
 *   - idle: nothing flows (the reference, in the same run);
 *   - wrk: wrk -t2 -c64 at saturation, GET /users/:id over 200 cached users;
 *   - generator: `scalelab traffic --profile constant --rps 10000`, the product's own load, whose
 *     threads run in the control plane beside telemetry and the WebSocket.
 * For every sample the page records when it arrived and how long the dashboard took to absorb it
 * (see live-report.ts). The bar (issue 19): while 10k req/s flow through the balancer, a sample
 * every second, none later than 2 s, and an update within its 16 ms budget (median).
 * Everything (the stack, Chromium, wrk or the generator) shares the machine's cores.
 *
 * Env: BENCH_ROUNDS (2), BENCH_PHASE_S (30). Writes bench/results/live.json and live.md.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { cpuPercent, cpuSnapshot } from './lib/cpu.js';
import { createHarness, envNumber, machineFacts } from './lib/harness.js';
import { liveMarkdown, type LivePhase, type ReceivedSample } from './lib/live-report.js';
import { median } from './lib/control-report.js';
import { childNamed, Product, seedUsers } from './lib/product.js';
import { warmUsers } from './lib/stack.js';
import { killWrk, runWrk } from './lib/wrk.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS = path.join(ROOT, 'bench', 'results');
const USERS = 200;
const BUDGET_MS = 16;
const MAX_GAP_MS = 2_000;
const GENERATOR_RPS = 10_000;

const harness = createHarness(killWrk);
const { say } = harness;

interface Received extends ReceivedSample {
  rps: number;
}

/** Runs in the page before the app: wraps the WebSocket's message handler to time each sample. */
function measureSamples(): void {
  const live: Received[] = [];
  (window as unknown as { __live: Received[] }).__live = live;
  const Native = window.WebSocket;
  class Measured extends Native {
    override set onmessage(handler: ((this: WebSocket, m: MessageEvent) => unknown) | null) {
      super.onmessage = (m: MessageEvent) => {
        const isSample = typeof m.data === 'string' && m.data.startsWith('{"event":"sample"');
        const t0 = performance.now();
        handler?.call(this, m);
        if (!isSample) return;
        const arrived = Date.now();
        // React renders in a task of its own scheduler (a MessageChannel); ours is queued after it.
        const channel = new MessageChannel();
        channel.port1.onmessage = () => {
          void document.body.offsetHeight;
          const updateMs = performance.now() - t0;
          const sample = (JSON.parse(m.data as string) as { data: { t: number; traffic: { rps: number } } }).data;
          live.push({ t: sample.t, arrived, updateMs, rps: sample.traffic.rps });
        };
        channel.port2.postMessage(null);
      };
    }
    override get onmessage() {
      return super.onmessage;
    }
  }
  window.WebSocket = Measured;
}

/** The replicas' cpu summed as "api"; wrk's (this process's reaped children: wrk or the `scalelab traffic` CLI) as "load tool". */
function byGroup(cpu: Record<string, number>, replicaIds: string[]): Record<string, number> {
  const out: Record<string, number> = { api: 0 };
  for (const [name, value] of Object.entries(cpu)) {
    if (replicaIds.includes(name)) out.api! += value;
    else out[name === 'wrk' ? 'load tool' : name] = value;
  }
  return out;
}

async function takeSamples(page: Page): Promise<Received[]> {
  return page.evaluate(() => (window as unknown as { __live: Received[] }).__live.splice(0));
}

harness.run(async () => {
  const rounds = envNumber('BENCH_ROUNDS', 2);
  const phaseS = envNumber('BENCH_PHASE_S', 30);
  const startedAt = new Date().toISOString();
  const home = await mkdtemp(path.join(os.tmpdir(), 'scalelab-bench-live-'));
  harness.onCleanup(() => rm(home, { recursive: true, force: true }));
  say('scalelab up (defaults, as npm start)');
  const product = await Product.up(ROOT, home, {}, []);
  harness.onCleanup(() => product.down());
  const balancer = await product.balancerUrl();
  const ids = await seedUsers(balancer, USERS);
  const replicas = await product.apiReplicas();
  const pids = await product.pids();

  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
  harness.onCleanup(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  // tsx names classes with esbuild's __name helper, which the page does not have.
  await page.addInitScript({ content: 'globalThis.__name = (target) => target;' });
  await page.addInitScript(measureSamples);
  await page.goto(await product.loginUrl());
  await page.getByText('api-1').first().waitFor({ timeout: 30_000 });
  const chromiumPid = await childNamed(process.pid, 'chromium');
  const trees = { chromium: chromiumPid, ...Object.fromEntries(replicas.map((r) => [r.id, r.pid])) };
  const own = { control: pids.control, haproxy: pids.haproxy };
  say(
    `dashboard open (chromium pid ${chromiumPid ?? 'unknown'}), balancer ${balancer}${pids.haproxy ? ' (HAProxy)' : ''}, ${replicas.length} api replicas`,
  );

  const wrkCommand = `wrk -t2 -c64 -d${phaseS}s -s bench/lua/get-random-id.lua ${balancer}`;
  const generatorArgs = [
    'traffic',
    '--profile',
    'constant',
    '--rps',
    String(GENERATOR_RPS),
    '--mix',
    'read=100',
    '--duration',
    `${phaseS}s`,
    '--json',
  ];
  const loads: { load: LivePhase['load']; command: string; run(): Promise<number | null> }[] = [
    { load: 'idle', command: `nothing for ${phaseS} s`, run: () => delay(phaseS * 1000).then(() => null) },
    {
      load: 'wrk',
      command: wrkCommand,
      run: async () => {
        await warmUsers(balancer, ids.minId, ids.maxId);
        const wrk = await runWrk({
          url: balancer,
          script: 'bench/lua/get-random-id.lua',
          scriptArgs: [String(ids.minId), String(ids.maxId)],
          threads: 2,
          connections: 64,
          durationS: phaseS,
          cwd: ROOT,
        });
        return wrk.rps;
      },
    },
    {
      load: 'generator',
      command: `scalelab ${generatorArgs.slice(0, -1).join(' ')}`,
      run: async () => (JSON.parse(await product.cli(generatorArgs)) as { achievedRps: number }).achievedRps,
    },
  ];

  const phases: LivePhase[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const load of loads) {
      await delay(3_000);
      await takeSamples(page);
      const before = await cpuSnapshot(trees, own);
      const startedPhase = Date.now();
      const clientRps = await load.run();
      const cpu = byGroup(
        cpuPercent(before, await cpuSnapshot(trees, own)),
        replicas.map((r) => r.id),
      );
      const received = (await takeSamples(page)).filter((s) => s.arrived >= startedPhase);
      const durationS = (Date.now() - startedPhase) / 1000;
      // The first two seconds ramp up: the balancer's rate is taken over the rest.
      const steady = received.filter((s) => s.arrived >= startedPhase + 2_000);
      const phase: LivePhase = {
        round,
        load: load.load,
        command: load.command,
        durationS,
        balancerRps: median(steady.map((s) => s.rps)),
        clientRps,
        samples: received.map(({ t, arrived, updateMs }) => ({ t, arrived, updateMs })),
        cpu,
      };
      phases.push(phase);
      const updates = received.map((s) => s.updateMs);
      say(
        `round ${round} ${load.load}: balancer ${Math.round(phase.balancerRps)} req/s, ${received.length} samples in ${durationS.toFixed(0)} s, update median ${median(updates).toFixed(1)} ms (max ${Math.max(...updates).toFixed(1)}); cpu % chromium ${cpu.chromium}, control ${cpu.control}, haproxy ${cpu.haproxy}, machine ${cpu.machine}`,
      );
    }
  }
  await mkdir(path.join(ROOT, 'test-results'), { recursive: true });
  await page.screenshot({ path: path.join(ROOT, 'test-results', 'bench-live.png') });
  const report = {
    startedAt,
    machine: machineFacts(),
    stack: '`scalelab up` (defaults: 2 api replicas, 1 worker, HAProxy, tracing as shipped)',
    budgetMs: BUDGET_MS,
    maxGapMs: MAX_GAP_MS,
    phases,
  };
  await writeFile(path.join(RESULTS, 'live.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(path.join(RESULTS, 'live.md'), liveMarkdown(report));
  say('wrote bench/results/live.json and live.md (screenshot test-results/bench-live.png)');
});
