/**
 * Data-layer benchmark: what a streaming read replica buys the reads that miss the cache, what
 * read-your-writes costs the writes, and how far the replica trails under a write load.
 *
 * One api process over embedded PostgreSQL and a local Redis, 10,000 users, the cache off
 * (CACHE_TTL_SECONDS=0) so every GET /users/:id is a database read. wrk (-t2 -c64, loopback, a
 * short unrecorded warm-up, then BENCH_DURATION_S seconds) runs each case twice in one run:
 *   1. primary only: GET /users/:id (random ids), then POST /users;
 *   2. the same api restarted with DATABASE_REPLICA_URL pointing at a replica seeded by the local
 *      runtime's own code: the same GET (now served by the replica) and POST (which now also reads
 *      the commit's WAL position for read-your-writes), sampling pg_stat_replication every 100 ms.
 * Figures are ratios of case 2 to case 1, measured minutes apart on the same machine; the
 * replication lag is given in bytes and ms, and as a share of a second of WAL at that write rate.
 *
 * Env: BENCH_DURATION_S (15), BENCH_WARMUP_S (3).
 * Writes bench/results/data-layer.json and bench/results/data-layer.md.
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { percentile } from './lib/control-report.js';
import { cpuPercent, cpuSnapshot } from './lib/cpu.js';
import { createHarness, envNumber, machineFacts } from './lib/harness.js';
import { BenchStack, loadBackendProcess } from './lib/stack.js';
import { killWrk, runWrk, type WrkResult } from './lib/wrk.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS = path.join(ROOT, 'bench', 'results');
const USERS = 10_000;
const THREADS = 2;
const CONNECTIONS = 64;
const LAG_SAMPLE_MS = 100;

const durationS = envNumber('BENCH_DURATION_S', 15);
const warmupS = envNumber('BENCH_WARMUP_S', 3);
const harness = createHarness(killWrk);
const { say, cleanup } = harness;

interface Measured {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** % of one core, by process group */
  cpu: Record<string, number>;
}

interface LagFigures {
  samples: number;
  bytes: { p50: number; p95: number; max: number };
  ms: { p50: number; p95: number; max: number };
  walBytesPerSecond: number;
}

/** Sums a counter (all label sets matching `labels`) from a Prometheus text. */
function counter(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})?\s+(\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const set = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => set[k] === v)) total += Number(m[4]);
  }
  return total;
}

async function reads(stack: BenchStack): Promise<{ primary: number; replica: number }> {
  const text = await (await fetch(`${stack.apiUrl}/metrics`)).text();
  return {
    primary: counter(text, 'db_reads_total', { target: 'primary' }),
    replica: counter(text, 'db_reads_total', { target: 'replica' }),
  };
}

async function measure(stack: BenchStack, title: string, script: string, args: (phase: string) => string[]): Promise<Measured> {
  const common = { url: stack.apiUrl, script, threads: THREADS, connections: CONNECTIONS, cwd: ROOT };
  say(`${title}: warm-up ${warmupS} s, then ${durationS} s`);
  await runWrk({ ...common, durationS: warmupS, scriptArgs: args('warmup') });
  const before = await cpuSnapshot(stack.pids());
  const wrk: WrkResult = await runWrk({ ...common, durationS, scriptArgs: args('run') });
  const cpu = cpuPercent(before, await cpuSnapshot(stack.pids()));
  const errors = wrk.non2xx3xx + wrk.socketErrors.connect + wrk.socketErrors.read + wrk.socketErrors.write + wrk.socketErrors.timeout;
  say(`  ${Math.round(wrk.rps)} req/s, p50 ${wrk.latencyMs.p50.toFixed(2)} ms, p99 ${wrk.latencyMs.p99.toFixed(2)} ms, errors ${errors}`);
  say(
    `  CPU (% of one core): ${Object.entries(cpu)
      .filter(([, v]) => Number.isFinite(v))
      .map(([k, v]) => `${k} ${v}%`)
      .join(', ')}`,
  );
  return { rps: Math.round(wrk.rps), p50Ms: wrk.latencyMs.p50, p99Ms: wrk.latencyMs.p99, errors, cpu: cpu as Record<string, number> };
}

/** {@link percentile}, 0 when nothing was sampled (as the results have always shown it). */
function percentileOr0(values: number[], p: number): number {
  return values.length === 0 ? 0 : percentile(values, p);
}

/** Samples the primary's view of the replica's replay lag until `stop` is called. */
function sampleLag(adminUrl: string): { stop(): Promise<LagFigures> } {
  const client = new pg.Client({ connectionString: adminUrl });
  const bytes: number[] = [];
  const ms: number[] = [];
  let running = true;
  let startLsn = '';
  let startedAt = 0;
  const loop = (async () => {
    await client.connect();
    startLsn = (await client.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn;
    startedAt = Date.now();
    while (running) {
      const { rows } = await client.query<{ bytes: string | null; ms: string | null }>(
        `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint AS bytes,
                (extract(epoch FROM coalesce(replay_lag, interval '0')) * 1000)::float8 AS ms
           FROM pg_stat_replication LIMIT 1`,
      );
      if (rows[0]?.bytes != null) {
        bytes.push(Number(rows[0].bytes));
        ms.push(Number(rows[0].ms ?? 0));
      }
      await new Promise((resolve) => setTimeout(resolve, LAG_SAMPLE_MS));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      const { rows } = await client.query<{ wal: string }>('SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::bigint AS wal', [
        startLsn,
      ]);
      await client.end();
      const seconds = (Date.now() - startedAt) / 1000;
      return {
        samples: bytes.length,
        bytes: { p50: percentileOr0(bytes, 50), p95: percentileOr0(bytes, 95), max: Math.max(0, ...bytes) },
        ms: { p50: percentileOr0(ms, 50), p95: percentileOr0(ms, 95), max: Math.max(0, ...ms) },
        walBytesPerSecond: Math.round(Number(rows[0]!.wal) / seconds),
      };
    },
  };
}

const ratio = (a: number, b: number) => (b > 0 ? Number((a / b).toFixed(2)) : null);
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

function markdown(report: {
  date: string;
  machine: Record<string, string | number>;
  cases: Record<string, Measured>;
  ratios: Record<string, number | null>;
  lag: LagFigures;
  replicaShare: number;
}): string {
  const { cases, ratios, lag } = report;
  const row = (id: string, title: string) => {
    const c = cases[id]!;
    // A process that did not run in the case (the replica before it exists) has no figure.
    const cpu = Object.entries(c.cpu)
      .filter(([, v]) => Number.isFinite(v))
      .map(([k, v]) => `${k} ${v}%`)
      .join(', ');
    return `| ${title} | ${c.rps} | ${c.p50Ms.toFixed(2)} | ${c.p99Ms.toFixed(2)} | ${c.errors} | ${cpu} |`;
  };
  return [
    '# Data-layer benchmark',
    '',
    `${report.date}; ${Object.entries(report.machine)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.`,
    `One api process, ${USERS.toLocaleString('en')} users, cache off (every GET is a database read), wrk -t${THREADS} -c${CONNECTIONS} on loopback, ${durationS} s after a ${warmupS} s warm-up.`,
    '',
    '| case | req/s | p50 ms | p99 ms | errors | CPU (% of one core) |',
    '|---|---|---|---|---|---|',
    row('get-primary', 'GET /users/:id, primary only'),
    row('get-replica', 'GET /users/:id, with the replica'),
    row('post-primary', 'POST /users, primary only'),
    row('post-replica', 'POST /users, with the replica (read-your-writes LSN)'),
    '',
    `- Cache-missed reads with the replica / without: **${ratios.getReplicaOverPrimary}** (${(report.replicaShare * 100).toFixed(1)} % of database reads went to the replica).`,
    `- Writes with the replica / without: **${ratios.postReplicaOverPrimary}** (each write batch also reads its commit's WAL position).`,
    `- Replication lag during the write run (${lag.samples} samples every ${LAG_SAMPLE_MS} ms): p50 ${kib(lag.bytes.p50)}, p95 ${kib(lag.bytes.p95)}, max ${kib(lag.bytes.max)}; replay_lag p50 ${lag.ms.p50.toFixed(1)} ms, p95 ${lag.ms.p95.toFixed(1)} ms, max ${lag.ms.max.toFixed(1)} ms.`,
    `- WAL written: ${kib(lag.walBytesPerSecond)}/s, so the p95 lag is ${ratios.lagP95OverWalSecond} of one second of WAL.`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const { helper, compiled } = await loadBackendProcess(ROOT);
  if (!compiled) say('warning: dist/ is missing, so the api runs through tsx; run `npm run build` first for real figures');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'scalelab-bench-data-'));
  harness.onCleanup(() => rm(dir, { recursive: true, force: true }));
  await chmod(dir, 0o755);
  const stack = await BenchStack.create({
    helper,
    dir,
    apiEnv: { LOG_LEVEL: 'warn', CACHE_TTL_SECONDS: '0', EVENTS: 'false', SHUTDOWN_GRACE_MS: '5000' },
    onProgress: say,
  });
  harness.onCleanup(() => stack.stop());
  await stack.start();
  await stack.startApi();
  const { minId, maxId } = await stack.seed(USERS);
  say(`seeded ${USERS} users (ids ${minId}..${maxId})`);
  const randomIds = () => [String(minId), String(maxId)];
  const tag = (phase: string) => [`${Date.now().toString(36)}-${phase}`];

  const cases: Record<string, Measured> = {};
  cases['get-primary'] = await measure(stack, 'GET /users/:id, primary only', 'bench/lua/get-random-id.lua', randomIds);
  cases['post-primary'] = await measure(stack, 'POST /users, primary only', 'bench/lua/post-user.lua', tag);

  say('seeding a streaming replica and restarting the api with DATABASE_REPLICA_URL');
  await stack.startReplica();
  await stack.stopApi();
  await stack.startApi();
  const before = await reads(stack);
  cases['get-replica'] = await measure(stack, 'GET /users/:id, with the replica', 'bench/lua/get-random-id.lua', randomIds);
  const after = await reads(stack);
  const replicaReads = after.replica - before.replica;
  const replicaShare = replicaReads / Math.max(1, replicaReads + after.primary - before.primary);
  if (replicaShare < 0.5)
    throw new Error(`only ${(replicaShare * 100).toFixed(1)} % of reads went to the replica: the api is not routing to it (see its log)`);
  const lagSampler = sampleLag(stack.adminUrl);
  cases['post-replica'] = await measure(stack, 'POST /users, with the replica', 'bench/lua/post-user.lua', tag);
  const lag = await lagSampler.stop();

  const ratios = {
    getReplicaOverPrimary: ratio(cases['get-replica']!.rps, cases['get-primary']!.rps),
    postReplicaOverPrimary: ratio(cases['post-replica']!.rps, cases['post-primary']!.rps),
    lagP95OverWalSecond: ratio(lag.bytes.p95, lag.walBytesPerSecond),
  };
  const report = {
    date: new Date().toISOString(),
    machine: machineFacts(),
    settings: { users: USERS, durationS, warmupS, threads: THREADS, connections: CONNECTIONS },
    cases,
    ratios,
    lag,
    replicaShare,
  };
  await mkdir(RESULTS, { recursive: true });
  await writeFile(path.join(RESULTS, 'data-layer.json'), `${JSON.stringify(report, null, 2)}\n`);
  const md = markdown(report);
  await writeFile(path.join(RESULTS, 'data-layer.md'), md);
  process.stdout.write(`\n${md}\n`);
  say('wrote bench/results/data-layer.json and bench/results/data-layer.md');
}

main()
  .catch((err: unknown) => {
    if (harness.interrupted) return;
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(async () => {
    say('stopping the api, the replica, Redis and PostgreSQL; removing temp folders');
    await cleanup();
  });
