/**
 * The Kubernetes runtime against a FAKE Kubernetes API server (test/kubernetes/support/fake-kube-api.ts):
 * no API server can run on these machines. The fake keeps real list/watch semantics
 * (resourceVersion, watch streams, 404/409, server-side apply), runs tiny stand-ins for the
 * Deployment, StatefulSet and HPA controllers, and forwards its service and pod proxies to a real
 * local HTTP server that stands in for the pods' containers.
 */
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KubeConfig, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { request } from 'undici';
import { Namespace, Secret, Service } from 'kubernetes-models/v1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withDefaults, type Instance, type StackSpec } from '../../electron/contract.js';
import type { ReplicaEvent } from '../../electron/control/runtimes/local/replica-set.js';
import { deleteOwned, NotOwnedError } from '../../electron/control/runtimes/kubernetes/kube-apply.js';
import { KubeImageError, loadIntoMinikube, provideServiceImage } from '../../electron/control/runtimes/kubernetes/kube-images.js';
import { KubernetesRuntime } from '../../electron/control/runtimes/kubernetes/kubernetes-runtime.js';
import { probeKubernetes } from '../../electron/control/runtimes/kubernetes/cluster.js';
import { freePort } from '../../electron/control/runtimes/local/ports.js';
import { FakeKubeApi } from './support/fake-kube-api.js';
import { removeTempHome } from '../support/temp-home.js';

/** Creates an object the way another tool would (kubectl create): through the API, with the fake's kubeconfig. */
async function createObject(object: KubernetesObject): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromString(api.kubeConfig('fake'));
  await KubernetesObjectApi.makeApiClient(kc).create(object);
}

console.log('kubernetes runtime tests: against a FAKE Kubernetes API server (no cluster can run here)');

const IMAGE = 'registry.example.com/scalelab/service:1.0';
const spec = (over: Partial<Parameters<typeof withDefaults>[0]> = {}): StackSpec =>
  withDefaults({ runtime: 'kubernetes', name: 'kt', port, images: { service: IMAGE }, ...over });

/** A real HTTP server standing in for the pods' containers: answers like the api and records what reached it. */
function podStandIn(): Promise<{ server: Server; url: string; seen: { method: string; url: string; headers: IncomingHttpHeaders }[] }> {
  const seen: { method: string; url: string; headers: IncomingHttpHeaders }[] = [];
  const server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    if (req.url === '/metrics') {
      res
        .writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
        .end('# TYPE http_requests_total counter\nhttp_requests_total 7\n');
    } else if (req.url?.startsWith('/admin/')) {
      const ok = req.headers['x-scalelab-authorization'] === `Bearer ${runtime.adminToken()}`;
      res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' }).end(ok ? '{"latencyMs":0}' : '{"message":"unauthorized"}');
    } else {
      res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/json' }).end('{"id":"1"}');
    }
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen })),
  );
}

let api: FakeKubeApi;
let port: number;
let home: string;
let kubeconfig: string;
let runtime: KubernetesRuntime;
let standIn: Awaited<ReturnType<typeof podStandIn>>;
const events: ReplicaEvent[] = [];
const progress: string[] = [];

const count = (instances: Instance[], service: string, phase = 'ready') =>
  instances.filter((i) => i.service === service && i.phase === phase).length;
const objectsOf = (kind: string) => api.objects(kind).filter((o) => o.metadata?.namespace === 'scalelab-kt');

beforeAll(async () => {
  standIn = await podStandIn();
  port = await freePort();
  api = await FakeKubeApi.start({ podReadyAfterMs: 150, podBackend: () => standIn.url, hpaSyncMs: 300 });
  home = await mkdtemp(path.join(tmpdir(), 'scalelab-kube-'));
  kubeconfig = path.join(home, 'kubeconfig');
  await writeFile(kubeconfig, api.kubeConfig('fake'));
  runtime = new KubernetesRuntime({ home, kubeconfig, onEvent: (e) => events.push(e), pollMs: 300, readyTimeoutMs: 20_000 });
});

afterAll(async () => {
  await runtime?.dispose();
  await api?.close();
  standIn?.server.close();
  await removeTempHome(home);
});

describe('Kubernetes runtime (against a fake API server)', () => {
  it('probe lists the contexts, reaches the cluster and reports metrics-server', async () => {
    const probe = await probeKubernetes({ kubeconfig });
    expect(probe).toMatchObject({
      runtime: 'kubernetes',
      available: true,
      kubernetes: { contexts: ['fake'], context: 'fake', reachable: true, minikube: false, metricsServer: true },
    });
    expect(probe.version).toContain('v1.31.0-fake');
  });

  it('probe of an unreachable context says why and how to fix it', async () => {
    const broken = path.join(home, 'broken-kubeconfig');
    await writeFile(broken, api.kubeConfig('minikube').replace(api.url, 'http://127.0.0.1:1'));
    const probe = await probeKubernetes({ kubeconfig: broken, timeoutMs: 2000 });
    expect(probe.available).toBe(false);
    expect(probe.reason).toMatch(/does not answer/);
    expect(probe.fix).toMatch(/minikube start/);
    const missing = await probeKubernetes({ kubeconfig: broken, context: 'nope' });
    expect(missing.reason).toMatch(/no context "nope"/);
    const none = await probeKubernetes({ kubeconfig: path.join(home, 'absent') });
    expect(none).toMatchObject({
      available: false,
      reason: expect.stringContaining('no kubeconfig was found'),
      fix: expect.stringContaining('minikube start'),
    });
  });

  it('up applies every object with server-side apply and waits for each pod', async () => {
    const endpoints = await runtime.up(spec(), (m) => progress.push(m));
    expect(endpoints.balancer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(progress).toEqual(
      expect.arrayContaining(['applied Namespace scalelab-kt', 'applied StatefulSet scalelab-postgres', 'applied Deployment scalelab-api']),
    );
    expect(progress.filter((p) => p.includes('is ready ('))).toHaveLength(5);
    const applies = api.requests.filter((r) => r.method === 'PATCH' && r.contentType?.startsWith('application/apply-patch'));
    expect(applies.length).toBeGreaterThanOrEqual(9);
    expect(api.requests.some((r) => r.method === 'POST' && !r.path.includes('/proxy/'))).toBe(false);
    const instances = runtime.currentInstances();
    expect(count(instances, 'api')).toBe(2);
    expect(count(instances, 'worker')).toBe(1);
    expect(instances.map((i) => i.id)).toEqual(expect.arrayContaining(['postgres', 'redis']));
    expect(objectsOf('PersistentVolumeClaim').map((p) => p.metadata?.name)).toEqual(['data-scalelab-postgres-0']);
  });

  it('running up again is idempotent: same objects, same pods', async () => {
    const before = api.objects().filter((o) => o.kind !== 'Event').length;
    const pods = runtime
      .currentInstances()
      .map((i) => i.id)
      .sort();
    await runtime.up(spec(), () => undefined);
    expect(api.objects().filter((o) => o.kind !== 'Event').length).toBe(before);
    expect(
      runtime
        .currentInstances()
        .map((i) => i.id)
        .sort(),
    ).toEqual(pods);
  });

  it('every object the driver applied, as the API server stored it, validates against the Kubernetes schemas', () => {
    const kinds = { Namespace, Secret, Service, Deployment, StatefulSet } as Record<string, new (data: never) => { validate(): void }>;
    const applied = api.objects().filter((o) => o.metadata?.labels?.['scalelab.stack'] === 'kt' && kinds[o.kind!]);
    expect(applied.map((o) => o.kind).sort()).toEqual([
      'Deployment',
      'Deployment',
      'Deployment',
      'Namespace',
      'Secret',
      'Service',
      'Service',
      'Service',
      'StatefulSet',
    ]);
    for (const object of applied) new kinds[object.kind!]!(JSON.parse(JSON.stringify(object)) as never).validate();
  });

  it('traffic reaches the pods through the balancer and the api Service proxy', async () => {
    const url = runtime.currentSpec()!.port;
    const res = await request(`http://127.0.0.1:${url}/users`, {
      method: 'POST',
      body: '{"name":"Ada","email":"ada@example.com"}',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(201);
    await res.body.text();
    expect(standIn.seen.some((s) => s.method === 'POST' && s.url === '/users')).toBe(true);
    expect(runtime.takeBalancerSnapshot()?.requests).toBeGreaterThanOrEqual(1);
  });

  it('scrapes /metrics and calls fault hooks through the pod proxy, with the admin token in its own header', async () => {
    const pod = runtime.currentInstances().find((i) => i.service === 'api')!;
    const metrics = await request(runtime.metricsUrl(pod)!);
    expect(await metrics.body.text()).toContain('http_requests_total 7');
    const admin = await request(`${runtime.instanceUrl(pod)}/admin/faults`, {
      headers: { authorization: `Bearer ${runtime.adminToken()}` },
    });
    expect(admin.statusCode).toBe(200);
    await admin.body.text();
    expect(api.requests.some((r) => r.path.startsWith(`/api/v1/namespaces/scalelab-kt/pods/${pod.id}:3000/proxy/admin/faults`))).toBe(true);
  });

  it("logs shows a pod's tail and follow streams its new lines", async () => {
    const pod = runtime.currentInstances().find((i) => i.service === 'api')!;
    api.appendPodLog('scalelab-kt', pod.id, 'first line');
    api.appendPodLog('scalelab-kt', pod.id, 'second line');
    expect(await runtime.logs(pod.id, 1)).toEqual(['second line']);
    const seen: string[] = [];
    const stop = runtime.follow(pod.id, (line) => seen.push(line));
    await new Promise((r) => setTimeout(r, 300));
    api.appendPodLog('scalelab-kt', pod.id, 'third line');
    await expect.poll(() => seen, { timeout: 5000 }).toContain('third line');
    stop();
  });

  it('a container restart shows as a restart of its instance', async () => {
    const pod = runtime.currentInstances().find((i) => i.service === 'worker')!;
    api.crashPod('scalelab-kt', pod.id);
    await expect.poll(() => runtime.currentInstances().find((i) => i.id === pod.id)?.restarts, { timeout: 5000 }).toBe(1);
    await expect.poll(() => runtime.currentInstances().find((i) => i.id === pod.id)?.phase, { timeout: 5000 }).toBe('ready');
  });

  it('scale goes through the scale subresource and waits for the pods', async () => {
    await runtime.scale('api', 4);
    expect(count(runtime.currentInstances(), 'api')).toBe(4);
    expect(api.requests.some((r) => r.method === 'PUT' && r.path.endsWith('/deployments/scalelab-api/scale'))).toBe(true);
    await runtime.scale('api', 1);
    // The pods scaled away may still be terminating (draining) when scale resolves.
    expect(runtime.currentInstances().filter((i) => i.service === 'api' && i.phase !== 'terminating')).toHaveLength(1);
    await expect.poll(() => runtime.currentInstances().filter((i) => i.service === 'api').length, { timeout: 5000 }).toBe(1);
    expect(events.some((e) => e.message.includes('is gone'))).toBe(true);
  });

  it('pod metrics from metrics.k8s.io become cpu and memory per instance', async () => {
    const pod = runtime.currentInstances().find((i) => i.service === 'api')!;
    api.setPodMetrics('scalelab-kt', pod.id, { cpu: '120m', memory: '100Mi' });
    await expect
      .poll(() => runtime.usage().get(pod.id), { timeout: 5000 })
      .toEqual({ id: pod.id, cpu: expect.closeTo(12, 5), rssBytes: 100 * 1024 * 1024 });
  });

  it('killing a pod deletes it and the watch sees its replacement', async () => {
    const victim = runtime.currentInstances().find((i) => i.service === 'api')!;
    await runtime.kill(victim.id, 'kill');
    await expect
      .poll(() => runtime.currentInstances().filter((i) => i.service === 'api' && i.phase === 'ready' && i.id !== victim.id).length, {
        timeout: 10_000,
      })
      .toBe(1);
    expect(runtime.currentInstances().some((i) => i.id === victim.id && i.phase !== 'terminating')).toBe(false);
    await expect(runtime.kill(victim.id, 'pause')).rejects.toThrow(/cannot pause/);
  });

  it('refuses to delete a pod without the stack label', async () => {
    await createObject({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'decoy', namespace: 'scalelab-kt', labels: { 'app.kubernetes.io/component': 'api' } },
      spec: { containers: [{ name: 'c', image: 'x' }] },
    } as KubernetesObject);
    // The runtime never even sees it: its informer lists only labelled pods.
    await expect(runtime.kill('decoy', 'kill')).rejects.toThrow(/no pod "decoy"/);
    // And the delete path itself reads the object back and checks the label.
    const kc = new KubeConfig();
    kc.loadFromString(api.kubeConfig('fake'));
    await expect(
      deleteOwned(
        KubernetesObjectApi.makeApiClient(kc),
        { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'decoy', namespace: 'scalelab-kt' } },
        'kt',
      ),
    ).rejects.toThrow(NotOwnedError);
    expect(api.objects('Pod').some((p) => p.metadata?.name === 'decoy')).toBe(true);
  });

  it('a Redis outage scales it to 0 and back', async () => {
    let back: (err?: Error) => void = () => undefined;
    const returned = new Promise<Error | undefined>((resolve) => (back = resolve));
    await runtime.outage('redis', 300, back);
    expect(runtime.currentInstances().some((i) => i.id === 'redis' && i.phase !== 'terminating')).toBe(false);
    expect(await returned).toBeUndefined();
    expect(runtime.currentInstances().find((i) => i.id === 'redis')?.phase).toBe('ready');
  });

  it('with data.readReplica, the replica pod is the instance postgres-replica, its outage scales it to 0 and back, and turning it off deletes it with its volume', async () => {
    const seen: string[] = [];
    await runtime.up(spec({ data: { readReplica: true } }), (m) => seen.push(m));
    const names = (kind: string) =>
      objectsOf(kind)
        .map((o) => o.metadata?.name)
        .sort();
    expect(names('StatefulSet')).toEqual(['scalelab-postgres', 'scalelab-postgres-replica']);
    // Two postgres instances, Redis, 2 api and a worker.
    expect(seen.filter((m) => /^postgres-replica is ready \(\d\/6\)$/.test(m))).toHaveLength(1);
    expect(runtime.currentInstances().find((i) => i.id === 'postgres-replica')).toMatchObject({ service: 'postgres', phase: 'ready' });
    expect(names('PersistentVolumeClaim')).toEqual(['data-scalelab-postgres-0', 'data-scalelab-postgres-replica-0']);
    const apiDeployment = objectsOf('Deployment').find((d) => d.metadata?.name === 'scalelab-api') as unknown as {
      spec: { template: { spec: { containers: { env: { name: string }[] }[] } } };
    };
    expect(apiDeployment.spec.template.spec.containers[0]!.env.map((e) => e.name)).toContain('DATABASE_REPLICA_URL');

    let back: (err?: Error) => void = () => undefined;
    const returned = new Promise<Error | undefined>((resolve) => (back = resolve));
    await runtime.outage('postgres-replica', 300, back);
    expect(runtime.currentInstances().some((i) => i.id === 'postgres-replica' && i.phase !== 'terminating')).toBe(false);
    expect(runtime.currentInstances().find((i) => i.id === 'postgres')?.phase).toBe('ready');
    expect(await returned).toBeUndefined();
    expect(runtime.currentInstances().find((i) => i.id === 'postgres-replica')?.phase).toBe('ready');
    expect(api.requests.some((r) => r.method === 'PUT' && r.path.endsWith('/statefulsets/scalelab-postgres-replica/scale'))).toBe(true);

    const off: string[] = [];
    await runtime.up(spec(), (m) => off.push(m));
    expect(off).toEqual(
      expect.arrayContaining([
        'deleted StatefulSet scalelab-postgres-replica',
        'deleted Service scalelab-postgres-replica',
        'deleted PersistentVolumeClaim data-scalelab-postgres-replica-0',
      ]),
    );
    expect(names('StatefulSet')).toEqual(['scalelab-postgres']);
    expect(names('PersistentVolumeClaim')).toEqual(['data-scalelab-postgres-0']);
    await expect.poll(() => runtime.currentInstances().some((i) => i.id === 'postgres-replica'), { timeout: 10_000 }).toBe(false);
    await expect(runtime.outage('postgres-replica', 100, () => undefined)).rejects.toThrow(/runs no read replica/);
  });

  it('with the autoscaler on, real HPAs are applied and their status and events are read', async () => {
    await runtime.up(spec({ autoscaler: { enabled: true } }), () => undefined);
    expect(
      objectsOf('HorizontalPodAutoscaler')
        .map((h) => h.metadata?.name)
        .sort(),
    ).toEqual(['scalelab-api', 'scalelab-worker']);
    for (const pod of runtime.currentInstances().filter((i) => i.service === 'api'))
      api.setPodMetrics('scalelab-kt', pod.id, { cpu: '500m', memory: '64Mi' });
    await expect.poll(async () => (await runtime.autoscalerStatus()).hpa?.api?.desired ?? 0, { timeout: 10_000 }).toBeGreaterThan(1);
    const status = await runtime.autoscalerStatus();
    expect(status.mode).toBe('hpa');
    expect(status.hpa?.api?.conditions.map((c) => c.type)).toEqual(expect.arrayContaining(['AbleToScale', 'ScalingActive']));
    await expect
      .poll(async () => (await runtime.autoscalerStatus()).hpa?.api?.events.some((e) => e.reason === 'SuccessfulRescale'), {
        timeout: 10_000,
      })
      .toBe(true);
    expect(runtime.autoscalerGauges().find((g) => g.service === 'api')).toMatchObject({ metric: 'cpu', target: 50 });
    await expect(runtime.scale('api', 3)).rejects.toThrow(/HPA owns/);
    await runtime.configureAutoscaler({ service: 'api', enabled: false });
    await runtime.configureAutoscaler({ service: 'worker', enabled: false });
    expect(objectsOf('HorizontalPodAutoscaler')).toHaveLength(0);
    await expect(runtime.configureAutoscaler({ service: 'api', metrics: { rps: 10 } })).rejects.toThrow(/custom-metrics adapter/);
  });

  it('down keeps the PVC and secret, a later up finds them, and a purge deletes the namespace', async () => {
    await createObject({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'scalelab-other', labels: { 'scalelab.stack': 'other' } },
    });
    await runtime.down({ keepData: true });
    expect(objectsOf('Deployment')).toHaveLength(0);
    expect(objectsOf('StatefulSet')).toHaveLength(0);
    expect(objectsOf('PersistentVolumeClaim')).toHaveLength(1);
    expect(objectsOf('Secret')).toHaveLength(1);
    await runtime.up(spec(), () => undefined);
    expect(objectsOf('PersistentVolumeClaim')).toHaveLength(1);
    await runtime.down({ keepData: false });
    expect(api.objects('Namespace').map((n) => n.metadata?.name)).not.toContain('scalelab-kt');
    expect(api.objects('Namespace').map((n) => n.metadata?.name)).toContain('scalelab-other');
    expect(runtime.currentInstances()).toEqual([]);
  });
});

describe('the service image on Kubernetes', () => {
  it('a locally built image is refused outside Minikube, with what to do', async () => {
    await expect(
      provideServiceImage(withDefaults({ runtime: 'kubernetes' }), { minikube: false, context: 'prod' }, () => undefined),
    ).rejects.toThrow(KubeImageError);
    await expect(
      provideServiceImage(withDefaults({ runtime: 'kubernetes' }), { minikube: false, context: 'prod' }, () => undefined),
    ).rejects.toThrow(/--image-service/);
  });

  it('minikube image load reports its output as progress, and a failure says so', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'scalelab-minikube-'));
    const bin = path.join(dir, 'minikube');
    // A stand-in minikube executable: prints what the real one prints, then exits with $EXIT.
    await writeFile(bin, '#!/bin/sh\necho "Loading image $3 into profile $5"\necho "done" >&2\nexit ${EXIT:-0}\n');
    await chmod(bin, 0o755);
    const lines: string[] = [];
    await loadIntoMinikube(bin, 'minikube', 'scalelab/service:abc', (m) => lines.push(m));
    expect(lines).toEqual(['minikube image load: Loading image scalelab/service:abc into profile minikube', 'minikube image load: done']);
    await expect(loadIntoMinikube(path.join(dir, 'absent'), 'minikube', 'x:1', () => undefined)).rejects.toThrow(/not on PATH/);
    process.env.EXIT = '3';
    try {
      await expect(loadIntoMinikube(bin, 'minikube', 'x:1', () => undefined)).rejects.toThrow(/failed \(exit 3\): done/);
    } finally {
      delete process.env.EXIT;
      await removeTempHome(dir);
    }
  });
});
