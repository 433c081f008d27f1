import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import type * as OtelApi from '@opentelemetry/api';
import type { Telemetry } from 'bullmq';
import { loadTracingConfig, type TracingConfig } from '../config.js';
import { KeepPolicy, PerSecondBudget } from './keep-policy.js';
import { KeptRequests } from './kept-requests.js';
import { RequestGate, SAMPLED, type MarkedRequest } from './request-gate.js';
import { createSampler, readSamplerSetting } from './sampling.js';

/** The service's two programs: the api's traces start at HTTP requests, the worker's at jobs. */
type Program = 'api' | 'worker';

/** Request paths that are scraped or probed every second: tracing them would bury the real traffic. */
const PROBE_PATH = /^\/(healthz|readyz|metrics)(\?|$)/;

/** What a started tracer offers the rest of the service. */
export interface Tracing {
  /** the OpenTelemetry API (the same global the instrumentations use) */
  api: typeof OtelApi;
  tracer: OtelApi.Tracer;
  /** BullMQ's telemetry hook (bullmq-otel), for the `telemetry` option of Queue and Worker */
  bullmq: Telemetry;
  /**
   * A request has been answered (the api's onResponse hook): keeps a failed or slow one that was
   * not sampled as a timing-only span (see kept-requests.ts). `elapsedMs` from arrival to answer.
   */
  noteResponse(raw: IncomingMessage, method: string, route: string, status: number, elapsedMs: number): void;
  /**
   * A request's route is known (the api's onRequest hook): a sampled request's HTTP span takes
   * it as `http.route` and is named after it ("GET /users/:id"); nothing for the others.
   */
  noteRoute(raw: IncomingMessage, route: string | undefined): void;
  /** Exports the spans still buffered and stops; safe to call twice. */
  shutdown(): Promise<void>;
}

let active: Tracing | undefined;

/** The running tracer, or undefined when tracing is off (no OTLP endpoint configured). */
export function tracing(): Tracing | undefined {
  return active;
}

/**
 * Starts the OpenTelemetry SDK with the HTTP, pg and ioredis instrumentations, when an
 * OTLP endpoint is configured (see TracingConfigSchema); otherwise does nothing and loads nothing.
 *
 * Must run before pg, ioredis, fastify or bullmq are loaded: the instrumentations patch them as
 * they are `require`d (require-in-the-middle). The bundles (scripts/bundle.mjs) keep those
 * packages out and load them with require, after the entry's first import has called this.
 * Synchronous on purpose: in the bundle, everything after it runs only once it returns.
 */
export function startTracing(program: Program, env: NodeJS.ProcessEnv = process.env): Tracing | undefined {
  if (active) return active;
  const config = loadTracingConfig(env);
  if (!config.enabled) return undefined;
  active = startSdk(config, program, env.INSTANCE_ID || `${process.pid}`);
  return active;
}

/**
 * Runs `fn` inside a span when tracing is on; just runs it otherwise. For work no instrumentation
 * sees, such as an injected delay, so that a trace's waterfall shows where the time went.
 */
export async function withSpan<T>(name: string, attributes: Record<string, string | number>, fn: () => Promise<T>): Promise<T> {
  const t = active;
  // Outside a recorded trace the span would be dropped anyway; entering its context would cost
  // the async-context hook (see request-gate.ts) for nothing.
  if (!t || !inSampledTrace(t.api)) return fn();
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

/** Whether `span` belongs to a sampled trace (an ended span still does: its context lives on in continuations). */
function isSampled(api: typeof OtelApi, span: OtelApi.Span | undefined): boolean {
  return span !== undefined && (span.spanContext().traceFlags & api.TraceFlags.SAMPLED) !== 0;
}

/** Whether the code running now is part of a sampled trace. */
function inSampledTrace(api: typeof OtelApi): boolean {
  return isSampled(api, api.trace.getSpan(api.context.active()));
}

function startSdk(config: TracingConfig, program: Program, instanceId: string): Tracing {
  // Loaded from node_modules (CommonJS builds), never bundled: a replica without tracing pays nothing.
  const load = createRequire(import.meta.url);
  const api = load('@opentelemetry/api') as typeof OtelApi;
  const sdk = load('@opentelemetry/sdk-trace-node') as typeof import('@opentelemetry/sdk-trace-node');
  // The context manager sdk-trace-node itself depends on, made here so the gate can turn it off.
  const fromSdk = createRequire(load.resolve('@opentelemetry/sdk-trace-node'));
  const { AsyncLocalStorageContextManager } = fromSdk('@opentelemetry/context-async-hooks') as {
    AsyncLocalStorageContextManager: new () => OtelApi.ContextManager;
  };
  const { getRPCMetadata, RPCType } = fromSdk('@opentelemetry/core') as typeof import('@opentelemetry/core');
  const { OTLPTraceExporter } = load('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  const { resourceFromAttributes, detectResources, envDetector } = load(
    '@opentelemetry/resources',
  ) as typeof import('@opentelemetry/resources');
  const { ATTR_SERVICE_NAME } = load('@opentelemetry/semantic-conventions') as typeof import('@opentelemetry/semantic-conventions');
  const { registerInstrumentations } = load('@opentelemetry/instrumentation') as typeof import('@opentelemetry/instrumentation');
  const { HttpInstrumentation } = load('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { PgInstrumentation } = load('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg');
  const { IORedisInstrumentation } = load(
    '@opentelemetry/instrumentation-ioredis',
  ) as typeof import('@opentelemetry/instrumentation-ioredis');
  const { BullMQOtel } = load('bullmq-otel') as typeof import('bullmq-otel');

  const resource = detectResources({ detectors: [envDetector] }).merge(
    resourceFromAttributes({
      [ATTR_SERVICE_NAME]: config.serviceName ?? `scalelab-${program}`,
      // semantic-conventions' incubating entry point is not meant for libraries; the key is stable.
      'service.instance.id': instanceId,
    }),
  );
  const setting = readSamplerSetting(config.sampler, config.samplerArg);
  const contextManager = new AsyncLocalStorageContextManager();
  const budget = new PerSecondBudget('perSecond' in setting ? setting.perSecond : 0);
  const gate = new RequestGate({
    budget,
    ignore: PROBE_PATH,
    // The api's traces start at requests; the worker's at jobs, which need the context throughout.
    idle: program === 'api' ? () => void contextManager.disable() : undefined,
  });
  // The exporter reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT and _HEADERS itself; JSON over HTTP.
  const processor = new sdk.BatchSpanProcessor(new OTLPTraceExporter(), { scheduledDelayMillis: config.exportDelayMs });
  const sampler = createSampler(sdk, setting, gate, program === 'worker');
  const provider = new sdk.NodeTracerProvider({ resource, sampler, spanProcessors: [processor] });
  provider.register({ contextManager }); // W3C traceparent + baggage propagation, async-hooks context
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => PROBE_PATH.test(request.url ?? ''),
        // The keep path (kept-requests.ts) leaves requests traced in full alone.
        requestHook: (span, request) => {
          if (isSampled(api, span)) (request as MarkedRequest)[SAMPLED] = true;
        },
        // The service's only outgoing HTTP is the span export itself.
        disableOutgoingRequestInstrumentation: true,
      }),
      // No Fastify instrumentation (@fastify/otel): its hooks and handler wrappers run on every
      // request, sampled or not, and doubled the replica's garbage-collection time at saturation
      // (bench/tracing.ts with BENCH_PROFILE_DIR, 2026-12-06). The route it gave the HTTP span
      // comes from noteRoute instead; a trace keeps its HTTP, pg, Redis and withSpan spans.
      // Only inside a request or job: the worker's relay and projector poll all the time.
      new PgInstrumentation({ requireParentSpan: true, enhancedDatabaseReporting: false }),
      new IORedisInstrumentation({ requireParentSpan: true }),
    ],
  });
  // Requiring http applies the instrumentation's patch (if nothing has yet); the gate goes in front of it.
  if ('perSecond' in setting) gate.install(load('http') as typeof import('node:http'));
  const kept = new KeptRequests({
    api,
    tracer: api.trace.getTracer('scalelab'),
    policy: new KeepPolicy({ slowMs: config.keepSlowMs, perSecond: config.keepPerSecond, onKept: () => budget.widen() }),
    ignore: PROBE_PATH,
  });
  let stopped: Promise<void> | undefined;
  return {
    api,
    tracer: api.trace.getTracer('scalelab'),
    bullmq: new BullMQOtel('scalelab') as unknown as Telemetry,
    noteResponse: (raw, method, route, status, elapsedMs) => kept.note(raw, method, route, status, elapsedMs),
    noteRoute: (raw, route) => {
      if (route === undefined || !(raw as MarkedRequest)[SAMPLED]) return;
      // The HTTP instrumentation names its span from this when the response finishes.
      const metadata = getRPCMetadata(api.context.active());
      if (metadata?.type === RPCType.HTTP) metadata.route = route;
    },
    shutdown: () => (stopped ??= provider.shutdown().catch(() => undefined)),
  };
}

/**
 * {@link startTracing} for an entry point's first import: a bad setting or a missing package
 * stops the process with a message, the way a bad configuration does.
 */
export function startTracingOrExit(program: Program): void {
  try {
    startTracing(program);
  } catch (err) {
    process.stderr.write(`${program} failed to start: tracing: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
