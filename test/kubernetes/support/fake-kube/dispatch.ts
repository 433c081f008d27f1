import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FakeCluster } from './cluster.js';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, VERSION_INFO } from './discovery.js';
import { readBody, sendJson } from './http.js';
import type { ServiceProxy } from './proxy.js';
import { handleRest } from './rest.js';
import { route, type ResourceRoute } from './routes.js';
import { methodNotAllowed, noSuchPath } from './status.js';
import { serveWatch } from './watch.js';

/** What the HTTP layer hands the dispatcher besides the request. */
export interface DispatchContext {
  cluster: FakeCluster;
  proxy: ServiceProxy;
  /** Ends of the open watch streams, for close(). */
  watches: Set<() => void>;
  /** host:port, as /api reports it. */
  serverAddress: string;
}

function discovery(value: unknown): unknown {
  if (value === undefined) throw noSuchPath();
  return value;
}

async function resource(ctx: DispatchContext, req: IncomingMessage, res: ServerResponse, r: ResourceRoute, url: URL): Promise<void> {
  const { cluster } = ctx;
  const method = req.method ?? 'GET';
  const query = url.searchParams;
  if (r.type.metrics) {
    if (!cluster.options.metricsServer) throw noSuchPath();
    if (method !== 'GET' || query.get('watch')) throw methodNotAllowed(method);
    sendJson(res, 200, cluster.metrics.serve(r.type, r.namespace, r.name, query.get('labelSelector')));
    return;
  }
  if (r.subresource === 'proxy') {
    ctx.proxy.serve(req, res, r, url.search);
    return;
  }
  if (r.subresource === 'log') {
    if (method !== 'GET') throw methodNotAllowed(method);
    cluster.logs.serve(res, r.namespace ?? '', r.name ?? '', query);
    return;
  }
  const watch = query.get('watch');
  if (method === 'GET' && (watch === 'true' || watch === '1' || r.watchPath)) {
    const end = serveWatch(cluster, res, r, query);
    ctx.watches.add(end);
    res.on('close', () => ctx.watches.delete(end));
    return;
  }
  const body = await readBody(req);
  const answer = handleRest(cluster, { method, route: r, query, body, contentType: req.headers['content-type'] ?? '' });
  sendJson(res, answer.status, answer.body);
}

/** Answers one authenticated request; throws KubeStatusError for the caller to send. */
export async function dispatch(ctx: DispatchContext, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const r = route(url.pathname);
  if (!r) throw noSuchPath();
  const metricsServer = ctx.cluster.options.metricsServer;
  if (r.kind !== 'resource' && req.method !== 'GET') throw methodNotAllowed(req.method ?? '');
  switch (r.kind) {
    case 'version':
      return sendJson(res, 200, VERSION_INFO);
    case 'health':
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('ok');
      return;
    case 'apiVersions':
      return sendJson(res, 200, apiVersions(ctx.serverAddress));
    case 'groups':
      return sendJson(res, 200, apiGroupList(metricsServer));
    case 'group':
      return sendJson(res, 200, discovery(apiGroup(r.group, metricsServer)));
    case 'resources':
      return sendJson(res, 200, discovery(apiResourceList(r.group, r.version, metricsServer)));
    case 'resource':
      return resource(ctx, req, res, r, url);
  }
}
