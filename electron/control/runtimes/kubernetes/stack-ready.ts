/** Waiting for a freshly applied Kubernetes stack's pods to become ready, with progress per pod. */
import type { Instance, StackSpec } from '../../../contract.js';
import type { OnProgress } from '../runtime.js';
import { KUBE_NAMES } from './manifests.js';
import { waitForInstances } from './wait.js';

/** Resolves once every store and the spec's replicas run ready pods (one of each autoscaled service). */
export async function waitForStack(
  source: { watch(onChange: (i: Instance[]) => void): () => void; currentInstances(): Instance[] },
  spec: StackSpec,
  timeoutMs: number,
  onProgress: OnProgress,
): Promise<void> {
  // The read replica is a second `postgres` instance.
  const want = {
    postgres: spec.data.readReplica ? 2 : 1,
    redis: 1,
    api: spec.autoscaler.enabled ? 1 : spec.replicas.api,
    worker: spec.autoscaler.enabled ? Math.min(1, spec.replicas.worker) : spec.replicas.worker,
  };
  const total = Object.values(want).reduce((a, b) => a + b, 0);
  const seen = new Set<string>();
  await waitForInstances(source, {
    timeoutMs,
    what: `${total} ready pods`,
    done: (instances) => {
      const ready = instances.filter((i) => i.phase === 'ready');
      for (const i of ready) {
        if (seen.has(i.id)) continue;
        seen.add(i.id);
        onProgress(
          `${i.service === 'api' || i.service === 'worker' ? `pod ${i.id}` : i.id} is ready (${Math.min(seen.size, total)}/${total})`,
          0.4 + (0.6 * Math.min(seen.size, total)) / total,
        );
      }
      return (Object.keys(want) as (keyof typeof want)[]).every((s) => ready.filter((i) => i.service === s).length >= want[s]);
    },
    hint: () => {
      const crashed = source
        .currentInstances()
        .filter((i) => i.phase === 'crashed')
        .map((i) => i.id);
      return crashed.length
        ? `; crashing: ${crashed.join(', ')} (scalelab logs <pod>, or kubectl -n ${KUBE_NAMES.namespace(spec.name)} describe pod)`
        : '';
    },
  });
}
