/**
 * charts/scalelab, offline: its values against values.schema.json, its output (rendered with the
 * test renderer, since no helm binary runs here) against the Kubernetes API schemas
 * (kubernetes-models) and `kubectl kustomize`, and against the Kubernetes runtime's own objects
 * (one design: /tmp/k8s/design.md). `helm template` is compared when helm is installed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { ConfigMap, Namespace, Secret, Service } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { DEFAULT_IMAGES, withDefaults, type StackSpecInput } from '../../electron/contract.js';
import { KUBE_DEFAULTS, stackObjects } from '../../electron/control/runtimes/kubernetes/manifests.js';
import { mergeValues, renderChart, TemplateError } from './support/helm-template.js';

type Dict = Record<string, unknown>;
/** A rendered object, loosely typed: the tests read into it by path. */
type Obj = Record<string, any>;

const CHART = fileURLToPath(new URL('../../charts/scalelab/', import.meta.url));
const CHART_META = YAML.parse(readFileSync(path.join(CHART, 'Chart.yaml'), 'utf8')) as { version: string; appVersion: string };
const DEFAULT_VALUES = YAML.parse(readFileSync(path.join(CHART, 'values.yaml'), 'utf8')) as Obj;
const validateValues = new Ajv({ allErrors: true, strict: true }).compile(
  JSON.parse(readFileSync(path.join(CHART, 'values.schema.json'), 'utf8')) as object,
);
const SECRETS = {
  postgresPassword: 'pgSecret0123456789abcdXY',
  adminToken: 'adminToken0123456789abcd',
  redisPassword: 'redisSecret0123456789abc',
};

function which(command: string): boolean {
  return (
    spawnSync(command, ['version', '--client'], { stdio: 'ignore' }).status === 0 ||
    spawnSync(command, ['version'], { stdio: 'ignore' }).status === 0
  );
}
const hasHelm = which('helm');
const hasKubectl = which('kubectl');
if (!hasHelm) console.log('skipped: helm not installed');
if (!hasKubectl) console.log('skipped: kubectl not installed');

const key = (o: Obj) => `${String(o.kind)}/${String(o.metadata?.name)}`;

function parseManifests(text: string): Obj[] {
  return YAML.parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length) throw doc.errors[0];
      return doc.toJS() as Obj | null;
    })
    .filter((o): o is Obj => o !== null);
}

/** Renders like `helm template <release> charts/scalelab`, refusing values the schema refuses (as Helm does). */
function render(values: Dict = {}, releaseName = 'default') {
  const merged = mergeValues(DEFAULT_VALUES, values);
  if (!validateValues(merged)) throw new Error(`values refused: ${JSON.stringify(validateValues.errors)}`);
  const chart = renderChart(CHART, { releaseName, namespace: `scalelab-${releaseName}`, values });
  const objects = parseManifests(chart.manifests);
  const byKey = new Map(objects.map((o) => [key(o), o]));
  const get = (k: string): Obj => {
    const o = byKey.get(k);
    if (!o) throw new Error(`${k} is not rendered (have ${[...byKey.keys()].join(', ')})`);
    return o;
  };
  return { ...chart, objects, get, keys: [...byKey.keys()].sort() };
}

const MODELS: Record<string, (o: Obj) => { validate(): void }> = {
  Namespace: (o) => new Namespace(o as ConstructorParameters<typeof Namespace>[0]),
  Secret: (o) => new Secret(o as ConstructorParameters<typeof Secret>[0]),
  ConfigMap: (o) => new ConfigMap(o as ConstructorParameters<typeof ConfigMap>[0]),
  Service: (o) => new Service(o as ConstructorParameters<typeof Service>[0]),
  Deployment: (o) => new Deployment(o as ConstructorParameters<typeof Deployment>[0]),
  StatefulSet: (o) => new StatefulSet(o as ConstructorParameters<typeof StatefulSet>[0]),
  HorizontalPodAutoscaler: (o) => new HorizontalPodAutoscaler(o as ConstructorParameters<typeof HorizontalPodAutoscaler>[0]),
};

const env = (container: Obj): Record<string, Obj> => Object.fromEntries((container.env as Obj[]).map((e) => [e.name as string, e]));
const container = (o: Obj): Obj => o.spec.template.spec.containers[0] as Obj;
const stringData = (o: Obj): Record<string, string> => o.stringData as Record<string, string>;

/** What holds for every rendered object, whatever the values. */
function expectWellFormed(objects: Obj[], release: string): void {
  for (const o of objects) {
    expect(() => MODELS[o.kind as string]!(o).validate(), key(o)).not.toThrow();
    expect(o.metadata.labels, key(o)).toMatchObject({
      'app.kubernetes.io/name': 'scalelab',
      'app.kubernetes.io/instance': release,
      'app.kubernetes.io/part-of': 'scalelab',
      'app.kubernetes.io/managed-by': 'Helm',
      'scalelab.stack': release,
      'helm.sh/chart': `scalelab-${CHART_META.version}`,
    });
    if (o.kind !== 'Deployment' && o.kind !== 'StatefulSet') continue;
    const pod = o.spec.template as Obj;
    expect(o.spec.selector.matchLabels, key(o)).toEqual({
      'app.kubernetes.io/name': 'scalelab',
      'app.kubernetes.io/instance': release,
      'app.kubernetes.io/component': o.metadata.labels['app.kubernetes.io/component'],
    });
    expect(pod.metadata.labels).toEqual({
      ...o.spec.selector.matchLabels,
      'scalelab.stack': release,
      'app.kubernetes.io/part-of': 'scalelab',
    });
    // Probes refer to ports by name: each name must exist.
    const names = (container(o).ports as Obj[]).map((p) => p.name as string);
    for (const probe of [container(o).readinessProbe, container(o).livenessProbe] as Obj[]) {
      const port = probe.httpGet?.port ?? probe.tcpSocket?.port;
      if (port !== undefined) expect(names, key(o)).toContain(port);
    }
  }
  for (const svc of objects.filter((o) => o.kind === 'Service')) {
    const pods = objects.filter(
      (o) =>
        (o.kind === 'Deployment' || o.kind === 'StatefulSet') &&
        Object.entries(svc.spec.selector as Dict).every(([k, v]) => o.spec.template.metadata.labels[k] === v),
    );
    expect(pods.map(key), key(svc)).toHaveLength(1);
    expect(
      (container(pods[0]!).ports as Obj[]).map((p) => p.name),
      key(svc),
    ).toContain(svc.spec.ports[0].targetPort);
  }
}

const ALL_DEFAULT = [
  'ConfigMap/scalelab-postgres-config',
  'Deployment/scalelab-api',
  'Deployment/scalelab-redis',
  'Deployment/scalelab-worker',
  'Secret/scalelab-secrets',
  'Service/scalelab-api',
  'Service/scalelab-postgres',
  'Service/scalelab-redis',
  'StatefulSet/scalelab-postgres',
];

describe('values.schema.json', () => {
  it('accepts values.yaml and the documented variations', () => {
    expect(validateValues(DEFAULT_VALUES), JSON.stringify(validateValues.errors)).toBe(true);
    for (const values of [
      { worker: { replicas: 0 } },
      { api: { replicas: 20 } },
      { adminToken: 'a-token-of-16-ch' },
      { redis: { password: 'a-redis-pass-16ch' } },
      { images: { service: 'registry.example.com/team/scalelab-service:1.2' } },
      {
        redis: { enabled: false, url: 'redis://:pw@redis.example.com:6379' },
        postgresql: { enabled: false, url: 'postgres://u:p@db:5432/scalelab' },
      },
      { api: { resources: { requests: { cpu: 0.5, memory: '1Gi' } } } },
      { data: { readReplica: true, events: false, partitions: 64 } },
      { api: { cpu: '250m' }, worker: { cpu: 0.5 } },
      { api: { cpu: '1' }, worker: { cpu: '' } },
    ])
      expect(validateValues(mergeValues(DEFAULT_VALUES, values)), JSON.stringify(values)).toBe(true);
  });

  it.each([
    ['api.replicas 0', { api: { replicas: 0 } }],
    ['api.replicas 21', { api: { replicas: 21 } }],
    ['worker.replicas -1', { worker: { replicas: -1 } }],
    ['a fractional replica count', { api: { replicas: 1.5 } }],
    ['an unknown top-level key', { replicaCount: 3 }],
    ['an unknown nested key', { api: { replica: 3 } }],
    ['an unknown resource', { api: { resources: { requests: { gpu: '1' } } } }],
    ['cache.ttlSeconds 0', { cache: { ttlSeconds: 0 } }],
    ['cache.ttlSeconds 86401', { cache: { ttlSeconds: 86_401 } }],
    ['a cpu target of 101', { autoscaling: { api: { targetCPUUtilizationPercentage: 101 } } }],
    ['a cpu target of 0', { autoscaling: { worker: { targetCPUUtilizationPercentage: 0 } } }],
    ['an HPA minimum of 0', { autoscaling: { api: { minReplicas: 0 } } }],
    ['a short admin token', { adminToken: 'short' }],
    ['a short Redis password', { redis: { password: 'short' } }],
    ['a quote in the Redis password (it goes into a config string)', { redis: { password: 'sixteen-chars-"-quote' } }],
    ['an image with spaces', { images: { redis: 'redis 7' } }],
    ['a pull policy typo', { images: { pullPolicy: 'Sometimes' } }],
    ['a memory quantity typo', { worker: { resources: { limits: { memory: '512MB' } } } }],
    ['a non-redis url', { redis: { url: 'http://redis:6379' } }],
    ['enabled as a string', { redis: { enabled: 'false' } }],
    ['65 partitions', { data: { partitions: 65 } }],
    ['negative partitions', { data: { partitions: -1 } }],
    ['readReplica as a string', { data: { readReplica: 'yes' } }],
    ['an unknown data key', { data: { replicas: 2 } }],
    ['a cpu that is no quantity', { api: { cpu: '250x' } }],
    ['a memory unit on a cpu', { worker: { cpu: '100Mi' } }],
    ['a cpu finer than 1m', { api: { cpu: '0.0005' } }],
    ['more than 64 cores', { api: { cpu: 100 } }],
  ])('refuses %s', (_name, values) => {
    expect(validateValues(mergeValues(DEFAULT_VALUES, values))).toBe(false);
  });
});

describe('chart output', () => {
  it('renders the stack with its defaults: no HPA, api 2 and worker 1', () => {
    const chart = render();
    expect(chart.keys).toEqual(ALL_DEFAULT);
    expectWellFormed(chart.objects, 'default');
    expect(chart.get('Deployment/scalelab-api').spec.replicas).toBe(2);
    expect(chart.get('Deployment/scalelab-worker').spec.replicas).toBe(1);
    const api = container(chart.get('Deployment/scalelab-api'));
    expect(api.image).toBe(`scalelab/service:${CHART_META.appVersion}`);
    expect(env(api).CACHE_TTL_SECONDS).toEqual({ name: 'CACHE_TTL_SECONDS', value: '60' });
    const secret = stringData(chart.get('Secret/scalelab-secrets'));
    expect(secret.POSTGRES_PASSWORD).toMatch(/^[A-Za-z0-9]{24}$/);
    expect(secret.ADMIN_TOKEN).toMatch(/^[A-Za-z0-9]{24}$/);
    expect(secret.DATABASE_URL).toBe(`postgres://scalelab:${secret.POSTGRES_PASSWORD}@scalelab-postgres:5432/scalelab`);
    expect(secret.REDIS_PASSWORD).toMatch(/^[A-Za-z0-9]{24}$/);
    expect(secret.REDIS_PASSWORD).not.toBe(secret.POSTGRES_PASSWORD);
    expect(secret.REDIS_URL).toBe(`redis://:${secret.REDIS_PASSWORD}@scalelab-redis:6379`);
    // Redis requires it, from the Secret, through a file: the command line holds no password.
    const redis = container(chart.get('Deployment/scalelab-redis'));
    expect(env(redis).REDIS_PASSWORD!.valueFrom).toEqual({ secretKeyRef: { name: 'scalelab-secrets', key: 'REDIS_PASSWORD' } });
    expect(env(redis).REDISCLI_AUTH!.valueFrom).toEqual({ secretKeyRef: { name: 'scalelab-secrets', key: 'REDIS_PASSWORD' } });
    expect(redis.command.join(' ')).toContain('user default on ">%s" ~* &* +@all -@admin -flushall -flushdb');
    expect(JSON.stringify([redis.command, redis.args])).not.toContain(secret.REDIS_PASSWORD);
    expect(stringData(render().get('Secret/scalelab-secrets')).ADMIN_TOKEN).not.toBe(secret.ADMIN_TOKEN);
    expect(chart.get('StatefulSet/scalelab-postgres').spec.volumeClaimTemplates[0].spec).toEqual({
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: '1Gi' } },
    });
  });

  it('with autoscaling on, adds two HPAs and leaves replicas out of the Deployments', () => {
    const chart = render({ autoscaling: { enabled: true, api: { maxReplicas: 20 } } });
    expect(chart.keys).toEqual([...ALL_DEFAULT, 'HorizontalPodAutoscaler/scalelab-api', 'HorizontalPodAutoscaler/scalelab-worker'].sort());
    expectWellFormed(chart.objects, 'default');
    expect(chart.get('Deployment/scalelab-api').spec).not.toHaveProperty('replicas');
    expect(chart.get('Deployment/scalelab-worker').spec).not.toHaveProperty('replicas');
    expect(chart.get('HorizontalPodAutoscaler/scalelab-api').spec).toEqual({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'scalelab-api' },
      minReplicas: 1,
      maxReplicas: 20,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
      behavior: { scaleDown: { stabilizationWindowSeconds: 300 } },
    });
    expect(chart.get('HorizontalPodAutoscaler/scalelab-worker').spec.metrics[0].resource.target.averageUtilization).toBe(70);
    expect(() => render({ autoscaling: { enabled: true, api: { minReplicas: 5, maxReplicas: 3 } } })).toThrow(
      /minReplicas is above its maxReplicas/,
    );
  });

  it('with Redis and PostgreSQL off, renders no store objects and uses the external URLs', () => {
    const urls = { redis: 'redis://:pw@redis.example.com:6379', postgres: 'postgres://app:pw@db.example.com:5432/scalelab' };
    const chart = render({ redis: { enabled: false, url: urls.redis }, postgresql: { enabled: false, url: urls.postgres } });
    expect(chart.keys).toEqual([
      'Deployment/scalelab-api',
      'Deployment/scalelab-worker',
      'Secret/scalelab-secrets',
      'Service/scalelab-api',
    ]);
    expectWellFormed(chart.objects, 'default');
    const secret = stringData(chart.get('Secret/scalelab-secrets'));
    expect(secret).toEqual({ DATABASE_URL: urls.postgres, REDIS_URL: urls.redis, ADMIN_TOKEN: expect.stringMatching(/^[A-Za-z0-9]{24}$/) });
    expect(env(container(chart.get('Deployment/scalelab-api'))).DATABASE_URL!.valueFrom).toEqual({
      secretKeyRef: { name: 'scalelab-secrets', key: 'DATABASE_URL' },
    });
    expect(() => render({ redis: { enabled: false } })).toThrow(new TemplateError('redis.url is required when redis.enabled is false'));
    expect(() => render({ postgresql: { enabled: false } })).toThrow(
      new TemplateError('postgresql.url is required when postgresql.enabled is false'),
    );
  });

  it('applies custom images, resources, replicas, ttl, storage class and name prefix', () => {
    const resources = { requests: { cpu: '1', memory: '256Mi' }, limits: { cpu: '2', memory: '1Gi' } };
    const chart = render(
      {
        fullnameOverride: 'demo',
        images: {
          service: 'registry.example.com/team/scalelab-service:1.2',
          pullPolicy: 'Always',
          redis: 'redis:7.4-alpine',
          postgres: 'postgres:17',
        },
        api: { replicas: 5, resources },
        worker: { replicas: 0 },
        cache: { ttlSeconds: 300 },
        postgresql: { storage: '20Gi', storageClassName: 'fast-ssd', password: 'p@ss w/rd+!' },
        adminToken: 'given-admin-token-0123',
        redis: { password: 'given-redis/pass+0123%' },
      },
      'team-a',
    );
    expect(chart.keys).toEqual(ALL_DEFAULT.map((k) => k.replace('/scalelab-', '/demo-')));
    expectWellFormed(chart.objects, 'team-a');
    const api = container(chart.get('Deployment/demo-api'));
    expect(api).toMatchObject({ image: 'registry.example.com/team/scalelab-service:1.2', imagePullPolicy: 'Always', resources });
    expect(env(api).CACHE_TTL_SECONDS!.value).toBe('300');
    expect(env(api).ADMIN_TOKEN!.valueFrom.secretKeyRef.name).toBe('demo-secrets');
    expect(chart.get('Deployment/demo-api').spec.replicas).toBe(5);
    expect(chart.get('Deployment/demo-worker').spec.replicas).toBe(0);
    expect(container(chart.get('Deployment/demo-redis')).image).toBe('redis:7.4-alpine');
    const pg = chart.get('StatefulSet/demo-postgres');
    expect(container(pg).image).toBe('postgres:17');
    expect(pg.spec.serviceName).toBe('demo-postgres');
    expect(pg.spec.volumeClaimTemplates[0].spec).toMatchObject({
      storageClassName: 'fast-ssd',
      resources: { requests: { storage: '20Gi' } },
    });
    const secret = stringData(chart.get('Secret/demo-secrets'));
    const url = new URL(secret.DATABASE_URL!);
    expect([url.hostname, url.port, decodeURIComponent(url.password)]).toEqual(['demo-postgres', '5432', 'p@ss w/rd+!']);
    expect(secret).toMatchObject({
      POSTGRES_PASSWORD: 'p@ss w/rd+!',
      ADMIN_TOKEN: 'given-admin-token-0123',
      REDIS_PASSWORD: 'given-redis/pass+0123%',
    });
    const redisUrl = new URL(secret.REDIS_URL!);
    expect([redisUrl.hostname, redisUrl.port, decodeURIComponent(redisUrl.password)]).toEqual([
      'demo-redis',
      '6379',
      'given-redis/pass+0123%',
    ]);
  });

  it("api.cpu and worker.cpu become each pod's cpu request and limit, the memory settings kept", () => {
    const chart = render({ api: { cpu: '100m' }, worker: { cpu: 0.5, resources: { requests: { memory: '1Gi' } } } });
    expectWellFormed(chart.objects, 'default');
    expect(container(chart.get('Deployment/scalelab-api')).resources).toEqual({
      requests: { cpu: '100m', memory: '128Mi' },
      limits: { cpu: '100m', memory: '512Mi' },
    });
    expect(container(chart.get('Deployment/scalelab-worker')).resources).toEqual({
      requests: { cpu: '0.5', memory: '1Gi' },
      limits: { cpu: '0.5', memory: '512Mi' },
    });
    // No cpu set: no cpu limit, the default request kept for the HPA.
    expect(container(render().get('Deployment/scalelab-api')).resources).toEqual({
      requests: { cpu: '250m', memory: '128Mi' },
      limits: { memory: '512Mi' },
    });
  });

  it('with data.readReplica, adds the replica StatefulSet and Service and points the api at it', () => {
    const chart = render({ data: { readReplica: true, events: false, partitions: 8 } });
    expect(chart.keys).toEqual([...ALL_DEFAULT, 'Service/scalelab-postgres-replica', 'StatefulSet/scalelab-postgres-replica'].sort());
    expectWellFormed(chart.objects, 'default');
    const secret = stringData(chart.get('Secret/scalelab-secrets'));
    expect(secret.DATABASE_REPLICA_URL).toBe(`postgres://scalelab:${secret.POSTGRES_PASSWORD}@scalelab-postgres-replica:5432/scalelab`);
    const api = env(container(chart.get('Deployment/scalelab-api')));
    expect(api.DATABASE_REPLICA_URL!.valueFrom).toEqual({ secretKeyRef: { name: 'scalelab-secrets', key: 'DATABASE_REPLICA_URL' } });
    const worker = env(container(chart.get('Deployment/scalelab-worker')));
    expect(worker).not.toHaveProperty('DATABASE_REPLICA_URL');
    for (const e of [api, worker]) expect([e.USERS_PARTITIONS!.value, e.EVENTS!.value]).toEqual(['8', 'false']);
    const seed = chart.get('StatefulSet/scalelab-postgres-replica').spec.template.spec.initContainers[0] as Obj;
    expect(seed.command.at(-1)).toContain('pg_basebackup -D "$PGDATA.seed" -R -X stream');
    expect(env(seed).PGHOST!.value).toBe('scalelab-postgres');
    expect(chart.get('ConfigMap/scalelab-postgres-config').data['pg_hba.conf']).toMatch(/^host +replication +all +all +scram-sha-256$/m);
    expect(render().get('Secret/scalelab-secrets').stringData).not.toHaveProperty('DATABASE_REPLICA_URL');
    expect(() => render({ data: { readReplica: true }, postgresql: { enabled: false, url: 'postgres://u:p@db:5432/scalelab' } })).toThrow(
      new TemplateError('data.readReplica needs postgresql.enabled: the replica streams from the in-chart PostgreSQL'),
    );
  });

  it('NOTES tell how to reach the api, watch the HPA and start the same stack from the desktop app', () => {
    const notes = render({ autoscaling: { enabled: true } }).notes;
    expect(notes).toContain('kubectl -n scalelab-default port-forward svc/scalelab-api 8080:80');
    expect(notes).toContain('curl -s http://127.0.0.1:8080/users');
    expect(notes).toContain('get hpa scalelab-api scalelab-worker --watch');
    expect(notes).toContain(
      `npx scalelab up --runtime kubernetes --context "$(kubectl config current-context)" --name demo \\\n      --image-service scalelab/service:${CHART_META.appVersion}`,
    );
    expect(render().notes).not.toContain('get hpa');
  });

  it('the renderer refuses template features it does not support', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'scalelab-chart-'));
    try {
      spawnSync('cp', ['-r', CHART, path.join(dir, 'c')]);
      const extra = path.join(dir, 'c', 'templates', 'extra.yaml');
      for (const [source, message] of [
        ['{{ .Values.api.replicas | toJson }}', /unsupported "toJson"/],
        ['{{ template "scalelab.fullname" . }}', /"template" is not supported/],
        ['{{ .Values.nothing.here }}', /nil pointer evaluating \.here/],
        ['{{ .Values.api.resources }}', /cannot use .* as a string/],
        ['{{ if .Values.api }}x', /missing \{\{ end \}\}/],
      ] as const) {
        writeFileSync(extra, source);
        expect(() => renderChart(path.join(dir, 'c')), source).toThrow(message);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('independent checks of the output', () => {
  it.skipIf(!hasKubectl)('kubectl kustomize reads the default output and sets the namespace', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'scalelab-kustomize-'));
    try {
      writeFileSync(path.join(dir, 'rendered.yaml'), render().manifests);
      writeFileSync(
        path.join(dir, 'kustomization.yaml'),
        'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: scalelab-default\nresources:\n  - rendered.yaml\n',
      );
      const run = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', timeout: 30_000 });
      expect(run.status, run.stderr).toBe(0);
      const objects = parseManifests(run.stdout);
      expect(objects.map(key).sort()).toEqual(ALL_DEFAULT);
      for (const o of objects) expect(o.metadata.namespace, key(o)).toBe('scalelab-default');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!hasHelm)('helm template renders the same objects as the test renderer', () => {
    for (const [set, values] of [
      [[], {}],
      [['--set', 'autoscaling.enabled=true'], { autoscaling: { enabled: true } }],
    ] as const) {
      // --kube-version: older helm binaries assume Kubernetes 1.20, below the chart's kubeVersion.
      const run = spawnSync('helm', ['template', 'default', CHART, '-n', 'scalelab-default', '--kube-version', '1.30.0', ...set], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(run.status, run.stderr).toBe(0);
      // The generated password and token differ on every render.
      const withoutSecrets = (objects: Obj[]) =>
        objects
          .map((o) => (o.kind === 'Secret' ? { ...o, stringData: Object.keys(o.stringData as Dict).sort() } : o))
          .sort((a, b) => key(a).localeCompare(key(b)));
      expect(withoutSecrets(parseManifests(run.stdout))).toEqual(withoutSecrets(render(values).objects));
    }
  });
});

/** The driver's object as the chart renders it: no namespace, labels without the manager's, ports' default protocol filled in. */
function comparable(o: Obj): Obj {
  const copy = structuredClone(o);
  delete copy.metadata.namespace;
  const strip = (labels: Dict | undefined) => {
    if (labels) for (const k of ['app.kubernetes.io/managed-by', 'helm.sh/chart']) delete labels[k];
  };
  strip(copy.metadata.labels as Dict);
  for (const claim of (copy.spec?.volumeClaimTemplates ?? []) as Obj[]) strip(claim.metadata.labels as Dict);
  for (const port of (copy.spec?.ports ?? []) as Obj[]) port.protocol ??= 'TCP';
  const pod = (copy.spec?.template?.spec ?? {}) as Obj;
  for (const c of [...((pod.containers ?? []) as Obj[]), ...((pod.initContainers ?? []) as Obj[])]) {
    for (const port of (c.ports ?? []) as Obj[]) port.protocol ??= 'TCP';
    // Order of env entries carries no meaning here (none refers to another).
    c.env = Object.fromEntries(((c.env ?? []) as Obj[]).map((e) => [e.name, e]));
  }
  return copy;
}

describe('one design: the chart and the Kubernetes runtime driver', () => {
  const cases: Array<[string, StackSpecInput, Dict]> = [
    ['defaults', {}, {}],
    ['autoscaling on', { autoscaler: { enabled: true } }, { autoscaling: { enabled: true } }],
    [
      'a read replica, events off and 16 partitions',
      { data: { readReplica: true, events: false, partitions: 16 } },
      { data: { readReplica: true, events: false, partitions: 16 } },
    ],
    [
      'cpu limits per replica',
      { resources: { api: { cpu: '100m' }, worker: { cpu: '1' } } },
      { api: { cpu: '100m' }, worker: { cpu: '1' } },
    ],
  ];

  it.each(cases)('with %s, the chart renders the objects stackObjects makes', (_name, input, values) => {
    const spec = withDefaults({ runtime: 'kubernetes', ...input, images: { service: `scalelab/service:${CHART_META.appVersion}` } });
    const driver = (stackObjects(spec, SECRETS) as unknown as Obj[]).filter((o) => o.kind !== 'Namespace');
    compareWithChart(driver, values);
  });

  it("with the user's own OTLP collector, the api and worker of both get OTEL_EXPORTER_OTLP_ENDPOINT", () => {
    const otlpEndpoint = 'http://tempo.monitoring:4318';
    const spec = withDefaults({ runtime: 'kubernetes', images: { service: `scalelab/service:${CHART_META.appVersion}` } });
    const driver = (stackObjects(spec, SECRETS, { otlpEndpoint }) as unknown as Obj[]).filter((o) => o.kind !== 'Namespace');
    const env = (o: Obj | undefined) => JSON.stringify(o).match(/OTEL_EXPORTER_OTLP_ENDPOINT","value":"([^"]+)"/)?.[1];
    for (const workload of ['Deployment/scalelab-api', 'Deployment/scalelab-worker'])
      expect(env(driver.find((o) => key(o) === workload))).toBe(otlpEndpoint);
    compareWithChart(driver, { tracing: { otlpEndpoint } });
    // Without one, no pod is told to trace (the control plane's receiver is out of a cluster's reach).
    expect(JSON.stringify(stackObjects(spec, SECRETS))).not.toContain('OTEL_EXPORTER_OTLP_ENDPOINT');
  });

  function compareWithChart(driver: Obj[], values: Dict): void {
    const chart = render({
      ...values,
      adminToken: SECRETS.adminToken,
      postgresql: { password: SECRETS.postgresPassword },
      redis: { password: SECRETS.redisPassword },
    });
    expect(chart.keys).toEqual(driver.map(key).sort());
    for (const o of driver) MODELS[o.kind as string]!(o).validate();
    for (const o of driver) expect.soft(comparable(chart.get(key(o))), key(o)).toEqual(comparable(o));
  }

  it("values.yaml's defaults are the driver's KUBE_DEFAULTS and withDefaults'", () => {
    const v = DEFAULT_VALUES;
    expect({ api: v.api.resources, worker: v.worker.resources, redis: v.redis.resources, postgres: v.postgresql.resources }).toEqual(
      KUBE_DEFAULTS.resources,
    );
    expect({
      api: v.autoscaling.api,
      worker: v.autoscaling.worker,
      scaleDownStabilizationSeconds: v.autoscaling.scaleDownStabilizationSeconds,
    }).toEqual(KUBE_DEFAULTS.autoscaling);
    expect(v.postgresql.storage).toBe(KUBE_DEFAULTS.postgresStorage);
    const spec = withDefaults({ runtime: 'kubernetes' });
    expect({ api: v.api.replicas, worker: v.worker.replicas, ttl: v.cache.ttlSeconds, autoscaling: v.autoscaling.enabled }).toEqual({
      api: spec.replicas.api,
      worker: spec.replicas.worker,
      ttl: spec.cache.ttlSeconds,
      autoscaling: spec.autoscaler.enabled,
    });
    expect({ redis: v.images.redis, postgres: v.images.postgres }).toEqual({
      redis: DEFAULT_IMAGES.redis,
      postgres: DEFAULT_IMAGES.postgres,
    });
    expect(v.data).toEqual(spec.data);
    // Fixed in the templates rather than values: the grace period and the drain delay.
    const api = render().get('Deployment/scalelab-api');
    expect(api.spec.template.spec.terminationGracePeriodSeconds).toBe(KUBE_DEFAULTS.terminationGracePeriodSeconds);
    expect(env(container(api)).SHUTDOWN_DELAY_MS!.value).toBe(String(KUBE_DEFAULTS.shutdownDelayMs));
  });
});
