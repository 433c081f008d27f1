import type { IPod } from 'kubernetes-models/v1';
import type { ServerResponse } from 'node:http';
import { R } from './resources.js';
import { badRequest, FakeKubeUsageError, notFound } from './status.js';
import type { ObjectStore } from './store.js';
import type { KubeObject } from './types.js';

type PodObject = IPod & KubeObject;

interface LogLine {
  at: string;
  text: string;
}

/**
 * What pods "printed": lines tests append, served at pods/<name>/log with tailLines, timestamps
 * and follow, as the kubelet serves container logs. A pod's log goes with the pod.
 */
export class PodLogStore {
  private readonly lines = new Map<string, LogLine[]>();
  /** Per pod: each follow stream, and whether it asked for timestamps. */
  private readonly followers = new Map<string, Map<ServerResponse, boolean>>();
  private readonly unsubscribe: () => void;

  constructor(private readonly store: ObjectStore) {
    this.unsubscribe = store.subscribe((event) => {
      if (event.resource !== R.pod || event.type !== 'DELETED') return;
      const key = `${event.object.metadata.namespace}/${event.object.metadata.name}`;
      this.lines.delete(key);
      for (const res of this.followers.get(key)?.keys() ?? []) res.end();
      this.followers.delete(key);
    });
  }

  /** Appends a line to a pod's log (and to every follower's stream). */
  append(namespace: string, pod: string, text: string): void {
    if (!this.store.get(R.pod, namespace, pod)) throw new FakeKubeUsageError(`no pod ${namespace}/${pod} to log for`);
    const key = `${namespace}/${pod}`;
    const line = { at: new Date().toISOString(), text };
    const lines = this.lines.get(key) ?? [];
    lines.push(line);
    this.lines.set(key, lines);
    for (const [res, stamp] of this.followers.get(key) ?? []) res.write(`${stamp ? `${line.at} ` : ''}${text}\n`);
  }

  /** Answers GET pods/<name>/log; a follow stays open until the pod goes or the client leaves. */
  serve(res: ServerResponse, namespace: string, name: string, query: URLSearchParams): void {
    const pod = this.store.get<PodObject>(R.pod, namespace, name);
    if (!pod) throw notFound('pods', name);
    const containers = (pod.spec?.containers ?? []).map((c) => c.name);
    const container = query.get('container') ?? (containers.length === 1 ? containers[0] : undefined);
    if (!container) throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]`);
    if (!containers.includes(container)) throw badRequest(`container ${container} is not valid for pod ${name}`);
    if (!pod.status?.containerStatuses?.some((c) => c.name === container && c.state?.running)) {
      throw badRequest(`container "${container}" in pod "${name}" is waiting to start: ContainerCreating`);
    }
    const key = `${namespace}/${name}`;
    const tail = query.get('tailLines');
    const all = this.lines.get(key) ?? [];
    const shown = tail === null ? all : all.slice(Math.max(0, all.length - Number(tail)));
    const stamp = query.get('timestamps') === 'true';
    res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-cache, private' });
    res.write(shown.map((l) => `${stamp ? `${l.at} ` : ''}${l.text}\n`).join(''));
    if (query.get('follow') !== 'true') {
      res.end();
      return;
    }
    const followers = this.followers.get(key) ?? new Map<ServerResponse, boolean>();
    followers.set(res, stamp);
    this.followers.set(key, followers);
    res.on('close', () => followers.delete(res));
  }

  /** Ends every follow stream and stops following pod deletions. Safe to call twice. */
  stop(): void {
    this.unsubscribe();
    for (const followers of this.followers.values()) for (const res of followers.keys()) res.end();
    this.followers.clear();
  }
}
