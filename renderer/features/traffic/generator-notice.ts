import type { GeneratorHealth } from '../../../electron/contract.js';

/**
 * The load generator's own health as the traffic panel words it, so its limits are never read as
 * the stack's: its cpu and lag compactly, and a warning when it, not the stack, is the limit.
 */
export function generatorNotice(
  health: GeneratorHealth | undefined,
  when: 'now' | 'in this run',
): { figures: string; limit: string | null } | null {
  if (!health) return null;
  const lag = health.lagP99Ms === null ? '–' : `${Number(health.lagP99Ms.toFixed(1))} ms`;
  const figures = `generator: ${health.busyCores.toFixed(2)} cpu · lag p99 ${lag} · ${health.threads} thread${health.threads === 1 ? '' : 's'}`;
  const limit = health.limitedBy
    ? `The load generator is the bottleneck ${when} (${health.limitReason}): these figures understate the stack.`
    : null;
  return { figures, limit };
}
