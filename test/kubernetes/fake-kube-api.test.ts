import * as k8s from '@kubernetes/client-node';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FAKE_BANNER, FakeKubeApi, type FakeKubeApiOptions } from './support/fake-kube-api.js';

let api: FakeKubeApi | undefined;
let logLines: string[] = [];

/** Starts a fake (quick pods and HPA) and the client-node APIs the driver uses, all pointed at it. */
async function startFake(options: FakeKubeApiOptions = {}, context = 'fake') {
  logLines = [];
  api = await FakeKubeApi.start({ podReadyAfterMs: 60, hpaSyncMs: 100, log: (line) => logLines.push(line), ...options });
  const kc = new k8s.KubeConfig();
  kc.loadFromString(api.kubeConfig(context));
  return {
    fake: api,
    kc,
    objects: k8s.KubernetesObjectApi.makeApiClient(kc),
    core: kc.makeApiClient(k8s.CoreV1Api),
    apps: kc.makeApiClient(k8s.AppsV1Api),
    autoscaling: kc.makeApiClient(k8s.AutoscalingV2Api),
  };
}

afterEach(async () => {
  await api?.close();
  api = undefined;
});

/** The HTTP code and Status body a client-node call failed with. */
async function failure(promise: Promise<unknown>): Promise<{ code: number; status: { reason?: string; message?: string; code?: number } }> {
  try {
    await promise;
  } catch (err) {
    if (!(err instanceof k8s.ApiException)) throw err;
    const body: unknown = err.body;
    return { code: err.code, status: typeof body === 'string' ? JSON.parse(body) : body };
  }
  throw new Error('expected the request to fail');
}

function deployment(namespace: string, name: string, replicas: number): k8s.V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, tier: 'web' } },
        spec: {
          containers: [
            {
              name: 'api',
              image: 'scalelab/api:1.0',
              ports: [{ name: 'http', containerPort: 8080 }],
              resources: { requests: { cpu: '100m', memory: '64Mi' } },
            },
          ],
        },
      },
    },
  };
}

const isReady = (p: k8s.V1Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
const waitFor = <T>(check: () => Promise<T> | T, timeout = 8000) => vi.waitFor(check, { timeout, interval: 25 });
const authorized = (fake: FakeKubeApi) => ({ authorization: `Bearer ${fake.token}` });

describe('fake Kubernetes API server: HTTP, discovery and errors', () => {
  it('introduces itself as a fake, answers /version, and closes twice without error', async () => {
    const { kc, fake } = await startFake();
    expect(logLines.some((l) => l.includes(FAKE_BANNER) && l.includes(fake.url))).toBe(true);
    expect((await kc.makeApiClient(k8s.VersionApi).getCode()).gitVersion).toBe('v1.31.0-fake');
    await fake.close();
    await fake.close();
  });

  it('answers 401 with a Status to a request without its bearer token', async () => {
    const { fake, core } = await startFake();
    const wrong = new k8s.KubeConfig();
    wrong.loadFromString(fake.kubeConfig().replace(fake.token, 'not-the-token'));
    expect((await failure(wrong.makeApiClient(k8s.CoreV1Api).listNamespace())).code).toBe(401);
    const anonymous = await fetch(`${fake.url}/api/v1/namespaces`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Unauthorized', code: 401 });
    expect((await core.listNamespace()).items.map((n) => n.metadata?.name)).toContain('default');
  });

  it('serves the discovery KubernetesObjectApi resolves kinds through (read, patch) and 404 Status bodies', async () => {
    const { fake, objects, core } = await startFake({ minikube: true }, 'minikube');
    const missing = await failure(
      objects.read({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'scalelab-api', namespace: 'default' } }),
    );
    expect(missing).toMatchObject({
      code: 404,
      status: { kind: 'Status', reason: 'NotFound', message: 'deployments.apps "scalelab-api" not found' },
    });
    const metrics = await objects.read({
      apiVersion: 'apiregistration.k8s.io/v1',
      kind: 'APIService',
      metadata: { name: 'v1beta1.metrics.k8s.io' },
    });
    expect((metrics as { status?: { conditions?: unknown[] } }).status?.conditions).toContainEqual(
      expect.objectContaining({ type: 'Available', status: 'True' }),
    );
    const patched = await objects.patch(
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default', labels: { team: 'scalelab' } } },
      undefined,
      undefined,
      'test',
      undefined,
      k8s.PatchStrategy.MergePatch,
    );
    expect(patched.metadata?.labels).toEqual({ team: 'scalelab', 'kubernetes.io/metadata.name': 'default' });
    expect(fake.requests.map((r) => r.path)).toEqual(
      expect.arrayContaining(['/apis/apps/v1', '/apis/apiregistration.k8s.io/v1', '/api/v1']),
    );
    expect((await core.listNode({ labelSelector: 'minikube.k8s.io/name' })).items.map((n) => n.metadata?.name)).toEqual(['minikube']);
    const apps = (await (await fetch(`${fake.url}/apis/apps/v1`, { headers: authorized(fake) })).json()) as {
      resources: { name: string; kind: string }[];
    };
    expect(apps.resources).toContainEqual(
      expect.objectContaining({ name: 'deployments/scale', kind: 'Scale', group: 'autoscaling', version: 'v1' }),
    );
    const unknown = await fetch(`${fake.url}/apis/nope.example.com/v1/things`, { headers: authorized(fake) });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ kind: 'Status', reason: 'NotFound', code: 404 });
  });

  it('drops metrics.k8s.io from discovery without a metrics server', async () => {
    const { fake, objects } = await startFake({ metricsServer: false });
    const groups = (await (await fetch(`${fake.url}/apis`, { headers: authorized(fake) })).json()) as { groups: { name: string }[] };
    expect(groups.groups.map((g) => g.name)).toEqual(['apps', 'autoscaling', 'apiregistration.k8s.io']);
    expect(
      (
        await failure(
          objects.read({ apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService', metadata: { name: 'v1beta1.metrics.k8s.io' } }),
        )
      ).code,
    ).toBe(404);
    expect((await fetch(`${fake.url}/apis/metrics.k8s.io/v1beta1/namespaces/default/pods`, { headers: authorized(fake) })).status).toBe(
      404,
    );
  });

  it('answers 409 AlreadyExists, 409 Conflict on a stale PUT, 404 for a missing namespace, and injected failures', async () => {
    const { fake, core } = await startFake();
    const body = { metadata: { name: 'settings' }, data: { a: '1' } };
    const first = await core.createNamespacedConfigMap({ namespace: 'default', body });
    expect(await failure(core.createNamespacedConfigMap({ namespace: 'default', body }))).toMatchObject({
      code: 409,
      status: { reason: 'AlreadyExists', message: 'configmaps "settings" already exists' },
    });
    await core.replaceNamespacedConfigMap({ name: 'settings', namespace: 'default', body: { ...first, data: { a: '2' } } });
    const stale = await failure(
      core.replaceNamespacedConfigMap({ name: 'settings', namespace: 'default', body: { ...first, data: { a: '3' } } }),
    );
    expect(stale).toMatchObject({ code: 409, status: { reason: 'Conflict' } });
    expect(stale.status.message).toContain('the object has been modified');
    expect(await failure(core.createNamespacedConfigMap({ namespace: 'nope', body }))).toMatchObject({
      code: 404,
      status: { message: 'namespaces "nope" not found' },
    });
    fake.failNext('GET', /\/configmaps$/, 503);
    expect((await failure(core.listNamespacedConfigMap({ namespace: 'default' }))).code).toBe(503);
    expect((await core.listNamespacedConfigMap({ namespace: 'default' })).items).toHaveLength(1);
  });
});

describe('fake Kubernetes API server: server-side apply, lists and watches', () => {
  it('creates with server-side apply, then re-applies without adding objects', async () => {
    const { fake, objects } = await startFake();
    const manifests: k8s.KubernetesObject[] = [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'scalelab' } },
      deployment('scalelab', 'scalelab-api', 2),
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'db', namespace: 'scalelab' },
        stringData: { password: 'pw' },
      } as k8s.KubernetesObject,
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'scalelab-api', namespace: 'scalelab' },
        spec: { selector: { app: 'scalelab-api' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
      } as k8s.KubernetesObject,
    ];
    const apply = async () => {
      for (const m of manifests)
        await objects.patch(structuredClone(m), undefined, undefined, 'scalelab', true, k8s.PatchStrategy.ServerSideApply);
    };
    // Pods and Events come and go on their own; what was applied must not multiply.
    const applied = () => fake.objects().filter((o) => o.kind !== 'Pod' && o.kind !== 'Event');
    await apply();
    const before = applied();
    const service = fake.objects('Service', 'scalelab')[0];
    await apply();
    expect(applied()).toHaveLength(before.length);
    expect(fake.objects('Deployment', 'scalelab')).toHaveLength(1);
    expect(fake.objects('Deployment', 'scalelab')[0]?.metadata.generation).toBe(1);
    expect(fake.objects('Secret', 'scalelab')[0]).toMatchObject({ data: { password: Buffer.from('pw').toString('base64') } });
    expect(fake.objects('Service', 'scalelab')[0]).toMatchObject({
      spec: { clusterIP: (service?.spec as { clusterIP: string }).clusterIP },
    });
    await waitFor(() => expect(fake.objects('Pod', 'scalelab')).toHaveLength(2));
    const applies = fake.requests.filter((r) => r.method === 'PATCH' && r.contentType === 'application/apply-patch+yaml');
    expect(applies).toHaveLength(8);
    expect(applies.every((r) => r.query.fieldManager === 'scalelab' && r.query.force === 'true')).toBe(true);
    const noManager = await fetch(`${fake.url}/api/v1/namespaces/scalelab/configmaps/x`, {
      method: 'PATCH',
      headers: { ...authorized(fake), 'content-type': 'application/apply-patch+yaml' },
      body: 'apiVersion: v1\nkind: ConfigMap\n',
    });
    expect(noManager.status).toBe(422);
  });

  it('lists with labelSelector (equality, inequality, set-based) and fieldSelector', async () => {
    const { core } = await startFake();
    const pod = (name: string, labels: Record<string, string>): k8s.V1Pod => ({
      metadata: { name, labels },
      spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] },
    });
    await core.createNamespacedPod({ namespace: 'default', body: pod('a', { app: 'api', tier: 'web' }) });
    await core.createNamespacedPod({ namespace: 'default', body: pod('b', { app: 'api', tier: 'edge' }) });
    await core.createNamespacedPod({ namespace: 'default', body: pod('c', { app: 'worker' }) });
    const names = async (labelSelector?: string, fieldSelector?: string) =>
      (await core.listNamespacedPod({ namespace: 'default', labelSelector, fieldSelector })).items.map((p) => p.metadata?.name);
    expect(await names('app=api')).toEqual(['a', 'b']);
    expect(await names('app=api,tier in (edge, db)')).toEqual(['b']);
    expect(await names('app!=api')).toEqual(['c']);
    expect(await names('!tier')).toEqual(['c']);
    expect(await names(undefined, 'metadata.name=c')).toEqual(['c']);
    expect((await core.listPodForAllNamespaces({ labelSelector: 'app=worker' })).items.map((p) => p.metadata?.namespace)).toEqual([
      'default',
    ]);
    expect((await failure(core.listNamespacedPod({ namespace: 'default', fieldSelector: 'spec.bogus=1' }))).code).toBe(400);
    await core.deleteCollectionNamespacedPod({ namespace: 'default', labelSelector: 'app=api' });
    await waitFor(async () => expect(await names()).toEqual(['c']));
  });

  it('streams pod ADDED/MODIFIED/DELETED to an informer while a Deployment is scaled through its scale subresource', async () => {
    const { kc, fake, core, apps } = await startFake();
    const namespace = 'default';
    await apps.createNamespacedDeployment({ namespace, body: deployment(namespace, 'web', 1) });
    const informer = k8s.makeInformer(
      kc,
      `/api/v1/namespaces/${namespace}/pods`,
      () => core.listNamespacedPod({ namespace, labelSelector: 'app=web' }),
      'app=web',
    );
    const added = new Set<string>();
    const deleted = new Set<string>();
    let updates = 0;
    informer.on('add', (p) => added.add(p.metadata?.name ?? ''));
    informer.on('update', () => (updates += 1));
    informer.on('delete', (p) => deleted.add(p.metadata?.name ?? ''));
    await informer.start();
    try {
      await waitFor(() => expect(informer.list().filter(isReady)).toHaveLength(1));
      const scale = await apps.replaceNamespacedDeploymentScale({
        name: 'web',
        namespace,
        body: { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'web', namespace }, spec: { replicas: 3 } },
      });
      expect(scale.spec?.replicas).toBe(3);
      await waitFor(() => expect(informer.list().filter(isReady)).toHaveLength(3));
      expect(added.size).toBe(3);
      expect([...added].every((name) => /^web-[a-z0-9]{10}-[a-z0-9]{5}$/.test(name))).toBe(true);
      const read = await apps.readNamespacedDeploymentScale({ name: 'web', namespace });
      expect(read.status).toMatchObject({ replicas: 3, selector: 'app=web' });
      // client-node's generated patch sends a JSON patch unless told otherwise.
      await apps.patchNamespacedDeploymentScale({ name: 'web', namespace, body: [{ op: 'replace', path: '/spec/replicas', value: 2 }] });
      await apps.patchNamespacedDeploymentScale(
        { name: 'web', namespace, body: { spec: { replicas: 1 } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
      await waitFor(() => expect(deleted.size).toBe(2));
      expect(updates).toBeGreaterThan(3);
      expect(informer.list()).toHaveLength(1);
      await waitFor(async () =>
        expect((await apps.readNamespacedDeployment({ name: 'web', namespace })).status).toMatchObject({
          replicas: 1,
          readyReplicas: 1,
          availableReplicas: 1,
          updatedReplicas: 1,
          observedGeneration: 4,
        }),
      );
      expect(
        fake.requests.filter((r) => r.path.endsWith('/deployments/web/scale') && r.method === 'PATCH').map((r) => r.contentType),
      ).toEqual(['application/json-patch+json', 'application/merge-patch+json']);
    } finally {
      await informer.stop();
    }
  });

  it('answers a watch from a compacted resourceVersion with an ERROR 410 Expired event, and resumes from a recent one', async () => {
    const { kc, core } = await startFake({ watchHistory: 5, bookmarkMs: 100 });
    for (let i = 0; i < 8; i += 1) await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: `cm-${i}` } } });
    type Seen = { type: string; object: { code?: number; reason?: string; metadata?: { name?: string } } };
    const watch = (resourceVersion: string, allowWatchBookmarks = false) =>
      new Promise<Seen[]>((resolve) => {
        const events: Seen[] = [];
        void new k8s.Watch(kc).watch(
          '/api/v1/namespaces/default/configmaps',
          { resourceVersion, timeoutSeconds: 1, allowWatchBookmarks },
          (type, object) => events.push({ type, object }),
          () => resolve(events),
        );
      });
    const expired = await watch('1');
    expect(expired).toEqual([{ type: 'ERROR', object: expect.objectContaining({ kind: 'Status', code: 410, reason: 'Expired' }) }]);
    const listed = await core.listNamespacedConfigMap({ namespace: 'default' });
    await core.patchNamespacedConfigMap(
      { name: 'cm-3', namespace: 'default', body: { data: { x: '1' } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    const resumed = await watch(listed.metadata?.resourceVersion ?? '', true);
    expect(resumed.filter((e) => e.type !== 'BOOKMARK').map((e) => `${e.type} ${e.object.metadata?.name}`)).toEqual(['MODIFIED cm-3']);
    expect(resumed.filter((e) => e.type === 'BOOKMARK').length).toBeGreaterThanOrEqual(5);
  });

  it('deletes a namespace: Terminating (creates refused with 403), then everything in it goes with DELETED events', async () => {
    const { kc, fake, core, apps } = await startFake();
    await core.createNamespace({ body: { metadata: { name: 'doomed' } } });
    await core.createNamespacedConfigMap({ namespace: 'doomed', body: { metadata: { name: 'settings' } } });
    await apps.createNamespacedDeployment({ namespace: 'doomed', body: deployment('doomed', 'api', 2) });
    await waitFor(() => expect(fake.objects('Pod', 'doomed')).toHaveLength(2));
    const informer = k8s.makeInformer(kc, '/api/v1/namespaces/doomed/configmaps', () =>
      core.listNamespacedConfigMap({ namespace: 'doomed' }),
    );
    const deleted: string[] = [];
    informer.on('delete', (c) => deleted.push(c.metadata?.name ?? ''));
    await informer.start();
    try {
      await core.deleteNamespace({ name: 'doomed' });
      const terminating = await core.readNamespace({ name: 'doomed' });
      expect(terminating.status?.phase).toBe('Terminating');
      expect(terminating.metadata?.deletionTimestamp).toBeDefined();
      const refused = await failure(core.createNamespacedConfigMap({ namespace: 'doomed', body: { metadata: { name: 'late' } } }));
      expect(refused).toMatchObject({
        code: 403,
        status: {
          reason: 'Forbidden',
          message: 'configmaps "late" is forbidden: unable to create new content in namespace doomed because it is being terminated',
        },
      });
      await waitFor(async () => expect((await failure(core.readNamespace({ name: 'doomed' }))).code).toBe(404));
      expect(fake.objects(undefined, 'doomed')).toEqual([]);
      await waitFor(() => expect(deleted).toEqual(['settings']));
      expect((await failure(core.deleteNamespace({ name: 'default' }))).code).toBe(403);
    } finally {
      await informer.stop();
    }
  });
});

describe('fake Kubernetes API server: controllers', () => {
  it('keeps the PersistentVolumeClaims of a StatefulSet after the StatefulSet is deleted', async () => {
    const { fake, core, apps, objects } = await startFake();
    const set: k8s.V1StatefulSet = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db', namespace: 'default' },
      spec: {
        replicas: 2,
        serviceName: 'db',
        selector: { matchLabels: { app: 'db' } },
        template: {
          metadata: { labels: { app: 'db' } },
          spec: {
            containers: [
              { name: 'postgres', image: 'postgres:17', volumeMounts: [{ name: 'data', mountPath: '/var/lib/postgresql/data' }] },
            ],
          },
        },
        volumeClaimTemplates: [
          { metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
        ],
      },
    };
    await apps.createNamespacedStatefulSet({ namespace: 'default', body: set });
    await waitFor(async () =>
      expect(
        (await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=db' })).items
          .filter(isReady)
          .map((p) => p.metadata?.name),
      ).toEqual(['db-0', 'db-1']),
    );
    const claims = await core.listNamespacedPersistentVolumeClaim({ namespace: 'default' });
    expect(claims.items.map((c) => [c.metadata?.name, c.status?.phase])).toEqual([
      ['data-db-0', 'Bound'],
      ['data-db-1', 'Bound'],
    ]);
    const pod = await core.readNamespacedPod({ name: 'db-1', namespace: 'default' });
    expect(pod.spec?.volumes).toContainEqual({ name: 'data', persistentVolumeClaim: { claimName: 'data-db-1' } });
    await objects.delete({ apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db', namespace: 'default' } });
    await waitFor(() => expect(fake.objects('Pod', 'default')).toEqual([]));
    expect(fake.objects('PersistentVolumeClaim', 'default').map((c) => c.metadata.name)).toEqual(['data-db-0', 'data-db-1']);
  });

  it('computes HPA status from setPodMetrics, scales the Deployment and records a SuccessfulRescale Event', async () => {
    const { kc, fake, core, apps, autoscaling } = await startFake();
    const namespace = 'default';
    await apps.createNamespacedDeployment({ namespace, body: deployment(namespace, 'api', 2) });
    await autoscaling.createNamespacedHorizontalPodAutoscaler({
      namespace,
      body: {
        metadata: { name: 'api' },
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' },
          minReplicas: 1,
          maxReplicas: 6,
          metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
        },
      },
    });
    const hpa = () => autoscaling.readNamespacedHorizontalPodAutoscaler({ name: 'api', namespace });
    await waitFor(async () =>
      expect((await hpa()).status?.conditions).toContainEqual(
        expect.objectContaining({ type: 'ScalingActive', status: 'False', reason: 'FailedGetResourceMetric' }),
      ),
    );
    const pods = await waitFor(async () => {
      const list = (await core.listNamespacedPod({ namespace, labelSelector: 'app=api' })).items.filter(
        (p) => p.status?.phase === 'Running',
      );
      expect(list).toHaveLength(2);
      return list;
    });
    for (const p of pods) fake.setPodMetrics(namespace, p.metadata?.name ?? '', { cpu: '100m', memory: '80Mi' });
    await waitFor(async () => expect((await apps.readNamespacedDeployment({ name: 'api', namespace })).spec?.replicas).toBe(4));
    const status = (await hpa()).status;
    expect(status).toMatchObject({
      currentReplicas: 2,
      desiredReplicas: 4,
      currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 100, averageValue: '100m' } } }],
    });
    expect(status?.lastScaleTime).toBeDefined();
    expect(status?.conditions).toContainEqual(
      expect.objectContaining({
        type: 'AbleToScale',
        status: 'True',
        reason: 'SucceededRescale',
        message: 'the HPA controller was able to update the target scale to 4',
      }),
    );
    const events = await core.listNamespacedEvent({
      namespace,
      fieldSelector: 'involvedObject.kind=HorizontalPodAutoscaler,involvedObject.name=api',
    });
    expect(events.items.map((e) => e.reason)).toContain('SuccessfulRescale');
    expect(events.items.find((e) => e.reason === 'SuccessfulRescale')?.message).toBe(
      'New size: 4; reason: cpu resource utilization (percentage of request) above target',
    );
    // The two new pods have no metrics yet: counted as idle, they hold the HPA at 4 instead of running away.
    await new Promise((r) => setTimeout(r, 400));
    expect((await apps.readNamespacedDeployment({ name: 'api', namespace })).spec?.replicas).toBe(4);
    const fresh = (await core.listNamespacedPod({ namespace, labelSelector: 'app=api' })).items.find(
      (p) => !pods.some((o) => o.metadata?.name === p.metadata?.name),
    );
    const unmeasured = await fetch(`${fake.url}/apis/metrics.k8s.io/v1beta1/namespaces/${namespace}/pods/${fresh?.metadata?.name}`, {
      headers: authorized(fake),
    });
    expect(unmeasured.status).toBe(404);
    const metrics = await new k8s.Metrics(kc).getPodMetrics(namespace);
    expect(metrics.items.map((m) => m.containers[0]?.usage)).toEqual([
      { cpu: '100m', memory: '80Mi' },
      { cpu: '100m', memory: '80Mi' },
    ]);
  });

  it('runs pods like a kubelet: Ready after podReadyAfterMs, crashPod restarts one, Events and logs', async () => {
    const { fake, core } = await startFake({ podReadyAfterMs: 150 });
    await core.createNamespacedPod({
      namespace: 'default',
      body: { metadata: { name: 'solo' }, spec: { containers: [{ name: 'app', image: 'busybox:1.36' }] } },
    });
    const read = () => core.readNamespacedPod({ name: 'solo', namespace: 'default' });
    await waitFor(async () => expect((await read()).status?.phase).toBe('Running'));
    await waitFor(async () => expect(isReady(await read())).toBe(true));
    fake.crashPod('default', 'solo');
    const crashed = await read();
    expect(isReady(crashed)).toBe(false);
    expect(crashed.status?.containerStatuses?.[0]).toMatchObject({
      restartCount: 1,
      ready: false,
      lastState: { terminated: { reason: 'Error', exitCode: 1 } },
    });
    await waitFor(async () => expect(isReady(await read())).toBe(true));
    fake.appendPodLog('default', 'solo', 'one');
    fake.appendPodLog('default', 'solo', 'two');
    expect(await core.readNamespacedPodLog({ name: 'solo', namespace: 'default', tailLines: 1 })).toBe('two\n');
    await core.deleteNamespacedPod({ name: 'solo', namespace: 'default' });
    expect((await read()).metadata?.deletionTimestamp).toBeDefined();
    await waitFor(async () => expect((await failure(read())).code).toBe(404));
    const reasons = (await core.listNamespacedEvent({ namespace: 'default', fieldSelector: 'involvedObject.name=solo' })).items.map(
      (e) => e.reason,
    );
    expect(reasons).toEqual(expect.arrayContaining(['Scheduled', 'Pulled', 'Created', 'Started', 'Killing']));
  });

  it("proxies a Service to a Ready pod's backend (method, path, query, body, headers kept), round-robin; 503 without endpoints", async () => {
    const seen: string[] = [];
    const backend: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push(req.url ?? '');
        res
          .writeHead(201, { 'content-type': 'application/json', 'x-backend': 'yes' })
          .end(JSON.stringify({ method: req.method, url: req.url, body, auth: req.headers.authorization ?? null }));
      });
    });
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    const port = (backend.address() as AddressInfo).port;
    try {
      const { fake, core, apps } = await startFake({
        podBackend: (pod, targetPort) => `http://127.0.0.1:${port}/${pod.metadata.name}/${targetPort}`,
      });
      await apps.createNamespacedDeployment({ namespace: 'default', body: deployment('default', 'web', 2) });
      await core.createNamespacedService({
        namespace: 'default',
        body: { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } },
      });
      await core.createNamespacedService({
        namespace: 'default',
        body: { metadata: { name: 'nothing' }, spec: { selector: { app: 'none' }, ports: [{ port: 80 }] } },
      });
      await waitFor(() => expect(fake.objects('Pod', 'default').filter((p) => isReady(p as k8s.V1Pod))).toHaveLength(2));
      const call = () =>
        fetch(`${fake.url}/api/v1/namespaces/default/services/web:http/proxy/users/1?verbose=1`, {
          method: 'POST',
          headers: { ...authorized(fake), 'content-type': 'application/json' },
          body: '{"name":"Ada"}',
        });
      const first = await call();
      expect(first.status).toBe(201);
      expect(first.headers.get('x-backend')).toBe('yes');
      expect(await first.json()).toMatchObject({ method: 'POST', body: '{"name":"Ada"}', auth: null });
      await call();
      const pods = new Set(seen.map((url) => url.split('/')[1]));
      expect(pods.size).toBe(2);
      expect(seen.every((url) => url.endsWith('/8080/users/1?verbose=1'))).toBe(true);
      const pod = fake.objects('Pod', 'default')[0]?.metadata.name;
      const direct = await fetch(`${fake.url}/api/v1/namespaces/default/pods/${pod}:3000/proxy/admin/faults`, {
        method: 'DELETE',
        headers: authorized(fake),
      });
      expect(await direct.json()).toMatchObject({ method: 'DELETE', url: `/${pod}/3000/admin/faults` });
      const none = await fetch(`${fake.url}/api/v1/namespaces/default/services/nothing/proxy/`, { headers: authorized(fake) });
      expect(none.status).toBe(503);
      expect(await none.json()).toMatchObject({ kind: 'Status', code: 503, message: 'no endpoints available for service "nothing"' });
    } finally {
      await new Promise((resolve) => backend.close(resolve));
    }
  });
});
