import type { Runtime, StackEndpoints } from '../runtimes/runtime.js';
import type { TelemetrySource } from './telemetry.js';

/** The part of a stack's telemetry source its runtime answers: instances, scrapes, stores, data spec. */
export type RuntimeSource = Pick<
  TelemetrySource,
  | 'instances'
  | 'metricsUrl'
  | 'takeBalancerSnapshot'
  | 'usage'
  | 'cpuLimits'
  | 'throttling'
  | 'redisUrl'
  | 'databaseUrl'
  | 'replicaUrl'
  | 'dataSpec'
>;

/** What telemetry reads from a running stack's runtime and the endpoints its `up` returned. */
export function runtimeSource(runtime: Runtime, endpoints: StackEndpoints): RuntimeSource {
  return {
    instances: () => runtime.currentInstances(),
    metricsUrl: (instance) => runtime.metricsUrl(instance),
    takeBalancerSnapshot: () => runtime.takeBalancerSnapshot(),
    usage: runtime.usage ? () => runtime.usage!() : undefined,
    cpuLimits: runtime.cpuLimits ? () => runtime.cpuLimits!() : undefined,
    throttling: runtime.throttling ? () => runtime.throttling!() : undefined,
    redisUrl: () => endpoints.redisUrl,
    databaseUrl: () => endpoints.databaseUrl,
    replicaUrl: () => endpoints.replicaUrl,
    dataSpec: () => runtime.currentSpec()?.data,
  };
}
