import { parseDuration } from './cli-traffic.js';
import type { ChaosAction, ChaosStatus, WriteCheck } from './contract.js';
import type { ControlClient } from './control/client.js';

/** A mistake in the chaos options (exit code 2). */
export class ChaosUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Options of `scalelab chaos`, as parsed by the CLI. */
export interface ChaosArgs {
  for?: string;
  db?: string;
  cache?: string;
  rate?: string;
  interval?: string;
  'max-down'?: string;
  graceful?: boolean;
  seconds?: string;
  threads?: string;
  ms?: string;
}

export const CHAOS_USAGE = `usage:
  scalelab chaos kill <instance|random-api|random-worker> [--graceful]
  scalelab chaos pause|resume <instance>
  scalelab chaos kill-cache [--for 10s]      scalelab chaos kill-db [--for 5s]
  scalelab chaos kill-replica [--for 10s]    scalelab chaos replica-delay --ms 2s [--for 30s]
  scalelab chaos kill-relay [--for 10s]      scalelab chaos kill-projector [--for 10s]
  scalelab chaos latency <instance|all> --db 200ms|--cache 50ms
  scalelab chaos errors <instance|all> --rate 0.2
  scalelab chaos cpu|leak|block <instance>
  scalelab chaos clear | status
  scalelab chaos monkey on|off [--interval 5s] [--max-down 1]`;

function ms(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  try {
    return Math.round(parseDuration(value) * 1000);
  } catch {
    throw new ChaosUsageError(`--${name} must look like 200ms, 2s or 1.5 (seconds) (got "${value}")`);
  }
}

function needTarget(target: string | undefined, what: string): string {
  if (!target) throw new ChaosUsageError(`chaos ${what} needs an instance (\`scalelab status\` lists them)\n${CHAOS_USAGE}`);
  return target;
}

/** The `chaos:inject` action of `scalelab chaos <what> [target] [options]`. */
export function chaosAction(what: string, target: string | undefined, args: ChaosArgs): ChaosAction {
  switch (what) {
    case 'kill':
      return { action: 'kill', target: needTarget(target, what), ...(args.graceful ? { graceful: true } : {}) };
    case 'pause':
    case 'resume':
      return { action: what, target: needTarget(target, what) };
    case 'replica-delay': {
      const delayMs = ms('ms', args.ms);
      if (delayMs === undefined) throw new ChaosUsageError('chaos replica-delay needs --ms 2s (how far the replica\'s replay trails; 0 ends it)');
      const forMs = ms('for', args.for);
      return { action: 'replica-delay', ms: delayMs, ...(forMs !== undefined ? { forSeconds: Math.max(1, forMs / 1000) } : {}) };
    }
    case 'kill-cache':
    case 'kill-db':
    case 'kill-replica':
    case 'kill-relay':
    case 'kill-projector': {
      const forMs = ms('for', args.for);
      return { action: what, ...(forMs !== undefined ? { forSeconds: forMs / 1000 } : {}) };
    }
    case 'latency': {
      const dbMs = ms('db', args.db);
      const cacheMs = ms('cache', args.cache);
      if (dbMs === undefined && cacheMs === undefined) throw new ChaosUsageError('chaos latency needs --db 200ms and/or --cache 50ms');
      return { action: 'latency', target: needTarget(target, what), ...(dbMs !== undefined ? { dbMs } : {}), ...(cacheMs !== undefined ? { cacheMs } : {}) };
    }
    case 'errors': {
      const rate = Number(args.rate);
      if (args.rate === undefined || !Number.isFinite(rate) || rate < 0 || rate > 1) throw new ChaosUsageError(`chaos errors needs --rate between 0 and 1 (got "${args.rate ?? ''}")`);
      return { action: 'errors', target: needTarget(target, what), rate };
    }
    case 'cpu':
      return { action: 'cpu', target: needTarget(target, what), ...(args.seconds ? { seconds: Number(args.seconds) } : {}), ...(args.threads ? { threads: Number(args.threads) } : {}) };
    case 'leak':
      return { action: 'leak', target: needTarget(target, what) };
    case 'block': {
      const blockMs = ms('ms', args.ms);
      return { action: 'block', target: needTarget(target, what), ...(blockMs !== undefined ? { ms: blockMs } : {}) };
    }
    case 'monkey': {
      if (target !== 'on' && target !== 'off') throw new ChaosUsageError('usage: scalelab chaos monkey on|off [--interval 5s] [--max-down 1]');
      const interval = ms('interval', args.interval);
      const maxDown = args['max-down'] === undefined ? undefined : Number(args['max-down']);
      if (maxDown !== undefined && (!Number.isInteger(maxDown) || maxDown < 1 || maxDown > 10)) throw new ChaosUsageError(`--max-down must be a whole number from 1 to 10 (got "${args['max-down']}")`);
      return { action: 'monkey', enabled: target === 'on', ...(interval !== undefined ? { intervalSeconds: interval / 1000 } : {}), ...(maxDown !== undefined ? { maxDown } : {}) };
    }
    default:
      throw new ChaosUsageError(CHAOS_USAGE);
  }
}

function printStatus(status: ChaosStatus): void {
  if (status.message) console.log(status.message);
  const m = status.monkey;
  console.log(`Chaos Monkey ${m.enabled ? `on: every ~${m.intervalSeconds} s, at most ${m.maxDown} down` : 'off'} (${m.kills} kill${m.kills === 1 ? '' : 's'})`);
  if (status.faults.length === 0) console.log('No fault in force.');
  for (const f of status.faults) console.log(`  ${f.action.padEnd(10)} ${f.target.padEnd(9)} ${f.detail}${f.until ? ` (until ${new Date(f.until).toLocaleTimeString('en-GB', { hour12: false })})` : ''}`);
}

/** Runs `scalelab chaos …`; returns the exit code. */
export async function runChaos(client: ControlClient, rest: string[], args: ChaosArgs, json: boolean): Promise<number> {
  const [what, target] = rest;
  if (!what) throw new ChaosUsageError(CHAOS_USAGE);
  const status =
    what === 'status' ? await client.call('chaos:status', {}) : what === 'clear' ? await client.call('chaos:clear', {}) : await client.call('chaos:inject', chaosAction(what, target, args));
  if (json) console.log(JSON.stringify(status, null, 2));
  else printStatus(status);
  return 0;
}

/** Runs `scalelab verify`: exit code 0 when nothing is lost or duplicated, 1 otherwise. */
export async function runVerify(client: ControlClient, json: boolean): Promise<number> {
  const check: WriteCheck = await client.call('writes:verify', {});
  const bad = check.lost > 0 || check.duplicated > 0;
  if (json) {
    const { acknowledged, verified, lost, duplicated, lostIds } = check;
    console.log(JSON.stringify({ acknowledged, verified, lost, duplicated, lostIds }, null, 2));
  } else {
    console.log(`writes: ${check.acknowledged} acknowledged, ${check.verified} verified, ${check.lost} lost, ${check.duplicated} duplicated`);
    if (check.lost > 0) console.log(`lost ids: ${check.lostIds.slice(0, 50).join(', ')}${check.lostIds.length > 50 ? ', …' : ''}`);
    if (check.acknowledged === 0) console.log('No write was acknowledged yet: fire traffic with writes first (scalelab traffic --mix read=80,write=20).');
  }
  return bad ? 1 : 0;
}
