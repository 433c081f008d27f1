import type { ChaosAction, ChaosStatus, WriteCheck } from './contract.js';
import type { ControlClient } from './control/client.js';
import { actionName, ChaosUsageError, type ChaosActionModule, type ChaosArgs } from './chaos/action-kit.js';
import { CHAOS_ACTIONS } from './chaos/actions/index.js';

export { ChaosUsageError, type ChaosArgs };

const MODULES = new Map<string, ChaosActionModule>(CHAOS_ACTIONS.map((m) => [actionName(m as ChaosActionModule), m as ChaosActionModule]));

/** `scalelab chaos` usage: one line per action (from its module), then clear and status. */
export const CHAOS_USAGE_LINES = [...[...MODULES.values()].map((m) => `scalelab chaos ${m.usage}`), 'scalelab chaos clear | status'];
export const CHAOS_USAGE = `usage:\n${CHAOS_USAGE_LINES.map((line) => `  ${line}`).join('\n')}`;

/** The options the chaos actions read, for the CLI's option table (one entry per name). */
export const CHAOS_OPTIONS: Record<string, { type: 'string' | 'boolean' }> = Object.assign(
  {},
  ...[...MODULES.values()].map((m) => m.options ?? {}),
);

/** The `chaos:inject` action of `scalelab chaos <what> [target] [options]`. */
export function chaosAction(what: string, target: string | undefined, args: ChaosArgs): ChaosAction {
  const module = MODULES.get(what);
  if (!module) throw new ChaosUsageError(`unknown chaos action "${what}"\n${CHAOS_USAGE}`);
  try {
    return module.parse(target, args) as ChaosAction;
  } catch (err) {
    if (err instanceof ChaosUsageError) throw new ChaosUsageError(`${err.message}\nusage: scalelab chaos ${module.usage}`);
    throw err;
  }
}

function printStatus(status: ChaosStatus): void {
  if (status.message) console.log(status.message);
  const m = status.monkey;
  console.log(
    `Chaos Monkey ${m.enabled ? `on: every ~${m.intervalSeconds} s, at most ${m.maxDown} down` : 'off'} (${m.kills} kill${m.kills === 1 ? '' : 's'})`,
  );
  if (status.faults.length === 0) console.log('No fault in force.');
  for (const f of status.faults)
    console.log(
      `  ${f.action.padEnd(10)} ${f.target.padEnd(9)} ${f.detail}${f.until ? ` (until ${new Date(f.until).toLocaleTimeString('en-GB', { hour12: false })})` : ''}`,
    );
}

/** Runs `scalelab chaos …`; returns the exit code. The command line is judged before anything is started. */
export async function runChaos(
  connect: <T>(work: (client: ControlClient) => Promise<T>) => Promise<T>,
  rest: string[],
  args: ChaosArgs,
  json: boolean,
): Promise<number> {
  const [what, target] = rest;
  if (!what) throw new ChaosUsageError(CHAOS_USAGE);
  const action = what === 'status' || what === 'clear' ? what : chaosAction(what, target, args);
  const status = await connect((client) =>
    action === 'status'
      ? client.call('chaos:status', {})
      : action === 'clear'
        ? client.call('chaos:clear', {})
        : client.call('chaos:inject', action),
  );
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
    console.log(
      `writes: ${check.acknowledged} acknowledged, ${check.verified} verified, ${check.lost} lost, ${check.duplicated} duplicated`,
    );
    if (check.lost > 0) console.log(`lost ids: ${check.lostIds.slice(0, 50).join(', ')}${check.lostIds.length > 50 ? ', …' : ''}`);
    if (check.acknowledged === 0)
      console.log('No write was acknowledged yet: fire traffic with writes first (scalelab traffic --mix read=80,write=20).');
  }
  return bad ? 1 : 0;
}
