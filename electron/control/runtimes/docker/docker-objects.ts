import type Docker from 'dockerode';
import type { OnProgress } from '../runtime.js';
import { assertOwned, LABELS, names, stackFilter } from './labels.js';

/** The stack's bridge network, created (labelled) when missing; an unlabelled one of that name is refused. */
export async function ensureNetwork(docker: Docker, stack: string, onProgress: OnProgress): Promise<void> {
  const name = names.network(stack);
  const found = (await docker.listNetworks({ filters: { name: [name] } })).find((n) => n.Name === name);
  if (found) {
    assertOwned(found.Labels, stack, `network ${name}`);
    return;
  }
  onProgress(`creating network ${name}`);
  await docker.createNetwork({ Name: name, Driver: 'bridge', Labels: { [LABELS.stack]: stack }, CheckDuplicate: true });
}

/** A volume of the stack (`what` says whose data, for progress), created (labelled) when missing. */
export async function ensureVolume(docker: Docker, stack: string, name: string, what: string, onProgress: OnProgress): Promise<void> {
  const found = await docker
    .getVolume(name)
    .inspect()
    .catch(() => undefined);
  if (found) {
    assertOwned(found.Labels, stack, `volume ${name}`);
    return;
  }
  onProgress(`creating volume ${name} for ${what}`);
  await docker.createVolume({ Name: name, Labels: { [LABELS.stack]: stack } });
}

/** Removes every container and network labelled as `stack`'s (and its volumes when asked); nothing else. */
export async function sweep(docker: Docker, stack: string, what: { volumes: boolean }, onProgress: OnProgress): Promise<void> {
  const containers = await docker.listContainers({ all: true, filters: stackFilter(stack) });
  for (const c of containers) {
    assertOwned(c.Labels, stack, `container ${c.Names[0] ?? c.Id}`);
    onProgress(`removing leftover container ${c.Names[0]?.slice(1) ?? c.Id}`);
    await docker.getContainer(c.Id).remove({ force: true, v: true });
  }
  for (const n of await docker.listNetworks({ filters: stackFilter(stack) })) {
    assertOwned(n.Labels, stack, `network ${n.Name}`);
    await docker.getNetwork(n.Id).remove();
  }
  if (!what.volumes) return;
  const { Volumes } = await docker.listVolumes({ filters: stackFilter(stack) });
  for (const v of Volumes ?? []) {
    assertOwned(v.Labels, stack, `volume ${v.Name}`);
    onProgress(`removing volume ${v.Name} (${v.Name === names.replicaVolume(stack) ? "the read replica's data" : "PostgreSQL's data"})`);
    await docker.getVolume(v.Name).remove();
  }
}
