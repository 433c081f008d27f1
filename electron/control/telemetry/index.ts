/** Telemetry of a running stack: one Sample per second, the timeline, and a Prometheus exporter. */
export { Telemetry, TelemetryStateError, type TelemetryOptions, type TelemetrySource } from './telemetry.js';
export { renderPrometheus, escapeLabelValue, formatValue, PROMETHEUS_CONTENT_TYPE, type RenderPrometheusOptions } from './exporter.js';
export { parsePrometheusText, sumSeries, allSamples, parseValue, PrometheusParseError, type MetricFamily, type MetricSample, type MetricType } from './prometheus-text.js';
export { ProcessStats, type ProcessUsage, type ProcessStatsOptions } from './process-stats.js';
