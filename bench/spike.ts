/**
 * The README's spike example as a user runs it, by tracing setting: `scalelab up --api 4` (HAProxy,
 * tracing as shipped), then `scalelab traffic --profile spike --rps 200..1000 --duration 9s --mix
 * read=90,write=10 --zipf 1.1`, the first run straight after `up` and BENCH_WARM_RUNS more after it.
 * The settings, each on its own fresh stack, interleaved round by round so that a slow minute of
 * the machine lands on all of them:
 *   - shipped: the default sampler (parentbased_ratelimited, DEFAULT_TRACES_PER_SECOND per replica);
 *   - sampling 100: OTEL_TRACES_SAMPLER_ARG=100, the default before 2026-12-07;
 *   - tracing off: OTEL_SDK_DISABLED=true, the reference.
 * The bar (issue 19): every run's client-observed p99 < 50 ms with 0 errors. The generator, the
 * control plane, HAProxy, four replicas, a worker, Redis and PostgreSQL share the machine's cores.
 *
 * Env: BENCH_ROUNDS (3), BENCH_WARM_RUNS (2). Writes bench/results/spike.json and spike.md.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_TRACES_PER_SECOND } from '../backend/telemetry/keep-policy.js';
import { createHarness, envNumber, machineFacts } from './lib/harness.js';
import { Product } from './lib/product.js';
import { waitQuiet } from './lib/quiet.js';
import { errorsOf, spikeMarkdown, type SpikeRun, type SpikeSetting } from './lib/spike-report.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS = path.join(ROOT, 'bench', 'results');
const EXAMPLE = [
  'traffic',
  '--profile',
  'spike',
  '--rps',
  '200..1000',
  '--duration',
  '9s',
  '--mix',
  'read=90,write=10',
  '--zipf',
  '1.1',
  '--json',
];
const SETTINGS: SpikeSetting[] = [
  { name: 'shipped', env: {}, note: `default sampler, ${DEFAULT_TRACES_PER_SECOND} new traces/s per replica` },
  {
    name: 'sampling 100',
    env: { OTEL_TRACES_SAMPLER: 'parentbased_ratelimited', OTEL_TRACES_SAMPLER_ARG: '100' },
    note: 'the default before 2026-12-07',
  },
  { name: 'tracing off', env: { OTEL_SDK_DISABLED: 'true' }, note: 'reference' },
];
/** Other work (% of one core) under which a run starts. */
const QUIET_OTHER_CPU = 25;

const harness = createHarness();

harness.run(async () => {
  const rounds = envNumber('BENCH_ROUNDS', 3);
  const warmRuns = envNumber('BENCH_WARM_RUNS', 2);
  const runs: SpikeRun[] = [];
  const startedAt = new Date().toISOString();
  for (let round = 1; round <= rounds; round++) {
    for (const setting of SETTINGS) {
      const home = await mkdtemp(path.join(os.tmpdir(), 'scalelab-bench-spike-'));
      harness.onCleanup(() => rm(home, { recursive: true, force: true }));
      const product = await Product.up(ROOT, home, setting.env, ['--api', '4']);
      harness.onCleanup(() => product.down());
      for (let run = 0; run <= warmRuns; run++) {
        await waitQuiet(QUIET_OTHER_CPU, 20_000);
        const summary = JSON.parse(await product.cli(EXAMPLE)) as SpikeRun['summary'];
        const result: SpikeRun = { setting: setting.name, round, afterUp: run === 0, summary };
        runs.push(result);
        harness.say(
          `round ${round} ${setting.name} ${run === 0 ? 'after up' : `warm ${run}`}: p50 ${summary.p50Ms} p95 ${summary.p95Ms} p99 ${summary.p99Ms} ms, errors ${errorsOf(result)}, achieved ${summary.achievedRps} req/s`,
        );
      }
      await product.down();
    }
  }
  const report = {
    startedAt,
    machine: machineFacts(),
    example: `scalelab ${EXAMPLE.slice(0, -1).join(' ')}`,
    settings: SETTINGS,
    rounds,
    warmRuns,
    runs,
  };
  await writeFile(path.join(RESULTS, 'spike.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(path.join(RESULTS, 'spike.md'), spikeMarkdown(report));
  harness.say('wrote bench/results/spike.json and spike.md');
});
