/** An owner of an object, for garbage collection. */
export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** The part of ObjectMeta the fake reads and writes; anything else is kept as sent. */
export interface ObjectMeta {
  name: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  [field: string]: unknown;
}

/** Any stored object, as JSON. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** cpu and memory of one pod, as Kubernetes quantities (`'120m'`, `'100Mi'`). */
export interface PodUsage {
  cpu: string;
  memory: string;
}

/** One request the fake received, for tests to assert on. */
export interface RecordedRequest {
  method: string;
  /** The URL's path, without the query. */
  path: string;
  /** The query parameters (the last value of each). */
  query: Record<string, string>;
  /** The request's Content-Type, '' when none. */
  contentType: string;
  /** The answer's status code, set once answered (watch streams: 200 when they start). */
  status?: number;
}

/** Options of `FakeKubeApi.start`. */
export interface FakeKubeApiOptions {
  /** One node named `minikube` with Minikube's labels, instead of one named `fake-node`. @defaultValue false */
  minikube?: boolean;
  /** Serve metrics.k8s.io and register its APIService as Available. @defaultValue true */
  metricsServer?: boolean;
  /** How long a started pod takes to become Ready, and to be Ready again after a crash. @defaultValue 300 */
  podReadyAfterMs?: number;
  /** How long a deleted pod stays Terminating before it goes. @defaultValue 100 */
  podTerminationMs?: number;
  /** How long a deleted namespace stays Terminating before it and its objects go. @defaultValue 200 */
  namespaceDeleteMs?: number;
  /** Period of the HPA controller. @defaultValue 500 */
  hpaSyncMs?: number;
  /** Period of BOOKMARK events on watches that allow them. @defaultValue 1000 */
  bookmarkMs?: number;
  /** Watch events kept for resuming; older resourceVersions get 410 Gone. @defaultValue 1000 */
  watchHistory?: number;
  /**
   * Base URL of a real HTTP server standing in for a pod (`port` is the one asked for through a
   * proxy path or a Service's targetPort); undefined when the pod answers nothing.
   */
  podBackend?: (pod: KubeObject, port: string | undefined) => string | undefined;
  /** Where the fake's banner and its errors go; `false` for silence. @defaultValue stderr */
  log?: ((line: string) => void) | false;
}

/** {@link FakeKubeApiOptions} with every default filled in. */
export type ResolvedOptions = Required<Omit<FakeKubeApiOptions, 'podBackend' | 'log'>> & {
  podBackend: FakeKubeApiOptions['podBackend'];
};
