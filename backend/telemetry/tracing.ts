import { createRequire } from 'node:module';
import type * as OtelApi from '@opentelemetry/api';
import type { Telemetry } from 'bullmq';
import { loadTracingConfig, type TracingConfig } from '../config.js';

/** Request paths that are scraped or probed every second: tracing them would bury the real traffic. */
const PROBE_PATH = /^\/(healthz|readyz|metrics)(\?|$)/;

/** What a started tracer offers the rest of the service. */
export interface Tracing {
  /** the OpenTelemetry API (the same global the instrumentations use) */
  api: typeof OtelApi;
  tracer: OtelApi.Tracer;
  /** BullMQ's telemetry hook (bullmq-otel), for the `telemetry` option of Queue and Worker */
  bullmq: Telemetry;
  /** Exports the spans still buffered and stops; safe to call twice. */
  shutdown(): Promise<void>;
}

let active: Tracing | undefined;

/** The running tracer, or undefined when tracing is off (no OTLP endpoint configured). */
export function tracing(): Tracing | undefined {
  return active;
}

/**
 * Starts the OpenTelemetry SDK with the HTTP, Fastify, pg and ioredis instrumentations, when an
 * OTLP endpoint is configured (see TracingConfigSchema); otherwise does nothing and loads nothing.
 *
 * Must run before pg, ioredis, fastify or bullmq are loaded: the instrumentations patch them as
 * they are `require`d (require-in-the-middle). The bundles (scripts/bundle.mjs) keep those
 * packages out and load them with require, after the entry's first import has called this.
 * Synchronous on purpose: in the bundle, everything after it runs only once it returns.
 */
export function startTracing(defaultServiceName: string, env: NodeJS.ProcessEnv = process.env): Tracing | undefined {
  if (active) return active;
  const config = loadTracingConfig(env);
  if (!config.enabled) return undefined;
  active = startSdk(config, defaultServiceName, env.INSTANCE_ID || `${process.pid}`);
  return active;
}

/**
 * Runs `fn` inside a span when tracing is on; just runs it otherwise. For work no instrumentation
 * sees, such as an injected delay, so that a trace's waterfall shows where the time went.
 */
export async function withSpan<T>(name: string, attributes: Record<string, string | number>, fn: () => Promise<T>): Promise<T> {
  const t = active;
  if (!t) return fn();
  return t.tracer.startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn();
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: t.api.SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  });
}

function startSdk(config: TracingConfig, defaultServiceName: string, instanceId: string): Tracing {
  // Loaded from node_modules (CommonJS builds), never bundled: a replica without tracing pays nothing.
  const load = createRequire(import.meta.url);
  const api = load('@opentelemetry/api') as typeof OtelApi;
  const { NodeTracerProvider, BatchSpanProcessor } = load('@opentelemetry/sdk-trace-node') as typeof import('@opentelemetry/sdk-trace-node');
  const { OTLPTraceExporter } = load('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  const { resourceFromAttributes, detectResources, envDetector } = load('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  const { ATTR_SERVICE_NAME } = load('@opentelemetry/semantic-conventions') as typeof import('@opentelemetry/semantic-conventions');
  const { registerInstrumentations } = load('@opentelemetry/instrumentation') as typeof import('@opentelemetry/instrumentation');
  const { HttpInstrumentation } = load('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { PgInstrumentation } = load('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg');
  const { IORedisInstrumentation } = load('@opentelemetry/instrumentation-ioredis') as typeof import('@opentelemetry/instrumentation-ioredis');
  const { FastifyOtelInstrumentation } = load('@fastify/otel') as typeof import('@fastify/otel');
  const { BullMQOtel } = load('bullmq-otel') as typeof import('bullmq-otel');

  const resource = detectResources({ detectors: [envDetector] }).merge(
    resourceFromAttributes({
      [ATTR_SERVICE_NAME]: config.serviceName ?? defaultServiceName,
      // semantic-conventions' incubating entry point is not meant for libraries; the key is stable.
      'service.instance.id': instanceId,
    }),
  );
  // The exporter reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT and _HEADERS itself; JSON over HTTP.
  const processor = new BatchSpanProcessor(new OTLPTraceExporter(), { scheduledDelayMillis: config.exportDelayMs });
  // The sampler comes from OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG (default parentbased_always_on).
  const provider = new NodeTracerProvider({ resource, spanProcessors: [processor] });
  provider.register(); // W3C traceparent + baggage propagation, async-hooks context
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => PROBE_PATH.test(request.url ?? ''),
        // The service's only outgoing HTTP is the span export itself.
        disableOutgoingRequestInstrumentation: true,
      }),
      new FastifyOtelInstrumentation({ registerOnInitialization: true, ignorePaths: (route) => PROBE_PATH.test(route.url) }),
      // Only inside a request or job: the worker's relay and projector poll all the time.
      new PgInstrumentation({ requireParentSpan: true, enhancedDatabaseReporting: false }),
      new IORedisInstrumentation({ requireParentSpan: true }),
    ],
  });
  let stopped: Promise<void> | undefined;
  return {
    api,
    tracer: api.trace.getTracer('scalelab'),
    bullmq: new BullMQOtel('scalelab') as unknown as Telemetry,
    shutdown: () => (stopped ??= provider.shutdown().catch(() => undefined)),
  };
}

/**
 * {@link startTracing} for an entry point's first import: a bad setting or a missing package
 * stops the process with a message, the way a bad configuration does.
 */
export function startTracingOrExit(program: 'api' | 'worker'): void {
  try {
    startTracing(`scalelab-${program}`);
  } catch (err) {
    process.stderr.write(`${program} failed to start: tracing: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
