import { randomUUID } from 'node:crypto';
import { clone, deepEqual, isJsonObject, timestamp } from './json.js';
import { apiVersionOf, groupResource, type ResourceType } from './resources.js';
import { alreadyExists, notFound } from './status.js';
import type { KubeObject } from './types.js';

/** One change to the store, as watches see it. */
export interface StoreEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  resource: ResourceType;
  /** The object after the change (for DELETED: its last state, with the deletion's resourceVersion). Frozen. */
  object: KubeObject;
  /** The object before the change, so filtered watches can tell an object leaving their selector. */
  previous?: KubeObject;
  resourceVersion: number;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

function key(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

/** Everything but metadata and status: what a change of bumps metadata.generation. */
function specOf(object: KubeObject): Record<string, unknown> {
  const { metadata: _metadata, status: _status, ...rest } = object;
  return rest;
}

/**
 * The fake's etcd: objects by resource type, one global resourceVersion counter, and the recent
 * change history that watches resume from. Stored objects are frozen and replaced, never changed
 * in place, so events can share them; callers only ever get copies.
 */
export class ObjectStore {
  private revision = 0;
  private readonly byType = new Map<ResourceType, Map<string, KubeObject>>();
  private readonly history: StoreEvent[] = [];
  /** Events up to this resourceVersion were dropped from the history. */
  private compactedThrough = 0;
  private creations = 0;
  private readonly createdAt = new Map<string, number>();
  private readonly listeners = new Set<(event: StoreEvent) => void>();

  constructor(
    private readonly historyLimit: number,
    private readonly onListenerError: (err: Error) => void,
  ) {}

  /** The latest resourceVersion, as lists report it. */
  get resourceVersion(): string {
    return String(this.revision);
  }

  private table(type: ResourceType): Map<string, KubeObject> {
    let table = this.byType.get(type);
    if (!table) this.byType.set(type, (table = new Map()));
    return table;
  }

  /** A copy of one object, or undefined. */
  get<T = KubeObject>(type: ResourceType, namespace: string | undefined, name: string): T | undefined {
    const found = this.table(type).get(key(type.namespaced ? namespace : undefined, name));
    return found ? (clone(found) as T) : undefined;
  }

  /** Copies of a type's objects (in one namespace, or all), ordered by namespace then name as etcd keys are. */
  list<T = KubeObject>(type: ResourceType, namespace?: string): T[] {
    return [...this.table(type).entries()]
      .filter(([, o]) => namespace === undefined || !type.namespaced || o.metadata.namespace === namespace)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, o]) => clone(o) as T);
  }

  /** The resource types that hold objects now. */
  types(): ResourceType[] {
    return [...this.byType.entries()].filter(([, table]) => table.size > 0).map(([type]) => type);
  }

  /** Order in which objects were created (later is larger): what "newest" means for scale-down. */
  creationOrder(object: KubeObject): number {
    return this.createdAt.get(object.metadata.uid ?? '') ?? 0;
  }

  /** Stores a new object, filling uid, resourceVersion, creationTimestamp and generation. */
  create<T = KubeObject>(type: ResourceType, object: KubeObject): T {
    const table = this.table(type);
    const k = key(type.namespaced ? object.metadata.namespace : undefined, object.metadata.name);
    if (table.has(k)) throw alreadyExists(groupResource(type), object.metadata.name);
    const stored = clone(object);
    stored.apiVersion = apiVersionOf(type);
    stored.kind = type.kind;
    stored.metadata.uid = randomUUID();
    stored.metadata.creationTimestamp = timestamp();
    stored.metadata.generation = 1;
    stored.metadata.resourceVersion = String((this.revision += 1));
    delete stored.metadata.deletionTimestamp;
    this.createdAt.set(stored.metadata.uid, (this.creations += 1));
    table.set(k, deepFreeze(stored));
    this.emit({ type: 'ADDED', resource: type, object: stored, resourceVersion: this.revision });
    return clone(stored) as T;
  }

  /**
   * Replaces an object. uid and creationTimestamp stay; generation goes up when anything but
   * metadata and status changed. An update that changes nothing writes nothing, as in Kubernetes:
   * same resourceVersion, no watch event.
   */
  update<T = KubeObject>(type: ResourceType, object: KubeObject): T {
    const table = this.table(type);
    const k = key(type.namespaced ? object.metadata.namespace : undefined, object.metadata.name);
    const previous = table.get(k);
    if (!previous) throw notFound(groupResource(type), object.metadata.name);
    const next = clone(object);
    next.apiVersion = apiVersionOf(type);
    next.kind = type.kind;
    next.metadata.uid = previous.metadata.uid;
    next.metadata.creationTimestamp = previous.metadata.creationTimestamp;
    next.metadata.generation = (previous.metadata.generation ?? 1) + (deepEqual(specOf(previous), specOf(next)) ? 0 : 1);
    next.metadata.resourceVersion = previous.metadata.resourceVersion;
    if (deepEqual(previous, next)) return clone(previous) as T;
    next.metadata.resourceVersion = String((this.revision += 1));
    table.set(k, deepFreeze(next));
    this.emit({ type: 'MODIFIED', resource: type, object: next, previous, resourceVersion: this.revision });
    return clone(next) as T;
  }

  /** Changes an object through `change` (on a copy) and stores it; undefined when it is gone. */
  mutate<T extends object = KubeObject>(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    change: (object: T) => void,
  ): T | undefined {
    const current = this.get<T>(type, namespace, name);
    if (!current) return undefined;
    change(current);
    return this.update<T>(type, current as unknown as KubeObject);
  }

  /** Removes an object now; the DELETED event carries a new resourceVersion. Undefined when it was not there. */
  remove(type: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const table = this.table(type);
    const k = key(type.namespaced ? namespace : undefined, name);
    const previous = table.get(k);
    if (!previous) return undefined;
    table.delete(k);
    this.createdAt.delete(previous.metadata.uid ?? '');
    const last = clone(previous);
    last.metadata.resourceVersion = String((this.revision += 1));
    deepFreeze(last);
    this.emit({ type: 'DELETED', resource: type, object: last, previous, resourceVersion: this.revision });
    return clone(last);
  }

  /** Events after `resourceVersion`, or undefined when some of them were already compacted away. */
  eventsAfter(resourceVersion: number): StoreEvent[] | undefined {
    if (resourceVersion < this.compactedThrough) return undefined;
    return this.history.filter((e) => e.resourceVersion > resourceVersion);
  }

  /** The oldest resourceVersion a watch can still resume from. */
  get oldestResumable(): number {
    return this.compactedThrough;
  }

  /** Calls `listener` after every change, synchronously; returns unsubscribe. */
  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: StoreEvent): void {
    this.history.push(event);
    while (this.history.length > this.historyLimit) this.compactedThrough = this.history.shift()?.resourceVersion ?? this.compactedThrough;
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (err) {
        this.onListenerError(err as Error);
      }
    }
  }
}

/** Whether `value` looks like a stored object (has metadata.name). */
export function isKubeObject(value: unknown): value is KubeObject {
  return isJsonObject(value) && isJsonObject(value.metadata) && typeof value.metadata.name === 'string';
}
