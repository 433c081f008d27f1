import type { IPod, IService, IServicePort } from 'kubernetes-models/v1';
import { Agent, request, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { FakeCluster } from './cluster.js';
import { isPodReady } from './kubelet.js';
import { R } from './resources.js';
import type { ResourceRoute } from './routes.js';
import { notFound, serviceUnavailable } from './status.js';
import type { KubeObject } from './types.js';

type PodObject = IPod & KubeObject;

/** Hop-by-hop headers, and the caller's credentials for the API server: never forwarded. */
const DROPPED = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'host',
  'authorization',
]);

function forwardable(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !DROPPED.has(k.toLowerCase())) out[k] = v;
  return out;
}

function refused(pod: PodObject | undefined, port: string | undefined): Error {
  return serviceUnavailable(
    `error trying to reach service: dial tcp ${pod?.status?.podIP ?? ''}:${port ?? 80}: connect: connection refused`,
  );
}

/** A Service port's targetPort as a number string, a named one resolved through the pod's container ports. */
function targetPortOf(port: IServicePort, pod: PodObject): string {
  const target = port.targetPort ?? port.port;
  if (typeof target === 'number' || /^\d+$/.test(target)) return String(target);
  const named = pod.spec?.containers.flatMap((c) => c.ports ?? []).find((p) => p.name === target);
  return String(named?.containerPort ?? target);
}

/**
 * The API server's proxy subresource: `services/<name>[:<port>]/proxy/<path>` picks a Ready pod
 * the Service selects (round-robin) and `pods/<name>[:<port>]/proxy/<path>` that pod, then
 * streams the request to `podBackend(pod, port)` and the answer back, status and headers kept.
 */
export class ServiceProxy {
  private readonly turns = new Map<string, number>();
  /** Its own agent, so close() can drop the kept-alive connections to the backends. */
  private readonly agent = new Agent({ keepAlive: true });

  constructor(private readonly cluster: FakeCluster) {}

  /** Finds the pod and port a proxy route reaches; throws the Status the API server answers with. */
  private resolve(route: ResourceRoute): { pod: PodObject; port: string | undefined } {
    const { store } = this.cluster;
    const namespace = route.namespace ?? '';
    const name = route.name ?? '';
    if (route.type === R.pod) {
      const pod = store.get<PodObject>(R.pod, namespace, name);
      if (!pod) throw notFound('pods', name);
      return { pod, port: route.proxyPort };
    }
    const service = store.get<IService & KubeObject>(R.service, namespace, name);
    if (!service) throw notFound('services', name);
    const wanted = route.proxyPort ?? '';
    const port =
      (service.spec?.ports ?? []).find((p) => (p.name ?? '') === wanted || String(p.port) === wanted) ??
      (wanted === '' ? service.spec?.ports?.[0] : undefined);
    const selector = service.spec?.selector ?? {};
    const ready =
      Object.keys(selector).length === 0
        ? []
        : store
            .list<PodObject>(R.pod, namespace)
            .filter((p) => isPodReady(p) && Object.entries(selector).every(([k, v]) => p.metadata.labels?.[k] === v));
    if (!port || ready.length === 0) throw serviceUnavailable(`no endpoints available for service "${name}"`);
    const key = `${namespace}/${name}`;
    const turn = this.turns.get(key) ?? 0;
    this.turns.set(key, turn + 1);
    const pod = ready[turn % ready.length]!;
    return { pod, port: targetPortOf(port, pod) };
  }

  /** Proxies one request; the body is streamed, never read here. */
  serve(req: IncomingMessage, res: ServerResponse, route: ResourceRoute, search: string): void {
    const { pod, port } = this.resolve(route);
    const base = this.cluster.options.podBackend?.(pod, port);
    if (!base || pod.status?.phase !== 'Running') throw refused(pod, port);
    const target = new URL(`${base.replace(/\/$/, '')}${route.proxyPath ?? '/'}${search}`);
    const upstream = request(target, { method: req.method, headers: forwardable(req.headers), agent: this.agent }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, forwardable(answer.headers));
      answer.pipe(res);
    });
    upstream.on('error', (err) => {
      if (res.headersSent) res.destroy(err);
      else {
        const status = serviceUnavailable(`error trying to reach service: ${err.message}`).toStatus();
        res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify(status));
      }
    });
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  }

  /** Closes the connections to the backends. Safe to call twice. */
  close(): void {
    this.agent.destroy();
  }
}
