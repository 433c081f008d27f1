import type { ActiveFault, ChaosStatus } from '../../../electron/contract.js';
import { formatTime } from '../../ui/format.js';

/** Where a fault is, in words: `all` is every api replica. */
export function faultPlace(fault: ActiveFault): string {
  return fault.target === 'all' ? 'all api' : fault.target;
}

/** Since when a fault is in force and until when, with the seconds left when it ends on its own. */
export function faultWhen(fault: ActiveFault, now: number): string {
  const since = `since ${formatTime(fault.since)}`;
  if (fault.until === null) return `${since} · until cleared`;
  const left = Math.max(0, Math.ceil((fault.until - now) / 1000));
  return `${since} · until ${formatTime(fault.until)} (${left} s left)`;
}

/** The monkey's line: what it does, and what it did. */
export function monkeySummary(monkey: ChaosStatus['monkey'] | null | undefined): string {
  if (!monkey) return 'kills a random replica now and then; never the last one';
  const kills = `${monkey.kills} ${monkey.kills === 1 ? 'kill' : 'kills'}`;
  const last = monkey.lastKillAt === null ? '' : ` · last ${formatTime(monkey.lastKillAt)}`;
  if (!monkey.enabled) return monkey.kills > 0 ? `off · ${kills}${last}` : 'kills a random replica now and then; never the last one';
  return `every ~${monkey.intervalSeconds} s, ≤ ${monkey.maxDown} down · ${kills}${last}`;
}

/** Lost ids for the badge: the first `max`, then how many more of `total` (the control plane may send only some). */
export function lostIdsText(ids: readonly number[], total = ids.length, max = 12): string {
  const shown = ids.slice(0, max);
  const more = Math.max(total, ids.length) - shown.length;
  return more > 0 ? `${shown.join(', ')} and ${more} more` : shown.join(', ');
}

/**
 * Why a chaos button cannot run (the data-layer pattern it needs is off in the running stack), or
 * null when it can: the replica's buttons need `data.readReplica`, the relay's and projector's `data.events`.
 */
export function patternOff(
  needs: 'readReplica' | 'events' | undefined,
  patterns: { readReplica: boolean; events: boolean },
): string | null {
  if (needs === 'readReplica') return patterns.readReplica ? null : 'replica off: start with data.readReplica';
  if (needs === 'events') return patterns.events ? null : 'events off: start with data.events';
  return null;
}
