import type { IDeployment, IStatefulSet } from 'kubernetes-models/apps/v1';
import { admit } from './defaults.js';
import { deleteObject, type DeleteOptions, type DeleteResult } from './deletion.js';
import { syncDeployment } from './deployments.js';
import { EventRecorder } from './events.js';
import { HpaController } from './hpa.js';
import { randomSuffix } from './json.js';
import { FakeKubelet } from './kubelet.js';
import { PodMetricsStore } from './metrics.js';
import { PodLogStore } from './pod-logs.js';
import { R, apiVersionOf, groupResource, type ResourceType } from './resources.js';
import { seed } from './seed.js';
import { syncStatefulSet } from './statefulsets.js';
import { forbidden, KubeStatusError, notFound } from './status.js';
import { ObjectStore } from './store.js';
import { Timers } from './timers.js';
import type { KubeObject, ResolvedOptions } from './types.js';

/**
 * The fake cluster behind the HTTP layer: the object store and the small control plane that
 * acts on it (scheduler and kubelet, Deployment, StatefulSet and HPA controllers, garbage
 * collector, namespace lifecycle), all on timers that stop() clears.
 */
export class FakeCluster {
  readonly store: ObjectStore;
  readonly timers: Timers;
  readonly events: EventRecorder;
  readonly kubelet: FakeKubelet;
  readonly metrics: PodMetricsStore;
  readonly logs: PodLogStore;
  readonly hpa: HpaController;
  readonly nodeName: string;
  private readonly unsubscribe: () => void;
  private workloadSyncQueued = false;

  constructor(
    readonly options: ResolvedOptions,
    readonly log: (line: string) => void,
  ) {
    const onError = (err: Error) => log(`controller error: ${err.stack ?? err.message}`);
    this.store = new ObjectStore(options.watchHistory, onError);
    this.timers = new Timers(onError);
    this.nodeName = options.minikube ? 'minikube' : 'fake-node';
    seed(this.store, this.nodeName, options.minikube, options.metricsServer);
    this.events = new EventRecorder(this.store, this.nodeName);
    this.kubelet = new FakeKubelet(this);
    this.metrics = new PodMetricsStore(this.store);
    this.logs = new PodLogStore(this.store);
    this.hpa = new HpaController(this);
    this.unsubscribe = this.store.subscribe((event) => {
      this.kubelet.onEvent(event);
      if (event.resource === R.deployment || event.resource === R.statefulSet || event.resource === R.pod) this.queueWorkloadSync();
    });
  }

  /**
   * Creates an object as the API server does for any client (controllers included): the
   * namespace must exist and not be terminating, generateName is resolved, defaults and
   * validation apply.
   */
  createObject(type: ResourceType, object: KubeObject, dryRun = false): KubeObject {
    const namespace = object.metadata.namespace;
    if (!object.metadata.name && object.metadata.generateName) object.metadata.name = `${object.metadata.generateName}${randomSuffix(5)}`;
    if (type.namespaced) {
      const ns = this.store.get(R.namespace, undefined, namespace ?? '');
      if (!ns) throw notFound('namespaces', namespace ?? '');
      if (ns.metadata.deletionTimestamp)
        throw forbidden(
          groupResource(type),
          object.metadata.name,
          `unable to create new content in namespace ${namespace} because it is being terminated`,
        );
    } else delete object.metadata.namespace;
    const admitted = admit(this.store, type, object);
    if (dryRun) {
      if (this.store.get(type, namespace, admitted.metadata.name))
        throw new KubeStatusError(409, 'AlreadyExists', `${groupResource(type)} "${admitted.metadata.name}" already exists`);
      return { ...admitted, apiVersion: apiVersionOf(type), kind: type.kind };
    }
    return this.store.create(type, admitted);
  }

  /** Deletes as the API server and its controllers do; see {@link deleteObject}. */
  deleteObject(type: ResourceType, namespace: string | undefined, name: string, options?: DeleteOptions): DeleteResult {
    return deleteObject(this, type, namespace, name, options);
  }

  /** Runs the Deployment and StatefulSet controllers once, soon (changes come in bursts). */
  private queueWorkloadSync(): void {
    if (this.workloadSyncQueued) return;
    this.workloadSyncQueued = true;
    this.timers.after(0, () => {
      this.workloadSyncQueued = false;
      this.syncWorkloads();
    });
  }

  private syncWorkloads(): void {
    const each = <T extends KubeObject>(type: ResourceType, sync: (cluster: FakeCluster, object: T) => void) => {
      for (const object of this.store.list<T>(type)) {
        try {
          sync(this, object);
        } catch (err) {
          // The namespace is going (403) or a pod just went (404/409): the next change retries.
          if (err instanceof KubeStatusError && [403, 404, 409].includes(err.code)) continue;
          this.log(`${type.kind} ${object.metadata.namespace}/${object.metadata.name}: ${(err as Error).message}`);
        }
      }
    };
    each<IDeployment & KubeObject>(R.deployment, syncDeployment);
    each<IStatefulSet & KubeObject>(R.statefulSet, syncStatefulSet);
  }

  /** Stops every controller and timer. Safe to call twice. */
  stop(): void {
    this.timers.stop();
    this.unsubscribe();
    this.metrics.stop();
    this.logs.stop();
  }
}
