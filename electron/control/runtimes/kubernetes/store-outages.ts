import type { KubeConfig } from '@kubernetes/client-node';
import type { Instance } from '../../../contract.js';
import type { ReplicaEvent } from '../local/replica-set.js';
import type { StoreId } from '../runtime.js';
import { setScale } from './kube-apply.js';
import { KUBE_NAMES } from './manifests.js';
import { waitForInstances } from './wait.js';

/** Options of {@link StoreOutages}. */
export interface StoreOutagesOptions {
  kc: KubeConfig;
  namespace: string;
  /** The runtime's instances and their changes. */
  source: { watch(onChange: (i: Instance[]) => void): () => void; currentInstances(): Instance[] };
  onEvent: (event: ReplicaEvent) => void;
  /** Longest wait for a store's pod to go or to come back. @defaultValue 180000 */
  timeoutMs?: number;
}

type Outage = { timer: NodeJS.Timeout | undefined; onBack: (err?: Error) => void; restoring: boolean };

const KIND = { redis: 'Deployment', postgres: 'StatefulSet', 'postgres-replica': 'StatefulSet' } as const;

/**
 * Chaos on the stores: scales Redis's Deployment (or PostgreSQL's or its replica's StatefulSet,
 * whose PVC keeps the data) to 0, holds it there, and scales it back to 1.
 */
export class StoreOutages {
  private readonly active = new Map<StoreId, Outage>();

  constructor(private readonly options: StoreOutagesOptions) {}

  /** Scales the store to 0 and resolves once its pod is gone; `onBack` follows when it is ready again. */
  async start(id: StoreId, forMs: number, onBack: (err?: Error) => void): Promise<void> {
    if (this.active.has(id)) throw new Error(`${id} is already down`);
    if (id === 'postgres-replica' && !this.options.source.currentInstances().some((i) => i.id === id)) {
      throw new RangeError('this stack runs no read replica; start it with data.readReplica on');
    }
    const name = KUBE_NAMES.workload(id);
    const outage: Outage = { timer: undefined, onBack, restoring: false };
    this.active.set(id, outage);
    await setScale(this.options.kc, KIND[id], this.options.namespace, name, 0);
    this.options.onEvent({
      kind: 'lifecycle',
      level: 'warn',
      message: `${KIND[id]} ${name} scaled to 0 for ${Math.round(forMs / 1000)} s`,
      instance: id,
    });
    await waitForInstances(this.options.source, {
      timeoutMs: this.options.timeoutMs ?? 180_000,
      what: `${id}'s pod to stop`,
      done: (i) => !i.some((x) => x.id === id && x.phase !== 'terminating'),
    });
    if (this.active.get(id) === outage) outage.timer = setTimeout(() => this.end(id), forMs);
  }

  /** Scales the store back to 1 now; nothing when it is not down. */
  end(id: StoreId): void {
    const outage = this.active.get(id);
    if (!outage || outage.restoring) return;
    outage.restoring = true;
    clearTimeout(outage.timer);
    const name = KUBE_NAMES.workload(id);
    void setScale(this.options.kc, KIND[id], this.options.namespace, name, 1)
      .then(() =>
        waitForInstances(this.options.source, {
          timeoutMs: this.options.timeoutMs ?? 180_000,
          what: `${id}'s pod to be ready`,
          done: (i) => i.some((x) => x.id === id && x.phase === 'ready'),
        }),
      )
      .then(
        () => {
          this.options.onEvent({ kind: 'lifecycle', level: 'info', message: `${KIND[id]} ${name} is back`, instance: id });
          outage.onBack();
        },
        (err: Error) => outage.onBack(err),
      )
      .finally(() => this.active.delete(id));
  }

  /** Forgets outages without restoring them (the runtime is letting go). Safe to call twice. */
  clear(): void {
    for (const outage of this.active.values()) clearTimeout(outage.timer);
    this.active.clear();
  }
}
