import { PassThrough } from 'node:stream';
import { CoreV1Api, Log, type KubeConfig, type V1Pod } from '@kubernetes/client-node';

/** The last `lines` lines of a pod's log (`kubectl logs --tail`); none when it cannot be read. */
export async function tailPodLog(kc: KubeConfig, namespace: string, pod: V1Pod, lines: number): Promise<string[]> {
  const text = await kc
    .makeApiClient(CoreV1Api)
    .readNamespacedPodLog({ name: pod.metadata!.name!, namespace, tailLines: lines })
    .catch(() => '');
  return String(text).split('\n').filter(Boolean).slice(-lines);
}

/** Follows a pod's log through the API server (`kubectl logs -f`), line by line; returns stop. */
export function followPodLog(kc: KubeConfig, namespace: string, pod: V1Pod, onLine: (line: string) => void): () => void {
  let rest = '';
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => {
    const lines = (rest + chunk.toString()).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) if (line) onLine(line);
  });
  let stopped = false;
  let abort: AbortController | undefined;
  const container = pod.spec?.containers[0]?.name ?? '';
  void new Log(kc)
    .log(namespace, pod.metadata!.name!, container, stream, { follow: true, tailLines: 0 })
    .then((controller) => (stopped ? controller.abort() : (abort = controller)))
    .catch(() => undefined);
  return () => {
    stopped = true;
    abort?.abort();
    stream.destroy();
  };
}
