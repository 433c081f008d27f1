import { parseDuration } from './cli-traffic.js';
import type { GuardSetInput, GuardStatus } from './contract.js';
import type { ControlClient } from './control/client.js';

/** A mistake in the guard's options (exit code 2). */
export class GuardUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

const USAGE = 'usage: scalelab guard on [--errors 5] [--for 5s] | guard off | guard status';

/** The `guard:set` payload of `scalelab guard on|off`. */
export function guardInput(action: string | undefined, args: { errors?: string; for?: string }): GuardSetInput {
  if (action === 'off') {
    if (args.errors !== undefined || args.for !== undefined) throw new GuardUsageError('`guard off` takes no --errors or --for');
    return { enabled: false };
  }
  if (action !== 'on') throw new GuardUsageError(USAGE);
  const input: GuardSetInput = { enabled: true };
  if (args.errors !== undefined) {
    const n = Number(args.errors.replace(/%$/, ''));
    if (!Number.isFinite(n) || n <= 0 || n > 100)
      throw new GuardUsageError(`--errors must be a share of requests in percent, above 0 and up to 100 (got "${args.errors}")`);
    input.errorPercent = n;
  }
  if (args.for !== undefined) {
    let seconds: number;
    try {
      seconds = parseDuration(args.for);
    } catch {
      throw new GuardUsageError(`--for must look like 5s or 1m (got "${args.for}")`);
    }
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > 600)
      throw new GuardUsageError(`--for must be whole seconds from 1 s to 10 min (got "${args.for}")`);
    input.seconds = seconds;
  }
  return input;
}

/** The guard in a few lines. */
export function guardText(status: GuardStatus): string {
  const lines = [
    status.enabled
      ? `Safety guard on: errors ≥ ${status.errorPercent} % for ${status.seconds} s stop traffic and chaos`
      : 'Safety guard off',
  ];
  if (status.enabled)
    lines.push(
      `  now: ${status.lastErrorPercent === null ? 'no requests this second' : `errors ${status.lastErrorPercent} %`}, ${status.badSeconds} of ${status.seconds} bad seconds in a row`,
    );
  if (status.tripped) {
    lines.push(`  tripped at ${new Date(status.tripped.at).toLocaleTimeString('en-GB', { hour12: false })}: ${status.tripped.reason}`);
    lines.push(`  it ${status.tripped.stopped.length > 0 ? status.tripped.stopped.join('; ') : 'found nothing running to stop'}`);
  }
  return lines.join('\n');
}

export async function runGuard(
  client: ControlClient,
  rest: string[],
  args: { errors?: string; for?: string },
  json: boolean,
): Promise<number> {
  const [action] = rest;
  if (rest.length > 1) throw new GuardUsageError(USAGE);
  const status =
    action === 'status' || action === undefined
      ? await client.call('guard:status', {})
      : await client.call('guard:set', guardInput(action, args));
  console.log(json ? JSON.stringify(status, null, 2) : guardText(status));
  return 0;
}
