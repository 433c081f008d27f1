import type { ServerResponse } from 'node:http';
import type { FakeCluster } from './cluster.js';
import { apiVersionOf } from './resources.js';
import type { ResourceRoute } from './routes.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import { badRequest, KubeStatusError, methodNotAllowed } from './status.js';
import type { StoreEvent } from './store.js';
import type { KubeObject } from './types.js';

/** One line of a watch stream. */
export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: unknown;
}

/**
 * What a watch with a selector sees of a change: an object that starts matching is ADDED, one
 * that stops matching is DELETED, as the API server's watch cache reports it.
 */
function translate(event: StoreEvent, matches: (o: KubeObject) => boolean): WatchEvent | undefined {
  const now = matches(event.object);
  if (event.type === 'ADDED') return now ? { type: 'ADDED', object: event.object } : undefined;
  if (event.type === 'DELETED') return matches(event.previous ?? event.object) ? { type: 'DELETED', object: event.object } : undefined;
  const before = event.previous ? matches(event.previous) : false;
  if (before && now) return { type: 'MODIFIED', object: event.object };
  if (now) return { type: 'ADDED', object: event.object };
  if (before) return { type: 'DELETED', object: event.object };
  return undefined;
}

/**
 * Serves `?watch=true` on a collection: newline-delimited JSON events, each written (and so
 * flushed as one chunk) as it happens. From resourceVersion R it replays the history after R,
 * or answers an ERROR 410 Expired event when R is older than the history kept; without R (or
 * with 0) it starts with an ADDED event per current object. Honours labelSelector,
 * fieldSelector, timeoutSeconds and allowWatchBookmarks. Returns the function that ends it.
 */
export function serveWatch(cluster: FakeCluster, res: ServerResponse, route: ResourceRoute, query: URLSearchParams): () => void {
  const { type, namespace, name } = route;
  if (!type.verbs.includes('watch')) throw methodNotAllowed('GET');
  const labels = parseLabelSelector(query.get('labelSelector'));
  const fields = parseFieldSelector(query.get('fieldSelector'), type.kind);
  const matches = (o: KubeObject) =>
    (!type.namespaced || namespace === undefined || o.metadata.namespace === namespace) &&
    (name === undefined || o.metadata.name === name) &&
    labels(o.metadata.labels) &&
    fields(o);
  const from = query.get('resourceVersion') ?? '';
  if (from !== '' && !/^\d+$/.test(from)) throw badRequest(`invalid resource version: ${from}`);

  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache, private', 'transfer-encoding': 'chunked' });
  res.flushHeaders();
  const send = (event: WatchEvent) => {
    if (!res.writableEnded) res.write(`${JSON.stringify(event)}\n`);
  };
  const bookmark = (annotations?: Record<string, string>) =>
    send({
      type: 'BOOKMARK',
      object: {
        kind: type.kind,
        apiVersion: apiVersionOf(type),
        metadata: { resourceVersion: cluster.store.resourceVersion, ...(annotations ? { annotations } : {}) },
      },
    });

  const initial = from === '' || from === '0' || query.get('sendInitialEvents') === 'true';
  if (initial) {
    for (const object of cluster.store.list(type, namespace)) if (matches(object)) send({ type: 'ADDED', object });
    if (query.get('sendInitialEvents') === 'true') bookmark({ 'k8s.io/initial-events-end': 'true' });
  } else {
    const missed = cluster.store.eventsAfter(Number(from));
    if (!missed) {
      const gone = new KubeStatusError(410, 'Expired', `too old resource version: ${from} (${cluster.store.oldestResumable})`);
      send({ type: 'ERROR', object: gone.toStatus() });
      res.end();
      return () => {};
    }
    for (const event of missed)
      if (event.resource === type) {
        const out = translate(event, matches);
        if (out) send(out);
      }
  }

  const unsubscribe = cluster.store.subscribe((event) => {
    if (event.resource !== type) return;
    const out = translate(event, matches);
    if (out) send(out);
  });
  const timers: NodeJS.Timeout[] = [];
  const end = () => {
    unsubscribe();
    for (const t of timers) clearTimeout(t);
    if (!res.writableEnded) res.end();
  };
  if (query.get('allowWatchBookmarks') === 'true') timers.push(setInterval(() => bookmark(), cluster.options.bookmarkMs));
  const timeout = Number(query.get('timeoutSeconds') ?? 0);
  if (timeout > 0) timers.push(setTimeout(end, timeout * 1000));
  res.on('close', end);
  return end;
}
