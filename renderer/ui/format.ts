/** How the dashboard prints figures, times and replica names: shared by every feature. */
import type { MetricKind } from '../../electron/contract.js';

/** Tick labels of the shared time axis. */
export function formatTime(t: number): string {
  const d = new Date(t);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}:${String(d.getSeconds()).padStart(2, '0')}`;
}

/** api-2 before api-10. */
export function byReplica(a: string, b: string): number {
  const [sa, na] = [a.slice(0, a.lastIndexOf('-')), Number(a.slice(a.lastIndexOf('-') + 1))];
  const [sb, nb] = [b.slice(0, b.lastIndexOf('-')), Number(b.slice(b.lastIndexOf('-') + 1))];
  return sa.localeCompare(sb) || na - nb;
}

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

/** A number as the stat row prints it: whole from 100 up, one decimal below, a dash for none. */
export function statNumber(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return String(Math.round(value * 10) / 10);
}

/** A figure as the panel prints it: whole numbers above 100, one decimal below. */
export function formatValue(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  if (Math.abs(value) >= 100) return String(Math.round(value));
  return String(Math.round(value * 10) / 10);
}

/** A target as the panel lists it, e.g. "20 rps per replica", "cpu 50 %". */
export function targetText(kind: MetricKind, target: number): string {
  const n = formatValue(target);
  return { cpu: `cpu ${n} %`, rps: `${n} rps per replica`, p95: `p95 ${n} ms`, queue: `${n} jobs per worker` }[kind];
}
