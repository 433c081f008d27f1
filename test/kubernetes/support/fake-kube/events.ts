import type { IEvent } from 'kubernetes-models/v1';
import { randomUUID } from 'node:crypto';
import { timestamp } from './json.js';
import { R } from './resources.js';
import type { ObjectStore } from './store.js';
import type { KubeObject } from './types.js';

/** Who reports an event, as `source.component` names it. */
export type EventSource =
  'default-scheduler' | 'kubelet' | 'horizontal-pod-autoscaler' | 'deployment-controller' | 'statefulset-controller';

/**
 * Records core/v1 Events about objects the way client-go's recorder does: in the object's
 * namespace, named `<object>.<hex>`, and a repeat of the same reason and message bumps `count`
 * and `lastTimestamp` instead of adding another Event.
 */
export class EventRecorder {
  constructor(
    private readonly store: ObjectStore,
    private readonly nodeName: string,
  ) {}

  /** Records that `reason` happened to `object`. Nothing when its namespace is gone or going. */
  record(object: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string, source: EventSource): void {
    const namespace = object.metadata.namespace ?? 'default';
    const ns = this.store.get(R.namespace, undefined, namespace);
    if (!ns || (ns.status as { phase?: string } | undefined)?.phase === 'Terminating') return;
    const now = timestamp();
    const same = this.store
      .list<IEvent & KubeObject>(R.event, namespace)
      .find(
        (e) =>
          e.involvedObject.uid === object.metadata.uid && e.reason === reason && e.message === message && e.source?.component === source,
      );
    if (same) {
      this.store.mutate<IEvent>(R.event, namespace, same.metadata.name, (e) => {
        e.count = (e.count ?? 1) + 1;
        e.lastTimestamp = now;
      });
      return;
    }
    const event: IEvent = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${object.metadata.name}.${randomUUID().replace(/-/g, '').slice(0, 16)}`, namespace },
      involvedObject: {
        apiVersion: object.apiVersion,
        kind: object.kind,
        name: object.metadata.name,
        namespace: object.metadata.namespace,
        uid: object.metadata.uid,
        resourceVersion: object.metadata.resourceVersion,
      },
      reason,
      message,
      type,
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
      source: { component: source, ...(source === 'kubelet' ? { host: this.nodeName } : {}) },
      reportingComponent: source === 'kubelet' ? 'kubelet' : source,
      reportingInstance: source === 'kubelet' ? this.nodeName : '',
    };
    this.store.create(R.event, event as unknown as KubeObject);
  }
}
