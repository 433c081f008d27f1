import { parsePrometheusText, sumSeries } from './prometheus-text.js';

/** What telemetry takes from one api or worker replica's /metrics. */
export interface ReplicaFigures {
  /** `cache_hits_total` (api), or undefined when the replica does not serve it. */
  cacheHits?: number;
  cacheMisses?: number;
  /** `worker_jobs_total{outcome="completed"}`; 0 on a worker that has finished no job yet. */
  jobsCompleted: number;
  jobsFailed: number;
  eventLoopLagMs: number | null;
  inFlight: number | null;
}

/** Thrown when a replica answers /metrics with an HTTP error. */
export class ScrapeError extends Error {
  constructor(
    readonly url: string,
    readonly status: number,
  ) {
    super(`GET ${url} answered ${status}`);
    this.name = this.constructor.name;
  }
}

/** Figures from a /metrics body (prom-client names, see backend/api/metrics.ts and backend/worker/main.ts). */
export function replicaFigures(text: string): ReplicaFigures {
  const families = parsePrometheusText(text);
  const lag = sumSeries(families, 'nodejs_eventloop_lag_p99_seconds');
  const inFlight = sumSeries(families, 'http_requests_in_flight');
  return {
    cacheHits: sumSeries(families, 'cache_hits_total'),
    cacheMisses: sumSeries(families, 'cache_misses_total'),
    // prom-client prints a labelled counter only once it has counted something.
    jobsCompleted: sumSeries(families, 'worker_jobs_total', { outcome: 'completed' }) ?? 0,
    jobsFailed: sumSeries(families, 'worker_jobs_total', { outcome: 'failed' }) ?? 0,
    eventLoopLagMs: lag === undefined || !Number.isFinite(lag) ? null : Math.round(lag * 1e6) / 1e3,
    // The api counts the scrape that reads the gauge as one of its requests.
    inFlight: inFlight === undefined ? null : Math.max(0, inFlight - 1),
  };
}

/** Scrapes one replica; rejects on timeout, HTTP error or an unparsable body. */
export async function scrapeReplica(url: string, timeoutMs: number): Promise<ReplicaFigures> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'text/plain' } });
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw new ScrapeError(url, response.status);
  }
  return replicaFigures(await response.text());
}
