import type Docker from 'dockerode';
import { cpuMillicores, formatCpu, type CpuLimitStatus, type ScalableService, type StackSpec } from '../../../contract.js';
import type { OnProgress } from '../runtime.js';
import { nanoCpus } from './container-specs.js';
import { isOwned, names } from './labels.js';

/** Docker always enforces a replica's cpu limit: the engine sets the container's CFS quota from NanoCpus. */
export function dockerCpuLimits(spec: StackSpec): CpuLimitStatus {
  const api = cpuMillicores(spec, 'api');
  const worker = cpuMillicores(spec, 'worker');
  return { api, worker, enforcedBy: api === null && worker === null ? null : 'Docker NanoCpus', notEnforced: null };
}

/**
 * Holds every running replica container of the stack to the spec's cpu limit, in place (what
 * `docker update --cpus` does): after the limit changed, and for containers a previous control
 * plane started with another. Only containers labelled as this stack's are touched.
 */
export async function applyCpuLimits(
  docker: Docker,
  spec: StackSpec,
  replicas: { id: string; service: ScalableService }[],
  onProgress: OnProgress,
): Promise<void> {
  for (const replica of replicas) {
    const container = docker.getContainer(names.container(spec.name, replica.id));
    const info = await container.inspect().catch(() => undefined);
    if (!info || !isOwned(info.Config.Labels, spec.name)) continue;
    const limit = cpuMillicores(spec, replica.service);
    const want = nanoCpus(limit);
    if ((info.HostConfig.NanoCpus ?? 0) === want) continue;
    if (want === 0) {
      // The engine cannot lift a NanoCpus quota in place (0 means "unchanged"): a new container has none.
      onProgress(`${replica.id} keeps its cpu limit until it is restarted (scale it down and up, or restart the stack)`);
      continue;
    }
    await container.update({ NanoCpus: want });
    onProgress(`${replica.id}: cpu limit ${formatCpu(limit!)}`);
  }
}
