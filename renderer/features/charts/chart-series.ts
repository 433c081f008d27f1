import type { Series } from '../../ui/chart/time-chart.js';

/** The charts' lines, written once for the dashboard's key charts and the panel below them. */
export const PALETTE = ['#4e9af1', '#f5a524', '#17c964', '#f31260', '#9353d3', '#06b7db', '#ff7eb6', '#c7a000', '#7ee081', '#ff8a4c'];

export const requestsSeries: Series[] = [
  { name: 'served', color: '#4e9af1', value: (r) => r.rps },
  // Drawn only where something failed: an idle chart shows no red line at 0.
  { name: 'errors', color: '#f31260', value: (r) => (r.errors > 0 ? r.errors : null) },
  { name: 'offered', color: '#f5a524', value: (r) => r.offered, faint: true },
  { name: 'achieved', color: '#17c964', value: (r) => r.achieved },
];
export const latencySeries: Series[] = [
  { name: 'p50', color: '#17c964', value: (r) => r.p50 },
  { name: 'p95', color: '#f5a524', value: (r) => r.p95 },
  { name: 'p99', color: '#f31260', value: (r) => r.p99 },
];
export const cacheSeries: Series[] = [{ name: 'hit rate', color: '#17c964', value: (r) => r.hitRate }];
export const queueSeries: Series[] = [
  { name: 'waiting', color: '#f5a524', value: (r) => r.waiting },
  { name: 'active', color: '#4e9af1', value: (r) => r.active },
  { name: 'jobs/s', color: '#17c964', value: (r) => r.jobsPerSec, faint: true },
];
export const replicasSeries: Series[] = [
  { name: 'api', color: '#4e9af1', value: (r) => r.api, step: true },
  { name: 'api ready', color: '#17c964', value: (r) => r.apiReady, step: true, dashed: true },
  { name: 'workers', color: '#9353d3', value: (r) => r.worker, step: true },
];
