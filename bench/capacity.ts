/**
 * Capacity benchmark: is the capacity `scalelab capacity` finds at one replica the rate a user
 * would find by hand? In one run, against the same stack (the compiled CLI's `scalelab up`, as
 * `npm start` runs it, scaled to one api replica), for each configuration:
 *   1. `scalelab capacity --replicas 1 --json`: the search (quick ramp, constant 10 s steps,
 *      bisection) and its capacity C;
 *   2. the reference: `scalelab traffic --rps R --duration 10s --json` — the generator's own
 *      constant runs, the same mix and keys — at R = C × 0.7, 0.8, …, 1.3, in BENCH_ROUNDS rounds
 *      (the rates shuffled in each), each judged by the search's own rule (p99 < 50 ms, errors
 *      < 0.1 %, no generator drops); the reference is the highest rate that held in most rounds.
 * The ratio C ÷ reference, goal within 10 %. The configurations: the spec's defaults (no cpu
 * limit) and `--api-cpu 100m`. Everything (the generator, the stack's processes) shares the cores.
 *
 * Env: BENCH_ROUNDS (3), BENCH_CONFIGS ("default,100m"). Writes bench/results/capacity.json and .md.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CapacityStatus } from '../electron/capacity-spec.js';
import { judgeStep } from '../electron/control/capacity/search.js';
import type { TrafficSummary } from '../electron/traffic-spec.js';
import { createHarness, envNumber, machineFacts } from './lib/harness.js';
import { Product } from './lib/product.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS = path.join(ROOT, 'bench', 'results');
const SLO = { p99Ms: 50, errorPercent: 0.1 };
const FACTORS = [0.7, 0.8, 0.9, 1, 1.1, 1.2, 1.3];
const STEP_S = 10;
const GOAL = 0.1;

const harness = createHarness();
const say = harness.say;

interface ReferenceRun {
  rps: number;
  round: number;
  verdict: 'pass' | 'fail' | 'invalid';
  reason: string;
  p99Ms: number | null;
}

interface ConfigResult {
  name: string;
  upArgs: string[];
  capacityRps: number | null;
  searchSteps: number;
  searchS: number;
  referenceRps: number | null;
  ratio: number | null;
  met: boolean;
  reference: ReferenceRun[];
}

function shuffled<T>(xs: T[], seed: number): T[] {
  const out = [...xs];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

async function measure(name: string, upArgs: string[], rounds: number): Promise<ConfigResult> {
  const home = await mkdtemp(path.join(os.tmpdir(), `scalelab-bench-capacity-${name}-`));
  harness.onCleanup(() => rm(home, { recursive: true, force: true }));
  say(`${name}: scalelab up ${upArgs.join(' ')}`);
  const product = await Product.up(ROOT, home, {}, upArgs);
  harness.onCleanup(() => product.down());
  const started = Date.now();
  say(`${name}: scalelab capacity --replicas 1`);
  const status = JSON.parse(await product.cli(['capacity', '--replicas', '1', '--json'])) as CapacityStatus;
  const result = status.results[0];
  const capacity = result?.capacityRps ?? null;
  const searchS = Math.round((Date.now() - started) / 1000);
  say(`${name}: capacity ${capacity ?? '–'} req/s (${result?.outcome}, ${result?.steps.length ?? 0} steps, ${searchS} s)`);
  const reference: ReferenceRun[] = [];
  if (capacity !== null) {
    const rates = [...new Set(FACTORS.map((f) => Math.max(1, Math.round(capacity * f))))];
    for (let round = 1; round <= rounds; round++) {
      for (const rps of shuffled(rates, round * 7919 + capacity)) {
        const out = await product.cli(['traffic', '--profile', 'constant', '--rps', String(rps), '--duration', `${STEP_S}s`, '--json']);
        const summary = JSON.parse(out.slice(out.indexOf('{'))) as TrafficSummary & { generator: TrafficSummary['health'] | null };
        const verdict = judgeStep({ summary: { ...summary, health: summary.generator ?? undefined }, telemetry: null }, SLO);
        reference.push({ rps, round, ...verdict, p99Ms: summary.p99Ms });
        say(`${name}: round ${round}: ${rps} req/s ${verdict.verdict} (${verdict.reason})`);
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }
  // The highest rate that held in most of its rounds.
  const held = [...new Set(reference.map((r) => r.rps))].filter((rps) => {
    const runs = reference.filter((r) => r.rps === rps && r.verdict !== 'invalid');
    return runs.length > 0 && runs.filter((r) => r.verdict === 'pass').length * 2 > runs.length;
  });
  const referenceRps = held.length > 0 ? Math.max(...held) : null;
  const ratio = capacity !== null && referenceRps !== null ? Math.round((capacity / referenceRps) * 1000) / 1000 : null;
  await product.down();
  return {
    name,
    upArgs,
    capacityRps: capacity,
    searchSteps: result?.steps.length ?? 0,
    searchS,
    referenceRps,
    ratio,
    met: ratio !== null && Math.abs(ratio - 1) <= GOAL,
    reference,
  };
}

function markdown(when: string, configs: ConfigResult[], rounds: number): string {
  const facts = machineFacts();
  const lines = [
    '# Capacity: the search against constant-rate runs by hand',
    '',
    `${when}. ${facts.cpus} cpus (${String(facts.cpuModel).split(' ').slice(0, 2).join(' ')}), ${facts.memoryGiB} GiB, ${facts.os}, node ${facts.node}.`,
    'Each configuration: a fresh stack (`scalelab up`, the compiled CLI as `npm start` runs it, one api replica), then',
    '`scalelab capacity --replicas 1` (its capacity C), then the reference: `scalelab traffic --rps R --duration 10s` at',
    `R = C × ${FACTORS.join(', ')}, ${rounds} rounds with the rates shuffled, each judged by the search's rule (p99 < 50 ms,`,
    'errors < 0.1 %, no generator drops); the reference is the highest rate that held in most of its rounds. The generator,',
    'the balancer and the stack shared the same 2 cores.',
    '',
    '| configuration | capacity found | search | reference (constant runs) | found ÷ reference | goal | met? |',
    '|---|---:|---:|---:|---:|---:|---|',
    ...configs.map(
      (c) =>
        `| ${c.name} (\`scalelab up ${c.upArgs.join(' ')}\`) | ${c.capacityRps ?? '–'} req/s | ${c.searchSteps} steps, ${c.searchS} s | ${c.referenceRps ?? '–'} req/s | ${c.ratio ?? '–'} | 1 ± ${GOAL} | ${c.met ? 'yes' : 'no'} |`,
    ),
    '',
    '## The constant runs',
    '',
    ...configs.flatMap((c) => {
      const rates = [...new Set(c.reference.map((r) => r.rps))].sort((a, b) => a - b);
      return [
        `### ${c.name}`,
        '',
        '| rate | verdicts by round | p99 ms by round |',
        '|---:|---|---|',
        ...rates.map((rps) => {
          const runs = c.reference.filter((r) => r.rps === rps).sort((a, b) => a.round - b.round);
          return `| ${rps} | ${runs.map((r) => r.verdict).join(', ')} | ${runs.map((r) => r.p99Ms?.toFixed(1) ?? '–').join(', ')} |`;
        }),
        '',
      ];
    }),
  ];
  return `${lines.join('\n')}\n`;
}

harness.run(async () => {
  const rounds = envNumber('BENCH_ROUNDS', 3);
  const wanted = (process.env.BENCH_CONFIGS ?? 'default,100m').split(',').map((s) => s.trim());
  const configs: ConfigResult[] = [];
  for (const name of wanted) {
    const upArgs = name === 'default' ? ['--api', '1'] : ['--api', '1', '--api-cpu', name];
    configs.push(await measure(name, upArgs, rounds));
  }
  const when = new Date().toISOString();
  await mkdir(RESULTS, { recursive: true });
  await writeFile(
    path.join(RESULTS, 'capacity.json'),
    `${JSON.stringify({ when, machine: machineFacts(), slo: SLO, factors: FACTORS, rounds, configs }, null, 2)}\n`,
  );
  await writeFile(path.join(RESULTS, 'capacity.md'), markdown(when, configs, rounds));
  for (const c of configs)
    say(`${c.name}: found ${c.capacityRps} req/s, reference ${c.referenceRps} req/s, ratio ${c.ratio} (${c.met ? 'met' : 'not met'})`);
  say('wrote bench/results/capacity.json and capacity.md');
});
