import type { DataSample, DataSpec, PoolSample, StackSpec } from '../../../electron/contract.js';
import { byReplica } from '../charts/chart-data.js';

/** The data-layer patterns of the running stack. */
export type DataPatterns = DataSpec;

/**
 * The patterns in force: the running spec says; a spec from before the patterns existed has none,
 * and then the live sample tells (a replica or a stream in it means the pattern is on).
 */
export function dataPatterns(spec: StackSpec | null | undefined, data: DataSample | undefined): DataPatterns {
  const from = spec?.data as Partial<DataSpec> | undefined;
  return {
    readReplica: from?.readReplica ?? (data?.replica !== null && data?.replica !== undefined),
    events: from?.events ?? (data?.stream !== null && data?.stream !== undefined),
    partitions: from?.partitions ?? data?.partitions?.length ?? 0,
  };
}

/** One muted line per pattern that is off: what it would show, and how to turn it on. */
export const OFF_HINTS = {
  readReplica: 'Read replica off: reads all go to the primary. Turn it on with the “replica” box by Start (stack spec data.readReplica: true).',
  events: 'Events off: no outbox, stream or projector. Turn them on with the “events” box by Start (stack spec data.events: true).',
  partitions: 'Partitions off: users is one table. Set “partitions” by Start to 2 or more (stack spec data.partitions).',
} as const satisfies Record<keyof DataPatterns, string>;

/** 512 B, 12.5 KiB, 3.2 MiB. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '–';
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

/** 0.4 s, 12 s, 2 min 5 s. */
export function formatSeconds(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 120) return `${Math.round(seconds)} s`;
  const whole = Math.round(seconds);
  return `${Math.floor(whole / 60)} min ${whole % 60} s`;
}

/** 250 ms, 2 s, 1.5 min: the replica's apply delay. */
export function formatDelay(ms: number): string {
  if (ms === 0) return 'none';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${Number((ms / 1000).toFixed(1))} s`;
  return `${Number((ms / 60_000).toFixed(1))} min`;
}

/** A rate for a figure: 0, 0.4, 12, 1.2k. */
export function formatRate(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  if (value >= 1000) return `${(value / 1000).toFixed(1)}k`;
  return value >= 10 || value === 0 ? value.toFixed(0) : value.toFixed(1);
}

/** A count for a figure, with thousands separated: 12 345. */
export function formatCount(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  return Math.round(value).toLocaleString('en-US').replace(/,/g, ' ');
}

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
    list.push({ pool: p.pool, used: p.used, max: p.max, waiting: p.waiting, fraction: p.max > 0 ? Math.min(1, p.used / p.max) : 0, starved: p.waiting > 0 });
    byInstance.set(p.instance, list);
  }
  return [...byInstance.keys()].sort(byReplica).map((instance) => ({ instance, pools: byInstance.get(instance)!.sort((a, b) => (a.pool === b.pool ? 0 : a.pool === 'primary' ? -1 : 1)) }));
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
