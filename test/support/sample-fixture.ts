/**
 * A quiet telemetry Sample and an api replica's InstanceSample, for tests that need one and change
 * a few fields: nothing flows, every store is up.
 */
import type { InstanceSample, Sample } from '../../electron/contract.js';

/** An api replica, ready, 10 % cpu, nothing else measured; `over` replaces any field. */
export function instanceSample(over: Partial<InstanceSample> = {}): InstanceSample {
  return {
    id: 'api-1',
    service: 'api',
    phase: 'ready',
    ready: true,
    restarts: 0,
    cpu: 10,
    rssBytes: null,
    rps: null,
    errorsPerSec: null,
    inFlight: null,
    eventLoopLagMs: null,
    p50: null,
    p95: null,
    p99: null,
    ...over,
  };
}

/** A sample at `t` of stack `s` with these instances and nothing flowing; `over` replaces any field. */
export function quietSample(t: number, instances: InstanceSample[], over: Partial<Sample> = {}): Sample {
  return {
    t,
    stack: 's',
    traffic: {
      rps: 0,
      errorsPerSec: 0,
      proxyErrorsPerSec: 0,
      status: { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 },
      inFlight: 0,
      p50: null,
      p95: null,
      p99: null,
    },
    instances,
    replicas: { api: instances.length, apiReady: instances.length, worker: 0 },
    cache: { up: true, hitsPerSec: 0, missesPerSec: 0, hitRate: null, memoryBytes: null, keys: null, opsPerSec: null },
    queue: { up: true, waiting: 0, active: 0, delayed: 0, failed: 0, completedPerSec: 0, failedPerSec: 0 },
    db: { up: true, connections: null, commitsPerSec: null, rollbacksPerSec: null },
    autoscaler: null,
    generator: null,
    writes: { acknowledged: 0, verified: null, lost: null, lostIds: [], checkedAt: null },
    chaos: null,
    ...over,
  };
}
