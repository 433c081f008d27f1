import { readFile } from 'node:fs/promises';
import type { GeneratorHealth, Mix, TrafficProfile, TrafficSecond, TrafficSpec, TrafficSummary } from './contract.js';
import type { ControlClient } from './control/client.js';

/** A mistake in the traffic options (exit code 2). */
export class TrafficUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Options of `scalelab traffic`, as parsed by the CLI. */
export interface TrafficArgs {
  profile?: string;
  rps?: string;
  duration?: string;
  mix?: string;
  zipf?: string;
  uniform?: boolean;
  constant?: boolean;
  timeout?: string;
  period?: string;
  steps?: string;
  replay?: string;
}

/** "60s", "2m", "90" → seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new TrafficUsageError(`--duration must look like 60s, 2m or 90 (got "${text}")`);
  const n = Number(match[1]);
  return match[2] === 'ms' ? n / 1000 : match[2] === 'm' ? n * 60 : match[2] === 'h' ? n * 3600 : n;
}

function parseRange(text: string | undefined): [number, number] {
  if (text === undefined) return [100, 100];
  const parts = text.split('..').map((p) => Number(p.trim()));
  if (parts.length > 2 || parts.some((n) => !Number.isFinite(n) || n < 0))
    throw new TrafficUsageError(`--rps must be a rate like 200 or a range like 200..2000 (got "${text}")`);
  return [parts[0]!, parts[1] ?? parts[0]!];
}

const MIX_NAMES: Record<string, keyof Mix> = {
  read: 'read',
  write: 'write',
  list: 'list',
  missing: 'missing',
  'send-email': 'sendEmail',
  sendemail: 'sendEmail',
};

/** "read=90,write=10" → a mix (unnamed kinds get 0). */
export function parseMix(text: string): Mix {
  const mix: Mix = { read: 0, write: 0, list: 0, missing: 0, sendEmail: 0 };
  for (const part of text.split(',')) {
    const [name, value] = part.split('=').map((p) => p.trim());
    const key = MIX_NAMES[(name ?? '').toLowerCase()];
    const share = Number(value);
    if (!key || !Number.isFinite(share) || share < 0)
      throw new TrafficUsageError(`--mix takes name=percent pairs of read, write, list, missing, send-email (got "${part}")`);
    mix[key] = share;
  }
  return mix;
}

/** The TrafficSpec the options describe. */
export async function trafficSpec(args: TrafficArgs): Promise<TrafficSpec> {
  const kind = args.constant ? 'constant' : (args.profile ?? 'constant');
  const [a, b] = parseRange(args.rps);
  const durationS = args.duration ? parseDuration(args.duration) : undefined;
  const span = durationS ?? 60;
  let profile: TrafficProfile;
  switch (kind) {
    case 'constant':
      profile = { kind, rps: b };
      break;
    case 'ramp':
      profile = { kind, from: a, to: b, overS: span };
      break;
    case 'step': {
      const steps = args.steps ? Number(args.steps) : 5;
      profile = { kind, from: a, to: b, steps, everyS: span / (steps + 1) };
      break;
    }
    case 'spike':
      profile = { kind, base: a, peak: b, atS: span / 3, forS: span / 6 };
      break;
    case 'sine':
      profile = { kind, min: a, max: b, periodS: args.period ? parseDuration(args.period) : Math.min(60, span) };
      break;
    case 'replay': {
      if (!args.replay)
        throw new TrafficUsageError('--profile replay needs --replay FILE (rates per second, comma or newline separated, or a JSON array)');
      const text = await readFile(args.replay, 'utf8');
      const rates = text.trim().startsWith('[')
        ? (JSON.parse(text) as number[])
        : text
            .split(/[\s,]+/)
            .filter(Boolean)
            .map(Number);
      profile = { kind, rates };
      break;
    }
    default:
      throw new TrafficUsageError(`--profile must be constant, ramp, step, spike, sine or replay (got "${kind}")`);
  }
  return {
    profile,
    durationS,
    mix: args.mix ? parseMix(args.mix) : undefined,
    keys: args.uniform ? { distribution: 'uniform' } : { distribution: 'zipf', s: args.zipf ? Number(args.zipf) : 1.1 },
    timeoutMs: args.timeout ? Number(args.timeout) : undefined,
  };
}

const fmt = (n: number | null | undefined, d = 0) => (n === null || n === undefined ? '–' : n.toFixed(d));

/** The summary as the issue's JSON shape (client-observed), with the generator's own health. */
export function summaryJson(s: TrafficSummary) {
  return {
    offeredRps: s.offeredRps,
    achievedRps: s.achievedRps,
    requests: s.requests,
    p50Ms: s.p50Ms,
    p95Ms: s.p95Ms,
    p99Ms: s.p99Ms,
    errors: s.errors,
    droppedByClient: s.droppedByClient,
    acknowledgedWrites: s.acknowledgedWrites,
    generator: s.health ?? null,
  };
}

/** The generator's cpu and lag, compactly: "gen 0.12 cpu lag 1.2 ms". */
function generatorFigures(h: GeneratorHealth): string {
  return `gen ${h.busyCores.toFixed(2)} cpu lag ${fmt(h.lagP99Ms, 1)} ms`;
}

/** The line that says the load generator, not the stack, is the limit; null when it kept up. */
export function generatorLimitLine(h: GeneratorHealth | undefined, when: 'this second' | 'in this run'): string | null {
  if (!h?.limitedBy) return null;
  return `! the load generator is the bottleneck ${when} (${h.limitReason}): the client-observed figures understate the stack`;
}

/** One second of the run, client-observed, with the generator's own cpu and lag. */
export function secondLine(elapsedS: number, g: TrafficSecond): string {
  const e = g.errorsPerSec;
  const line = `[${String(elapsedS).padStart(4)} s] target ${fmt(g.targetRps).padStart(5)}  offered ${fmt(g.offeredRps).padStart(5)}  achieved ${fmt(g.achievedRps).padStart(5)} req/s  p50 ${fmt(g.p50, 1).padStart(6)}  p95 ${fmt(g.p95, 1).padStart(6)}  p99 ${fmt(g.p99, 1).padStart(6)} ms  errors ${fmt(e.timeout + e.refused + e.http4xx + e.http5xx)}/s  dropped ${fmt(g.droppedPerSec)}/s`;
  const limit = generatorLimitLine(g.health, 'this second');
  return `${line}${g.health ? `  ${generatorFigures(g.health)}` : ''}${limit ? `\n${limit}` : ''}`;
}

function summaryTable(s: TrafficSummary): string {
  const rows = [
    ['duration', `${s.durationS} s`],
    ['requests', String(s.requests)],
    ['offered', `${s.offeredRps} req/s`],
    ['achieved', `${s.achievedRps} req/s`],
    ['latency p50 / p95 / p99', `${fmt(s.p50Ms, 1)} / ${fmt(s.p95Ms, 1)} / ${fmt(s.p99Ms, 1)} ms`],
    ['errors', `timeout ${s.errors.timeout}, refused ${s.errors.refused}, 4xx ${s.errors.http4xx}, 5xx ${s.errors.http5xx}`],
    ['dropped by client', String(s.droppedByClient)],
    ['acknowledged writes', String(s.acknowledgedWrites)],
  ];
  const h = s.health;
  if (h) {
    rows.push([
      'generator cpu',
      `${h.busyCores.toFixed(2)} cores at most, busiest of ${h.threads} thread${h.threads === 1 ? '' : 's'} ${Math.round(h.busiestThread * 100)} %`,
    ]);
    rows.push(['generator lag p99 / max', `${fmt(h.lagP99Ms, 1)} / ${fmt(h.lagMaxMs, 1)} ms`]);
    rows.push([
      'generator the limit',
      h.limitedBy ? `yes, ${h.limitedSeconds} s` : h.limitedSeconds > 0 ? `no (${h.limitedSeconds} s of it)` : 'no',
    ]);
  }
  const width = Math.max(...rows.map((r) => r[0]!.length));
  const limit = generatorLimitLine(h, 'in this run');
  return rows.map(([k, v]) => `  ${k!.padEnd(width)}  ${v}`).join('\n') + (limit ? `\n\n${limit}` : '');
}

/**
 * `scalelab traffic …`: starts a run, prints one line per second, and at the end (its duration,
 * or Ctrl-C) stops it and prints the summary (or, with --json, one JSON object).
 */
export async function runTraffic(client: ControlClient, args: TrafficArgs, json: boolean): Promise<number> {
  const spec = await trafficSpec(args);
  const startedAt = Date.now();
  // Only this run's seconds: none before it started, none of a run that has ended.
  let started = false;
  let finished = false;
  // One line per sample, each a second later than the last, even when two samples arrive close together.
  let lastLabel = 0;
  const off = client.on('sample', (sample) => {
    const g = sample.generator;
    if (!g || !g.running || !started || finished || json) return;
    lastLabel = Math.max(lastLabel + 1, Math.round((Date.now() - startedAt) / 1000));
    console.log(secondLine(lastLabel, g));
  });
  await client.call('traffic:start', spec);
  started = true;
  if (!json)
    console.log(
      `Traffic: ${spec.profile.kind}${spec.durationS ? ` for ${spec.durationS} s` : ' until Ctrl-C'} at the stack's balancer; figures are client-observed (the load generator's view), "gen" is its own cpu (cores) and scheduling lag p99`,
    );
  await new Promise<void>((resolve) => {
    const onInt = () => resolve();
    process.once('SIGINT', onInt);
    if (spec.durationS !== undefined)
      setTimeout(
        () => {
          process.off('SIGINT', onInt);
          resolve();
        },
        spec.durationS * 1000 + 300,
      );
  });
  finished = true;
  off();
  const summary = await client.call('traffic:stop', {});
  if (json) console.log(JSON.stringify(summaryJson(summary), null, 2));
  else console.log(`\nSummary (client-observed)\n${summaryTable(summary)}`);
  return 0;
}
