import { Metrics, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import type { InstanceStats } from '../runtime.js';

/** `120m` → 12 (% of one core, as the other runtimes report cpu); `250000000n` → 25. */
export function cpuPercent(quantity: string): number | null {
  const m = /^(\d+(?:\.\d+)?)([num]?)$/.exec(quantity);
  if (!m) return null;
  const scale = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1 }[m[2] as 'n' | 'u' | 'm' | ''];
  return Number(m[1]) * scale * 100;
}

/** `100Mi` → 104857600 bytes. */
export function memoryBytes(quantity: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(quantity);
  if (!m) return null;
  const scale: Record<string, number> = { '': 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  return Number(m[1]) * scale[m[2] ?? '']!;
}

/** cpu and memory of the namespace's pods from metrics.k8s.io, keyed by instance id. */
export async function readPodUsage(
  kc: KubeConfig,
  namespace: string,
  idOf: (pod: V1Pod) => string | undefined,
  pods: V1Pod[],
): Promise<Map<string, InstanceStats>> {
  const list = await new Metrics(kc).getPodMetrics(namespace);
  const usage = new Map<string, InstanceStats>();
  for (const item of list.items) {
    const pod = pods.find((p) => p.metadata?.name === item.metadata.name);
    const id = (pod && idOf(pod)) ?? item.metadata.name;
    const cpu = item.containers.reduce((sum, c) => sum + (cpuPercent(c.usage.cpu) ?? 0), 0);
    const rssBytes = item.containers.reduce((sum, c) => sum + (memoryBytes(c.usage.memory) ?? 0), 0);
    usage.set(id, { id, cpu, rssBytes });
  }
  return usage;
}
