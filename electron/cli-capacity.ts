/**
 * `scalelab capacity`: the capacity search and the scaling curve from the command line. One line
 * per step as it ends, then the curve's table and the fitted law; Ctrl-C stops the search and
 * prints what it found so far.
 */
import type { CapacityBaselineInfo, CapacityRun, CapacityStatus, CapacityStep } from './contract.js';
import { BASELINE_NAME_PATTERN, MAX_REPLICAS } from './contract.js';
import { capacityDeltas, deltaText } from './capacity-law.js';
import type { ControlClient } from './control/client.js';
import { probeText } from './control/capacity/curve.js';
import { limitLabel } from './control/capacity/knee.js';
import { parseDuration, parseMix, TrafficUsageError } from './cli-traffic.js';

/** A mistake in the capacity options (exit code 2). */
export class CapacityUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Options of `scalelab capacity`, as parsed by the CLI. */
export interface CapacityArgs {
  replicas?: string;
  p99?: string;
  errors?: string;
  step?: string;
  'min-rps'?: string;
  'max-rps'?: string;
  mix?: string;
  zipf?: string;
  uniform?: boolean;
  save?: string;
  compare?: string;
  baselines?: boolean;
}

const BASELINE_NAME = new RegExp(BASELINE_NAME_PATTERN);

function baselineName(flag: string, name: string | undefined): string | undefined {
  if (name !== undefined && !BASELINE_NAME.test(name))
    throw new CapacityUsageError(
      `${flag} takes a baseline name: letters, digits, ".", "_" and "-", up to 64, e.g. before-pool-change (got "${name.slice(0, 80)}")`,
    );
  return name;
}

function positive(name: string, text: string | undefined, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text.trim().replace(/ms$|%$/, ''));
  if (!Number.isFinite(n) || n <= 0 || n > max)
    throw new CapacityUsageError(`${name} must be a number above 0 and at most ${max} (got "${text}")`);
  return n;
}

/** The `capacity:run` payload the options describe. */
export function capacityRequest(args: CapacityArgs): CapacityRun {
  let replicas: number[] | undefined;
  if (args.replicas !== undefined) {
    replicas = args.replicas.split(',').map((part) => Number(part.trim()));
    if (replicas.some((n) => !Number.isInteger(n) || n < 1 || n > MAX_REPLICAS) || replicas.length > 12) {
      throw new CapacityUsageError(
        `--replicas takes up to 12 replica counts from 1 to ${MAX_REPLICAS}, comma separated, e.g. 1,2,4 (got "${args.replicas}")`,
      );
    }
  }
  const errors = args.errors === undefined ? undefined : Number(args.errors.trim().replace(/%$/, ''));
  if (errors !== undefined && !(Number.isFinite(errors) && errors >= 0 && errors <= 100))
    throw new CapacityUsageError(`--errors is a percentage from 0 to 100, e.g. 0.1 (got "${args.errors}")`);
  let stepS: number | undefined;
  try {
    stepS = args.step === undefined ? undefined : parseDuration(args.step);
    const mix = args.mix ? parseMix(args.mix) : undefined;
    if (stepS !== undefined && (stepS < 1 || stepS > 300))
      throw new CapacityUsageError(`--step must be from 1s to 300s (got "${args.step}")`);
    const p99Ms = positive('--p99', args.p99, 60_000);
    const slo =
      p99Ms !== undefined || errors !== undefined
        ? { ...(p99Ms !== undefined ? { p99Ms } : {}), ...(errors !== undefined ? { errorPercent: errors } : {}) }
        : undefined;
    return {
      ...(replicas ? { replicas } : {}),
      ...(slo ? { slo } : {}),
      ...(stepS !== undefined ? { stepS } : {}),
      ...(args['min-rps'] !== undefined ? { minRps: positive('--min-rps', args['min-rps'], 1_000_000) } : {}),
      ...(args['max-rps'] !== undefined ? { maxRps: positive('--max-rps', args['max-rps'], 1_000_000) } : {}),
      ...(mix ? { mix } : {}),
      ...(baselineName('--compare', args.compare) ? { compare: args.compare } : {}),
      keys: args.uniform ? { distribution: 'uniform' } : { distribution: 'zipf', s: args.zipf ? Number(args.zipf) : 1.1 },
    };
  } catch (err) {
    if (err instanceof TrafficUsageError) throw new CapacityUsageError(err.message.replace('--duration', '--step'));
    throw err;
  }
}

const fmt = (n: number | null | undefined, d = 0) => (n === null || n === undefined ? '–' : n.toFixed(d));

/** One step as it ended: "[api 2] step 3  ramp    800 req/s  pass  p99 12.3 ms, errors 0 %  (achieved 799)". */
export function stepLine(step: CapacityStep, index: number): string {
  return `[api ${step.replicas}] step ${String(index).padStart(2)}  ${step.phase.padEnd(6)} ${String(step.targetRps).padStart(6)} req/s  ${step.verdict.padEnd(7)} ${step.reason}  (achieved ${fmt(step.achievedRps)} req/s)`;
}

/** The curve's table and the fitted law, from the status (the same curveOf the panel and the report read). */
export function capacityTable(status: CapacityStatus): string {
  const baseline = status.baseline ?? null;
  const deltas = baseline ? capacityDeltas(status.curve, baseline.curve) : [];
  const rps = (n: number | null) => (n === null ? '–' : `${n} req/s`);
  const rows = [
    ['replicas', 'capacity', ...(baseline ? [`"${baseline.name}"`, 'change'] : []), 'efficiency', 'outcome', 'limit at the knee'],
  ];
  for (const [i, point] of status.curve.entries()) {
    const result = status.results[i]!;
    const d = deltas.find((x) => x.replicas === point.replicas);
    rows.push([
      String(point.replicas),
      rps(point.capacityRps),
      ...(baseline ? [rps(d?.baselineRps ?? null), d ? deltaText(d) : '–'] : []),
      fmt(point.efficiency, 2),
      result.outcome,
      point.limit ? `${limitLabel(point.limit)}: ${point.limit.evidence}` : '–',
    ]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const table = rows.map((r) => `  ${r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ')}`).join('\n');
  const f = status.fit;
  const law = f
    ? `Universal Scalability Law: λ ${fmt(f.lambda, 1)} req/s per replica, σ (contention) ${f.sigma.toFixed(4)}, κ (coherency) ${f.kappa.toFixed(5)}, R² ${f.r2.toFixed(3)}, peak at N* = ${f.peakN === null ? '∞ (no coherency cost measured)' : fmt(f.peakN, 1)}`
    : `Universal Scalability Law: not fitted (${status.fitError ?? 'fewer than two replica counts measured'})`;
  const then = baseline?.fit
    ? `\n  baseline "${baseline.name}" (saved ${new Date(baseline.savedAt).toISOString().slice(0, 16).replace('T', ' ')} UTC${baseline.apiCpu ? `, api ${baseline.apiCpu}` : ''}): λ ${fmt(baseline.fit.lambda, 1)} req/s, σ ${baseline.fit.sigma.toFixed(4)}, κ ${baseline.fit.kappa.toFixed(5)}`
    : '';
  return `${table}\n\n  ${law}${then}`;
}

/** The saved baselines, one line each. */
export function baselinesText(list: readonly CapacityBaselineInfo[]): string {
  if (list.length === 0) return 'No capacity baselines saved yet: scalelab capacity --replicas 1,2,4 --save NAME';
  const lines = list.map(
    (b) =>
      `  ${b.name.padEnd(24)} ${new Date(b.savedAt).toISOString().slice(0, 16).replace('T', ' ')} UTC  ${b.stack ?? '–'}${b.apiCpu ? ` (api ${b.apiCpu})` : ''}  ${b.points.map((p) => `${p.replicas}: ${p.capacityRps ?? '–'}`).join(', ')} req/s`,
  );
  return `Capacity baselines (newest first):\n${lines.join('\n')}`;
}

/** Runs the search, printing each step; resolves with the exit code (0 done or stopped, 1 failed). */
export async function runCapacity(client: ControlClient, args: CapacityArgs, json: boolean): Promise<number> {
  if (args.baselines) {
    const list = await client.call('capacity:baselines', {});
    console.log(json ? JSON.stringify(list, null, 2) : baselinesText(list));
    return 0;
  }
  const save = baselineName('--save', args.save);
  const request = capacityRequest(args);
  let printed = 0;
  const probed = new Set<number>();
  let last: CapacityStatus | undefined;
  let resolveEnd: (status: CapacityStatus) => void = () => undefined;
  const ended = new Promise<CapacityStatus>((resolve) => (resolveEnd = resolve));
  const off = client.on('capacity', (status) => {
    last = status;
    const steps = [...status.results.flatMap((r) => r.steps), ...(status.current?.steps ?? [])];
    const current = status.current;
    if (!json && current && current.probe !== undefined && !probed.has(current.replicas)) {
      probed.add(current.replicas);
      console.log(`[api ${current.replicas}] probe: ${probeText(current.probe)}`);
    }
    if (!json) for (; printed < steps.length; printed += 1) console.log(stepLine(steps[printed]!, printed + 1));
    else printed = steps.length;
    if (status.state !== 'running' && status.state !== 'idle') resolveEnd(status);
  });
  const first = await client.call('capacity:run', request);
  const slo = first.slo;
  if (!json)
    console.log(
      `Capacity search at api ${first.replicas.join(', ')}: the highest constant arrival rate with p99 < ${slo.p99Ms} ms and errors < ${slo.errorPercent} % over ${first.stepS} s steps (client-observed). Ctrl-C stops with what was found so far.`,
    );
  const onInt = () => {
    if (!json) console.log('stopping the search…');
    void client.call('capacity:stop', {}).then(resolveEnd, () => undefined);
  };
  process.once('SIGINT', onInt);
  const status = await ended;
  process.off('SIGINT', onInt);
  off();
  const final = last && last.endedAt !== null ? last : status;
  if (json) console.log(JSON.stringify(final, null, 2));
  else {
    console.log(
      `\nCapacity ${final.state === 'done' ? '' : `(${final.state}) `}— SLO p99 < ${slo.p99Ms} ms, errors < ${slo.errorPercent} %, ${final.stepS} s steps, ${(((final.endedAt ?? Date.now()) - (final.startedAt ?? Date.now())) / 1000).toFixed(0)} s in all`,
    );
    console.log(capacityTable(final));
    if (final.error) console.log(`\n! ${final.error}`);
  }
  if (save && final.state !== 'failed' && final.results.length > 0) {
    const saved = await client.call('capacity:save', { name: save });
    if (!json) console.log(`\nSaved as baseline "${saved.name}": compare a later run with scalelab capacity --compare ${saved.name}`);
  }
  return final.state === 'failed' ? 1 : 0;
}
