import type { PoolSample } from '../../../electron/contract.js';
import type { DataPatterns } from '../../store/data-patterns.js';
import { byReplica } from '../../ui/format.js';

/** One muted line per pattern that is off: what it would show, and how to turn it on. */
export const OFF_HINTS = {
  readReplica:
    'Read replica off: reads all go to the primary. Turn it on with the “replica” box by Start (stack spec data.readReplica: true).',
  events: 'Events off: no outbox, stream or projector. Turn them on with the “events” box by Start (stack spec data.events: true).',
  partitions: 'Partitions off: users is one table. Set “partitions” by Start to 2 or more (stack spec data.partitions).',
} as const satisfies Record<keyof DataPatterns, string>;

/** One pool of one api replica, as the panel draws it. */
export interface PoolView {
  pool: PoolSample['pool'];
  used: number;
  max: number;
  waiting: number;
  /** used / max, 0–1. */
  fraction: number;
  /** Clients are waiting for a connection: the pool is the bottleneck. */
  starved: boolean;
}

/** The pools of each api replica, replicas in order (api-2 before api-10), primary before replica. */
export function poolViews(pools: PoolSample[]): { instance: string; pools: PoolView[] }[] {
  const byInstance = new Map<string, PoolView[]>();
  for (const p of pools) {
    const list = byInstance.get(p.instance) ?? [];
    list.push({
      pool: p.pool,
      used: p.used,
      max: p.max,
      waiting: p.waiting,
      fraction: p.max > 0 ? Math.min(1, p.used / p.max) : 0,
      starved: p.waiting > 0,
    });
    byInstance.set(p.instance, list);
  }
  return [...byInstance.keys()].sort(byReplica).map((instance) => ({
    instance,
    pools: byInstance.get(instance)!.sort((a, b) => (a.pool === b.pool ? 0 : a.pool === 'primary' ? -1 : 1)),
  }));
}

/** One partition's bar. */
export interface PartitionBar {
  name: string;
  /** `p3` for `users_p3`. */
  short: string;
  rows: number;
  /** Of the fullest partition, 0–1. */
  fraction: number;
  /** Whether its label is written under it (every one up to 16 partitions, then every fourth). */
  labelled: boolean;
}

/** Bars for the partitions, and how evenly the hash spreads rows (fullest over the mean; 1 is even). */
export function partitionBars(partitions: { name: string; rows: number }[]): { bars: PartitionBar[]; total: number; skew: number | null } {
  const total = partitions.reduce((sum, p) => sum + p.rows, 0);
  const most = partitions.reduce((m, p) => Math.max(m, p.rows), 0);
  const every = partitions.length <= 16 ? 1 : 4;
  const bars = partitions.map((p, i) => ({
    name: p.name,
    short: /_(p\d+)$/.exec(p.name)?.[1] ?? p.name,
    rows: p.rows,
    fraction: most > 0 ? p.rows / most : 0,
    labelled: i % every === 0,
  }));
  return { bars, total, skew: total > 0 && partitions.length > 0 ? most / (total / partitions.length) : null };
}
