/**
 * FAKE Kubernetes API server for tests: no cluster can run on the test machines, so the
 * Kubernetes runtime driver is tested against this in-memory stand-in. It speaks the real API's
 * HTTP and JSON (discovery, CRUD, server-side apply, watches, Status errors, the scale, status,
 * log and proxy subresources, metrics.k8s.io) and runs a tiny control plane (scheduler and
 * kubelet, Deployment/StatefulSet/HPA controllers, garbage collector, namespace lifecycle) on
 * timers. test/kubernetes/fake-kube-api.test.ts drives it through @kubernetes/client-node.
 *
 * Where it knowingly differs from a real API server:
 * - Server-side apply is a merge patch: maps merge, lists replace, no managedFields, so a field
 *   dropped from a later apply stays (a real server removes it) and there are no apply conflicts.
 *   Strategic merge patches are merge patches too (lists are replaced, not merged by key).
 * - Deployments own their pods directly (no ReplicaSet objects); pod names still carry a
 *   pod-template-hash. Scale-down removes not-Ready pods first, then the newest.
 * - The HPA has no default 5-minute scale-down stabilization (only spec.behavior's windows).
 * - Nothing runs: a pod is Running/Ready on a timer, and answers only through `podBackend`.
 * - Anonymous requests may read /version and the health paths; any other request without the
 *   token gets 401 (a real server with anonymous auth would answer 403).
 * - No admission webhooks, RBAC, quotas, field validation of unknown fields, or protobuf/CBOR.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeCluster } from './fake-kube/cluster.js';
import { dispatch, type DispatchContext } from './fake-kube/dispatch.js';
import { sendError } from './fake-kube/http.js';
import { kubeConfigYaml } from './fake-kube/kubeconfig.js';
import { ServiceProxy } from './fake-kube/proxy.js';
import { resourceOfKind } from './fake-kube/resources.js';
import { FakeKubeUsageError, KubeStatusError, reasonOf } from './fake-kube/status.js';
import type { FakeKubeApiOptions, KubeObject, PodUsage, RecordedRequest, ResolvedOptions } from './fake-kube/types.js';

export type { FakeKubeApiOptions, KubeObject, PodUsage, RecordedRequest } from './fake-kube/types.js';
export { FakeKubeUsageError } from './fake-kube/status.js';

/** How the fake introduces itself in logs, so nobody mistakes it for a cluster. */
export const FAKE_BANNER = 'fake Kubernetes API server';

/** Paths the API server lets anonymous callers read (system:public-info-viewer). */
const PUBLIC_PATHS = /^\/(version|healthz|livez|readyz)(\/|$)/;

/** Requests kept in {@link FakeKubeApi.requests}; older ones are dropped. */
const REQUEST_LOG_LIMIT = 10_000;

interface InjectedFailure {
  method: string;
  path: RegExp;
  status: number;
  message?: string;
}

/**
 * A FAKE Kubernetes API server on 127.0.0.1 (random port), for tests. Start it, hand
 * `kubeConfig()` to the code under test, drive the simulated cluster with the test hooks
 * (`setPodMetrics`, `crashPod`, `appendPodLog`, `failNext`), assert on `requests` and
 * `objects()`, and `close()` it.
 */
export class FakeKubeApi {
  /** Every request received, oldest first (method, path, query, content type, answer status). */
  readonly requests: RecordedRequest[] = [];
  private readonly failures: InjectedFailure[] = [];
  private readonly watches = new Set<() => void>();
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly server: Server,
    private readonly cluster: FakeCluster,
    private readonly proxy: ServiceProxy,
    /** The bearer token the kubeconfig carries and every request must present. */
    readonly token: string,
    /** `http://127.0.0.1:<port>` */
    readonly url: string,
  ) {}

  /** Starts a fake API server with a fresh cluster (namespaces, one node, APIServices). */
  static async start(options: FakeKubeApiOptions = {}): Promise<FakeKubeApi> {
    const log = options.log === false ? () => {} : (options.log ?? ((line: string) => process.stderr.write(`${line}\n`)));
    const resolved: ResolvedOptions = {
      minikube: options.minikube ?? false,
      metricsServer: options.metricsServer ?? true,
      podReadyAfterMs: options.podReadyAfterMs ?? 300,
      podTerminationMs: options.podTerminationMs ?? 100,
      namespaceDeleteMs: options.namespaceDeleteMs ?? 200,
      hpaSyncMs: options.hpaSyncMs ?? 500,
      bookmarkMs: options.bookmarkMs ?? 1000,
      watchHistory: options.watchHistory ?? 1000,
      podBackend: options.podBackend,
    };
    const cluster = new FakeCluster(resolved, (line) => log(`[${FAKE_BANNER}] ${line}`));
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const proxy = new ServiceProxy(cluster);
    const api = new FakeKubeApi(server, cluster, proxy, randomBytes(24).toString('hex'), `http://127.0.0.1:${port}`);
    const context: DispatchContext = { cluster, proxy, watches: api.watches, serverAddress: `127.0.0.1:${port}` };
    server.on('request', (req: IncomingMessage, res: ServerResponse) => api.handle(context, req, res));
    log(`[${FAKE_BANNER}] listening on ${api.url} — a test double, not a cluster${resolved.minikube ? ' (posing as Minikube)' : ''}`);
    return api;
  }

  /** A kubeconfig (YAML) whose only context, `context`, reaches this server with its token. */
  kubeConfig(context = 'fake'): string {
    return kubeConfigYaml(this.url, this.token, context);
  }

  /** Copies of the stored objects, of one Kind (`'Pod'`) if given; with a namespace, only what lives in it. */
  objects(kind?: string, namespace?: string): KubeObject[] {
    const type = kind === undefined ? undefined : resourceOfKind(kind);
    if (kind !== undefined && !type) throw new FakeKubeUsageError(`the fake serves no Kind ${kind}`);
    const types = (type ? [type] : this.cluster.store.types()).filter((t) => namespace === undefined || t.namespaced);
    return types.flatMap((t) => this.cluster.store.list(t, namespace));
  }

  /** What metrics-server reports for a pod from now on (until the pod goes). */
  setPodMetrics(namespace: string, pod: string, usage: PodUsage): void {
    this.cluster.metrics.set(namespace, pod, usage);
  }

  /** Appends a line to a pod's log (what pods/<name>/log and its followers see). */
  appendPodLog(namespace: string, pod: string, line: string): void {
    this.cluster.logs.append(namespace, pod, line);
  }

  /** Makes the next request whose method (or `'*'`) and path match answer `status` with a Status. */
  failNext(method: string, path: RegExp, status: number, message?: string): void {
    this.failures.push({ method: method.toUpperCase(), path, status, message });
  }

  /** A container of the pod crashes: restartCount + 1, not Ready, Ready again after podReadyAfterMs. */
  crashPod(namespace: string, name: string): void {
    this.cluster.kubelet.crash(namespace, name);
  }

  /** Runs the HPA controller now instead of waiting for its next period. */
  syncHpa(): void {
    this.cluster.hpa.syncAll();
  }

  /** Stops the controllers, ends every watch and follow, and closes the server. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const errors: unknown[] = [];
      const step = (work: () => void) => {
        try {
          work();
        } catch (err) {
          errors.push(err);
        }
      };
      step(() => this.cluster.stop());
      for (const end of [...this.watches]) step(end);
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      step(() => this.server.closeAllConnections());
      step(() => this.proxy.close());
      await closed;
      if (errors.length > 0) throw errors[0];
    })();
    return this.closing;
  }

  private handle(context: DispatchContext, req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.url);
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      contentType: req.headers['content-type'] ?? '',
    };
    // A getter, so a watch stream that is still open already shows its 200.
    Object.defineProperty(record, 'status', { enumerable: true, get: () => (res.headersSent ? res.statusCode : undefined) });
    this.requests.push(record);
    if (this.requests.length > REQUEST_LOG_LIMIT) this.requests.shift();

    const auth = req.headers.authorization;
    if (auth !== `Bearer ${this.token}` && !(auth === undefined && PUBLIC_PATHS.test(url.pathname))) {
      req.resume();
      sendError(res, new KubeStatusError(401, 'Unauthorized', 'Unauthorized'));
      return;
    }
    const index = this.failures.findIndex((f) => (f.method === '*' || f.method === record.method) && f.path.test(url.pathname));
    const failure = index >= 0 ? this.failures.splice(index, 1)[0] : undefined;
    if (failure) {
      req.resume();
      if (failure.status === 429) res.setHeader('retry-after', '1');
      sendError(
        res,
        new KubeStatusError(
          failure.status,
          reasonOf(failure.status),
          failure.message ?? `${FAKE_BANNER}: injected ${failure.status} for ${record.method} ${url.pathname}`,
        ),
      );
      return;
    }
    dispatch(context, req, res, url).catch((err: unknown) => {
      if (!(err instanceof KubeStatusError))
        this.cluster.log(`${record.method} ${url.pathname} failed: ${(err as Error).stack ?? String(err)}`);
      req.resume();
      sendError(res, err);
    });
  }
}
