/**
 * The report's row of headline figures over a window of samples: total requests, p99 mean and
 * max, overall error rate, cache hit rate, most api replicas.
 */
import type { Sample } from '../../contract.js';
import { escapeHtml, formatNumber, formatPercent } from './report-format.js';

/** Headline figures of a window; null where the window has nothing to say (no traffic, no lookups). */
export interface ReportSummary {
  samples: number;
  /** Sum of requests/s over the seconds: one sample is one second. */
  totalRequests: number;
  /** p99 averaged over the seconds, weighted by their requests (as the scenario assertions do). */
  p99Mean: number | null;
  p99Max: number | null;
  /** Errors over requests, whole window. */
  errorRate: number | null;
  /** Hits over lookups, whole window; the mean of the per-second rates when no lookups were counted. */
  cacheHitRate: number | null;
  maxApiReplicas: number | null;
}

const finite = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);
const mean = (vs: number[]) => (vs.length ? vs.reduce((a, b) => a + b, 0) / vs.length : null);

/** The headline figures of `samples` (the window's). */
export function summarize(samples: Sample[]): ReportSummary {
  let requests = 0;
  let errors = 0;
  let p99Weighted = 0;
  let p99Weight = 0;
  let hits = 0;
  let lookups = 0;
  const p99s: number[] = [];
  const hitRates: number[] = [];
  let maxApi: number | null = null;
  for (const s of samples) {
    const rps = finite(s.traffic.rps) ? s.traffic.rps : 0;
    requests += rps;
    if (finite(s.traffic.errorsPerSec)) errors += s.traffic.errorsPerSec;
    if (finite(s.traffic.p99)) {
      p99s.push(s.traffic.p99);
      p99Weighted += s.traffic.p99 * rps;
      p99Weight += rps;
    }
    if (finite(s.cache.hitsPerSec) && finite(s.cache.missesPerSec)) {
      hits += s.cache.hitsPerSec;
      lookups += s.cache.hitsPerSec + s.cache.missesPerSec;
    }
    if (finite(s.cache.hitRate)) hitRates.push(s.cache.hitRate);
    if (finite(s.replicas.api)) maxApi = Math.max(maxApi ?? 0, s.replicas.api);
  }
  return {
    samples: samples.length,
    totalRequests: requests,
    // Unweighted when no second carried traffic, so a latency measured without load still shows.
    p99Mean: p99Weight > 0 ? p99Weighted / p99Weight : mean(p99s),
    p99Max: p99s.length ? Math.max(...p99s) : null,
    errorRate: requests > 0 ? errors / requests : null,
    cacheHitRate: lookups > 0 ? hits / lookups : mean(hitRates),
    maxApiReplicas: maxApi,
  };
}

const ms = (v: number | null) => (v === null ? '—' : `${formatNumber(v, v < 10 ? 2 : 1)} ms`);

/** The figures as a row of cards. */
export function renderSummary(summary: ReportSummary): string {
  const cards: [string, string][] = [
    ['total requests', formatNumber(summary.totalRequests, 0)],
    ['p99 mean (request-weighted)', ms(summary.p99Mean)],
    ['p99 max', ms(summary.p99Max)],
    ['error rate', summary.errorRate === null ? '—' : formatPercent(summary.errorRate)],
    ['cache hit rate', summary.cacheHitRate === null ? '—' : formatPercent(summary.cacheHitRate)],
    ['max api replicas', summary.maxApiReplicas === null ? '—' : formatNumber(summary.maxApiReplicas, 0)],
  ];
  const items = cards.map(
    ([label, value]) =>
      `<div class="stat"><div class="value">${escapeHtml(value)}</div><div class="label">${escapeHtml(label)}</div></div>`,
  );
  return `<section class="summary" aria-label="Summary"><div class="stats">${items.join('')}</div></section>`;
}
