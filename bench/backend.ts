/**
 * Backend benchmark: how close does ONE api process get to the HTTP ceiling of this machine?
 *
 * Starts the user-management API against embedded PostgreSQL and a local Redis (the project's
 * own local-runtime helpers), seeds 10,000 users, and drives it with wrk (-t2 -c64, keep-alive,
 * a short unrecorded warm-up, then BENCH_DURATION_S seconds) on loopback:
 *   1. GET /users/:id, random ids, cache warmed first: the hot read path (Redis hit);
 *   2. POST /users, unique name/e-mail per request: the write path (INSERT + cache invalidation);
 *   3. GET /users/:id of missing ids: 404 after a cache miss and a PostgreSQL lookup.
 * The reference is nginx serving a JSON file of the same size to the same wrk script, with one
 * worker (one process, like one API process) and with one worker per CPU. Goals are ratios to
 * the 1-worker figure: cached GET >= 0.40, POST >= 0.10. A case that misses its goal is run again
 * with the api under `node --cpu-prof`, and the profile's top self-time functions are reported.
 * Each case also records where the CPU went (api/nginx, PostgreSQL, Redis, wrk), since wrk and
 * the stack share this machine's cores.
 *
 * Env: BENCH_DURATION_S (15), BENCH_WARMUP_S (3), BENCH_PROFILE (auto | 1 | 0).
 * Writes bench/results/backend.json and bench/results/backend.md.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { profileMarkdown, summarizeCpuProfile } from './lib/cpuprofile.js';
import { nginxVersion, startNginx } from './lib/nginx.js';
import { cpuPercent, cpuSnapshot } from './lib/cpu.js';
import {
  applyRatios,
  cpuTable,
  judge,
  reportMarkdown,
  resultsTable,
  type BackendReport,
  type CaseResult,
  type ProfileReport,
} from './lib/report.js';
import { BenchStack, loadBackendProcess } from './lib/stack.js';
import { createHarness, envNumber, machineFacts } from './lib/harness.js';
import { killWrk, runWrk } from './lib/wrk.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS = path.join(ROOT, 'bench', 'results');
const USERS = 10_000;
const MISSING_IDS = ['10000001', '2000000000'];
const THREADS = 2;
const CONNECTIONS = 64;
const GOALS: Record<string, number> = { 'get-cached': 0.4, 'post-user': 0.1 };
/** "other" CPU (% of one core) above which a case is reported as disturbed by other work. */
const NOISY_OTHER_CPU = 25;
/** Long enough that no cached user expires (or is refreshed early) during a run. */
const CACHE_TTL_SECONDS = 3600;

const durationS = envNumber('BENCH_DURATION_S', 15);
const warmupS = envNumber('BENCH_WARMUP_S', 3);
const profileMode = process.env.BENCH_PROFILE ?? 'auto';
const harness = createHarness(killWrk);
const { say, cleanup } = harness;

interface CaseSpec {
  id: string;
  title: string;
  expected: string;
  url: string;
  script: string;
  /** arguments of the Lua script, by phase ('warmup' | 'run'), so each wrk run can get its own */
  args: (phase: string) => string[];
  /** root pids to account CPU to: server, postgres, redis */
  watch: () => Record<string, number | undefined>;
}

/** An unrecorded warm-up (JIT, connection pools, caches), then the measured run. */
async function measure(spec: CaseSpec): Promise<CaseResult> {
  const common = { url: spec.url, script: spec.script, threads: THREADS, connections: CONNECTIONS, cwd: ROOT };
  say(`${spec.title}: warm-up ${warmupS} s, then ${durationS} s`);
  await runWrk({ ...common, durationS: warmupS, scriptArgs: spec.args('warmup') });
  const before = await cpuSnapshot(spec.watch());
  const wrk = await runWrk({ ...common, durationS, scriptArgs: spec.args('run') });
  const cpu = cpuPercent(before, await cpuSnapshot(spec.watch()));
  const result = judge(spec.id, spec.title, spec.expected, wrk);
  result.cpu = cpu;
  if ((cpu.other ?? 0) > NOISY_OTHER_CPU) {
    result.notes.push(
      `noisy: ${cpu.other}% of a core went to other work (other processes, interrupts); the figure is likely low, re-run on a quiet machine`,
    );
  }
  const cpuText = Object.entries(cpu)
    .map(([k, v]) => `${k} ${v}%`)
    .join(', ');
  say(
    `  ${Math.round(wrk.rps)} req/s, p50 ${wrk.latencyMs.p50.toFixed(2)} ms, p99 ${wrk.latencyMs.p99.toFixed(2)} ms, errors ${result.errors}${result.valid ? '' : ' (INVALID)'}`,
  );
  say(`  CPU (% of one core): ${cpuText}`);
  return result;
}

/** First output line of `command args`; wrk -v prints its version and exits 1, so errors count too. */
async function version(command: string, args: string[]): Promise<string> {
  const output = await promisify(execFile)(command, args).catch((err: { stdout?: string; stderr?: string }) => err);
  return `${output.stdout ?? ''}${output.stderr ?? ''}`.trim().split('\n')[0] || 'unknown';
}

async function postgresVersion(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version;
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const { helper, compiled } = await loadBackendProcess(ROOT);
  if (!compiled) say('warning: dist/ is missing, so the api runs through tsx; run `npm run build` first for real figures');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'scalelab-bench-'));
  harness.onCleanup(() => rm(dir, { recursive: true, force: true }));
  // nginx's workers (nobody, when run as root) serve a file below it.
  await chmod(dir, 0o755);

  const stack = await BenchStack.create({
    helper,
    dir,
    apiEnv: { LOG_LEVEL: 'warn', CACHE_TTL_SECONDS: String(CACHE_TTL_SECONDS), SHUTDOWN_GRACE_MS: '5000' },
    onProgress: say,
  });
  harness.onCleanup(() => stack.stop());
  await stack.start();
  say('starting one api process (migrations run on first start)');
  await stack.startApi();
  const { minId, maxId } = await stack.seed(USERS);
  say(`seeded ${USERS} users (ids ${minId}..${maxId})`);
  const randomIds = () => [String(minId), String(maxId)];
  const apiWatch = () => {
    const { api, postgres, redis } = stack.pids();
    return { server: api, postgres, redis };
  };

  // nginx serves a real user's JSON, so both sides send bodies of the same size.
  const sample = await (await fetch(`${stack.apiUrl}/users/${Math.ceil(maxId / 2)}`)).text();
  const nginxCase = async (workers: 1 | 'auto'): Promise<CaseResult> => {
    const nginx = await startNginx({ dir: path.join(dir, `nginx-${workers}`), workers, body: sample });
    harness.onCleanup(() => nginx.stop()); // for Ctrl-C; stopping twice is harmless
    try {
      return await measure({
        id: `nginx-${workers}`,
        title: `nginx static JSON (${sample.length} B), worker_processes ${workers}`,
        expected: '200',
        url: nginx.url,
        script: 'bench/lua/get-random-id.lua',
        args: randomIds,
        watch: () => ({ server: nginx.pid, postgres: stack.pids().postgres, redis: stack.pids().redis }),
      });
    } finally {
      await nginx.stop();
    }
  };
  const nginx1 = await nginxCase(1);
  const nginxAuto = await nginxCase('auto');

  const specs: Record<string, CaseSpec> = {
    'get-cached': {
      id: 'get-cached',
      title: 'GET /users/:id, cached (random id of 10,000)',
      expected: '200',
      url: stack.apiUrl,
      script: 'bench/lua/get-random-id.lua',
      args: randomIds,
      watch: apiWatch,
    },
    'post-user': {
      id: 'post-user',
      title: 'POST /users, unique name and e-mail',
      expected: '201',
      url: stack.apiUrl,
      script: 'bench/lua/post-user.lua',
      // A fresh tag per wrk run; the script adds a random suffix and a per-thread counter.
      args: (phase) => [`${Date.now().toString(36)}-${phase}`],
      watch: apiWatch,
    },
    'get-missing': {
      id: 'get-missing',
      title: 'GET /users/:id, missing id (cache miss, PostgreSQL lookup)',
      expected: '404',
      url: stack.apiUrl,
      script: 'bench/lua/get-missing-id.lua',
      args: () => MISSING_IDS,
      watch: apiWatch,
    },
  };

  say(`warming the cache: reading all ${USERS} users once`);
  await stack.warmCache(minId, maxId);
  const before = await stack.counters('cache_hits_total', 'cache_misses_total');
  const getCase = await measure(specs['get-cached']!);
  const after = await stack.counters('cache_hits_total', 'cache_misses_total');
  const hits = after.cache_hits_total! - before.cache_hits_total!;
  const misses = after.cache_misses_total! - before.cache_misses_total!;
  getCase.notes.push(`cache hit rate ${((hits / (hits + misses)) * 100).toFixed(2)}% (${misses} misses, warm-up included)`);
  const postCase = await measure(specs['post-user']!);
  const missingCase = await measure(specs['get-missing']!);

  const cases = [nginx1, nginxAuto, getCase, postCase, missingCase];
  applyRatios(cases, nginx1, nginxAuto, GOALS);
  const allGoalsMet = cases.every((c) => c.goal === undefined || c.met === true);

  const report: BackendReport = {
    date: new Date().toISOString(),
    machine: {
      ...machineFacts(),
      postgres: await postgresVersion(stack.databaseUrl),
      redis: (await version('redis-server', ['--version'])).replace(/^Redis server v=(\S+).*/, '$1'),
      nginx: (await nginxVersion()) ?? 'unknown',
      wrk: (await version('wrk', ['-v'])).replace(/\s+Copyright.*/, ''),
    },
    settings: {
      apiProcesses: 1,
      api: compiled ? 'node dist/backend/api/server.js (compiled)' : 'TypeScript through tsx (dist/ missing)',
      users: USERS,
      wrk: `-t${THREADS} -c${CONNECTIONS}, keep-alive, loopback; wrk shares the ${os.cpus().length} CPUs with the server`,
      durationS,
      warmupS,
      cacheTtlSeconds: CACHE_TTL_SECONDS,
      apiEnv: 'NODE_ENV=production LOG_LEVEL=warn, defaults otherwise (DB_POOL_SIZE 10, rate limit off)',
      invalidAbove: 'errors > 0.1% of requests',
    },
    cases,
    allGoalsMet,
    profiles: [],
  };

  const toProfile = cases.filter((c) => c.goal !== undefined && (profileMode === '1' || (profileMode === 'auto' && !c.met)));
  for (const c of toProfile) report.profiles.push(await profileCase(stack, dir, specs[c.id]!));

  await mkdir(RESULTS, { recursive: true });
  await writeFile(path.join(RESULTS, 'backend.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(path.join(RESULTS, 'backend.md'), reportMarkdown(report));
  process.stdout.write(`\n${resultsTable(cases)}\n\n${cpuTable(cases)}\n\n`);
  for (const c of cases) for (const note of c.notes) process.stdout.write(`- ${c.title}: ${note}\n`);
  for (const p of report.profiles) process.stdout.write(`\nCPU profile of the api, ${p.caseId} (${p.note}):\n\n${p.markdown}`);
  say(`goals ${allGoalsMet ? 'met' : 'NOT met'}; wrote bench/results/backend.json and bench/results/backend.md`);
}

/** Restarts the api under --cpu-prof, runs the case again, and summarises the api's self time. */
async function profileCase(stack: BenchStack, dir: string, spec: CaseSpec): Promise<ProfileReport> {
  const profileDir = path.join(dir, `profile-${spec.id}`);
  await mkdir(profileDir, { recursive: true });
  say(`profiling ${spec.id}: restarting the api under --cpu-prof (cached users stay in Redis)`);
  await stack.stopApi();
  await stack.startApi(['--cpu-prof', `--cpu-prof-dir=${profileDir}`]);
  const profiled = await measure({ ...spec, url: stack.apiUrl, title: `${spec.title}, profiled` });
  await stack.stopApi();
  const file = (await readdir(profileDir)).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`the api wrote no .cpuprofile in ${profileDir}; its log ends:\n${await stack.apiLogTail()}`);
  const summary = await summarizeCpuProfile(path.join(profileDir, file), ROOT);
  return {
    caseId: spec.id,
    command: 'node --cpu-prof dist/backend/api/server.js',
    note:
      `whole process lifetime: start, ${warmupS} s warm-up and ${durationS} s at ${Math.round(profiled.wrk.rps)} req/s (profiler on); ` +
      `${summary.totalMs} ms sampled, ${summary.idleMs} ms of it idle; % are of the busy time`,
    totalMs: summary.totalMs,
    markdown: profileMarkdown(summary),
  };
}

main()
  .catch((err: unknown) => {
    if (harness.interrupted) return; // the killed wrk run's error is expected
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(async () => {
    say('stopping nginx, the api, Redis and PostgreSQL; removing temp folders');
    await cleanup();
  });
