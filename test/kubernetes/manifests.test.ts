import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigMap, Namespace, Secret, Service } from 'kubernetes-models/v1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { describe, expect, it } from 'vitest';
import { withDefaults } from '../../electron/contract.js';
import { KUBE_LABELS, stackObjects, type KubeObject } from '../../electron/control/runtimes/kubernetes/manifests.js';
import { REPLICA_SEED_SCRIPT } from '../../electron/control/runtimes/kubernetes/postgres-objects.js';
import { REDIS_ACL_RULES } from '../../electron/control/runtimes/redis-auth.js';

const secrets = { postgresPassword: 'p@ss/word+1', adminToken: 'a-token-of-24-characters', redisPassword: 'r3dis/pass+word%24chars' };
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  Namespace,
  Secret,
  ConfigMap,
  Service,
  Deployment,
  StatefulSet,
  HorizontalPodAutoscaler,
};

function validate(object: KubeObject): void {
  const Model = MODELS[object.kind!];
  expect(Model, `a model for ${object.kind}`).toBeDefined();
  new Model!(JSON.parse(JSON.stringify(object)) as never).validate();
}

describe("the Kubernetes runtime's objects (validated offline with kubernetes-models)", () => {
  it('every object of the default stack validates against the Kubernetes schemas', () => {
    const objects = stackObjects(withDefaults({ runtime: 'kubernetes' }), secrets);
    expect(objects.map((o) => `${o.kind}/${o.metadata?.name}`)).toEqual([
      'Namespace/scalelab-default',
      'Secret/scalelab-secrets',
      'ConfigMap/scalelab-postgres-config',
      'StatefulSet/scalelab-postgres',
      'Service/scalelab-postgres',
      'Deployment/scalelab-redis',
      'Service/scalelab-redis',
      'Deployment/scalelab-api',
      'Service/scalelab-api',
      'Deployment/scalelab-worker',
    ]);
    for (const object of objects) validate(object);
  });

  it('with the autoscaler on, two autoscaling/v2 HPAs validate and the Deployments leave replicas to them', () => {
    const objects = stackObjects(withDefaults({ runtime: 'kubernetes', name: 'demo', autoscaler: { enabled: true } }), secrets);
    const hpas = objects.filter((o) => o.kind === 'HorizontalPodAutoscaler');
    expect(hpas.map((h) => h.metadata?.name)).toEqual(['scalelab-api', 'scalelab-worker']);
    for (const object of objects) validate(object);
    const api = objects.find((o) => o.kind === 'Deployment' && o.metadata?.name === 'scalelab-api') as { spec: { replicas?: number } };
    expect(api.spec.replicas).toBeUndefined();
  });

  it('every object carries the stack label, and selectors match their pod templates', () => {
    const objects = stackObjects(withDefaults({ runtime: 'kubernetes', name: 'team-a', replicas: { api: 3, worker: 2 } }), secrets);
    for (const object of objects) {
      expect(object.metadata?.labels?.[KUBE_LABELS.stack], `${object.kind} ${object.metadata?.name}`).toBe('team-a');
      if (object.kind !== 'Namespace') expect(object.metadata?.namespace).toBe('scalelab-team-a');
      const spec = (
        object as {
          spec?: { selector?: { matchLabels?: Record<string, string> }; template?: { metadata?: { labels?: Record<string, string> } } };
        }
      ).spec;
      if (spec?.selector?.matchLabels) {
        for (const [k, v] of Object.entries(spec.selector.matchLabels)) expect(spec.template?.metadata?.labels?.[k]).toBe(v);
        expect(spec.template?.metadata?.labels?.[KUBE_LABELS.stack]).toBe('team-a');
      }
    }
    const api = objects.find((o) => o.metadata?.name === 'scalelab-api' && o.kind === 'Deployment') as { spec: { replicas: number } };
    expect(api.spec.replicas).toBe(3);
  });

  it('the secret URL-encodes the password, and the api reads it from the secret, not from its spec', () => {
    const objects = stackObjects(withDefaults({ runtime: 'kubernetes' }), secrets);
    const secret = objects.find((o) => o.kind === 'Secret') as { stringData: Record<string, string> };
    expect(secret.stringData.DATABASE_URL).toBe('postgres://scalelab:p%40ss%2Fword%2B1@scalelab-postgres:5432/scalelab');
    expect(JSON.stringify(objects.filter((o) => o.kind !== 'Secret'))).not.toContain(secrets.postgresPassword);
    expect(JSON.stringify(objects.filter((o) => o.kind !== 'Secret'))).not.toContain(secrets.adminToken);
  });

  it("Redis requires the Secret's password (REDIS_PASSWORD, in REDIS_URL), through a file, never its command line", () => {
    const objects = stackObjects(withDefaults({ runtime: 'kubernetes' }), secrets);
    const secret = objects.find((o) => o.kind === 'Secret') as { stringData: Record<string, string> };
    expect(secret.stringData.REDIS_PASSWORD).toBe(secrets.redisPassword);
    expect(secret.stringData.REDIS_URL).toBe('redis://:r3dis%2Fpass%2Bword%2524chars@scalelab-redis:6379');
    const redis = containerOf(objects, 'Deployment/scalelab-redis');
    expect(envOf(redis)).toEqual({ REDIS_PASSWORD: 'secret:REDIS_PASSWORD', REDISCLI_AUTH: 'secret:REDIS_PASSWORD' });
    expect(redis.command?.slice(0, 2)).toEqual(['sh', '-c']);
    expect(redis.command?.[2]).toContain(`user default on ">%s" ${REDIS_ACL_RULES}`);
    expect(redis.command?.[2]).toContain('exec docker-entrypoint.sh redis-server ./scalelab-auth.conf "$@"');
    expect(JSON.stringify(objects.filter((o) => o.kind !== 'Secret'))).not.toContain(secrets.redisPassword);
    for (const service of ['api', 'worker'])
      expect(envOf(containerOf(objects, `Deployment/scalelab-${service}`)).REDIS_URL).toBe('secret:REDIS_URL');
  });

  it('kubernetes-models rejects a broken object, so the checks above can fail', () => {
    const [, , , , , , , deployment] = stackObjects(withDefaults({ runtime: 'kubernetes' }), secrets);
    const broken = JSON.parse(JSON.stringify(deployment)) as {
      spec: { template: { spec: { containers: { ports: { containerPort: unknown }[] }[] } } };
    };
    broken.spec.template.spec.containers[0]!.ports[0]!.containerPort = 'http';
    expect(() => new Deployment(broken as never).validate()).toThrow(/containerPort/);
  });
});

type Container = {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { key: string } } }[];
  volumeMounts?: { name: string; mountPath: string }[];
};
type PodSpec = { initContainers?: Container[]; containers: Container[]; volumes?: { name: string; configMap?: { name: string } }[] };
const find = (objects: KubeObject[], key: string) =>
  objects.find((o) => `${o.kind}/${o.metadata?.name}` === key) as unknown as
    | {
        spec: {
          template: { spec: PodSpec };
          selector: { matchLabels: Record<string, string> };
          volumeClaimTemplates: { metadata: { labels: Record<string, string> } }[];
        };
      }
    | undefined;
const envOf = (c: Container) =>
  Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value ?? `secret:${e.valueFrom?.secretKeyRef?.key}`]));
const containerOf = (objects: KubeObject[], key: string) => find(objects, key)!.spec.template.spec.containers[0]!;

describe('the data-layer patterns on Kubernetes (spec data)', () => {
  it('without data.readReplica there is no replica object, URL or env', () => {
    const objects = stackObjects(withDefaults({ runtime: 'kubernetes' }), secrets);
    expect(objects.filter((o) => o.metadata?.name?.includes('replica'))).toEqual([]);
    expect((objects.find((o) => o.kind === 'Secret') as { stringData: Record<string, string> }).stringData).not.toHaveProperty(
      'DATABASE_REPLICA_URL',
    );
    expect(envOf(containerOf(objects, 'Deployment/scalelab-api'))).not.toHaveProperty('DATABASE_REPLICA_URL');
  });

  it('with data.readReplica, a replica StatefulSet and Service validate, seeded from the primary by pg_basebackup, and the api reads from it', () => {
    const objects = stackObjects(withDefaults({ runtime: 'kubernetes', name: 'rr', data: { readReplica: true } }), secrets);
    expect(objects.map((o) => `${o.kind}/${o.metadata?.name}`)).toEqual([
      'Namespace/scalelab-rr',
      'Secret/scalelab-secrets',
      'ConfigMap/scalelab-postgres-config',
      'StatefulSet/scalelab-postgres',
      'Service/scalelab-postgres',
      'StatefulSet/scalelab-postgres-replica',
      'Service/scalelab-postgres-replica',
      'Deployment/scalelab-redis',
      'Service/scalelab-redis',
      'Deployment/scalelab-api',
      'Service/scalelab-api',
      'Deployment/scalelab-worker',
    ]);
    for (const object of objects) validate(object);
    const replica = find(objects, 'StatefulSet/scalelab-postgres-replica')!;
    expect(replica.spec.selector.matchLabels[KUBE_LABELS.component]).toBe('postgres-replica');
    expect(replica.spec.volumeClaimTemplates[0]!.metadata.labels).toMatchObject({
      [KUBE_LABELS.stack]: 'rr',
      [KUBE_LABELS.component]: 'postgres-replica',
    });
    const service = objects.find((o) => o.kind === 'Service' && o.metadata?.name === 'scalelab-postgres-replica') as {
      spec: { selector: Record<string, string> };
    };
    expect(service.spec.selector).toEqual(replica.spec.selector.matchLabels);
    // The init container copies the primary; the password comes from the Secret, never the spec.
    const seed = replica.spec.template.spec.initContainers![0]!;
    expect(seed.command).toEqual(['sh', '-c', REPLICA_SEED_SCRIPT]);
    expect(REPLICA_SEED_SCRIPT).toContain('pg_basebackup -D "$PGDATA.seed" -R -X stream');
    expect(envOf(seed)).toEqual({
      PGDATA: '/var/lib/postgresql/data/pgdata',
      PGHOST: 'scalelab-postgres',
      PGPORT: '5432',
      PGUSER: 'scalelab',
      PGPASSWORD: 'secret:POSTGRES_PASSWORD',
    });
    expect(seed.volumeMounts).toEqual([{ name: 'data', mountPath: '/var/lib/postgresql/data' }]);
    expect(containerOf(objects, 'StatefulSet/scalelab-postgres-replica').args).toEqual(['-c', 'max_connections=300']);
    // The primary lets the replica stream: its pg_hba.conf comes from the ConfigMap.
    const primary = find(objects, 'StatefulSet/scalelab-postgres')!.spec.template.spec;
    expect(primary.containers[0]!.args).toEqual(
      expect.arrayContaining(['hba_file=/etc/scalelab/postgres/pg_hba.conf', 'max_connections=300']),
    );
    expect(primary.volumes).toEqual([{ name: 'config', configMap: { name: 'scalelab-postgres-config' } }]);
    const hba = (objects.find((o) => o.kind === 'ConfigMap') as { data: Record<string, string> }).data['pg_hba.conf']!;
    expect(hba.split('\n').map((l) => l.trim().split(/\s+/).join(' '))).toEqual(
      expect.arrayContaining(['host replication all all scram-sha-256', 'host all all all scram-sha-256']),
    );
    const secret = objects.find((o) => o.kind === 'Secret') as { stringData: Record<string, string> };
    expect(secret.stringData.DATABASE_REPLICA_URL).toBe('postgres://scalelab:p%40ss%2Fword%2B1@scalelab-postgres-replica:5432/scalelab');
    expect(envOf(containerOf(objects, 'Deployment/scalelab-api')).DATABASE_REPLICA_URL).toBe('secret:DATABASE_REPLICA_URL');
    expect(envOf(containerOf(objects, 'Deployment/scalelab-worker'))).not.toHaveProperty('DATABASE_REPLICA_URL');
    expect(JSON.stringify(objects.filter((o) => o.kind !== 'Secret'))).not.toContain(secrets.postgresPassword);
  });

  it('USERS_PARTITIONS and EVENTS reach the api and the worker; the worker gets the admin token for its stream hooks', () => {
    const defaults = stackObjects(withDefaults({ runtime: 'kubernetes' }), secrets);
    for (const key of ['Deployment/scalelab-api', 'Deployment/scalelab-worker'])
      expect(envOf(containerOf(defaults, key)), key).toMatchObject({ USERS_PARTITIONS: '0', EVENTS: 'true' });
    const custom = stackObjects(withDefaults({ runtime: 'kubernetes', data: { events: false, partitions: 16 } }), secrets);
    for (const key of ['Deployment/scalelab-api', 'Deployment/scalelab-worker'])
      expect(envOf(containerOf(custom, key)), key).toMatchObject({
        USERS_PARTITIONS: '16',
        EVENTS: 'false',
        ADMIN_TOKEN: 'secret:ADMIN_TOKEN',
      });
  });

  it('the seed script copies the primary into an empty volume once, waiting for it, and leaves a seeded one alone', () => {
    // The script under sh with stand-ins for the PostgreSQL tools: what it runs, in which order.
    const dir = mkdtempSync(path.join(tmpdir(), 'scalelab-seed-'));
    try {
      const bin = path.join(dir, 'bin');
      const log = path.join(dir, 'calls.log');
      spawnSync('mkdir', ['-p', bin, path.join(dir, 'data')]);
      const stub = (name: string, body: string) => {
        writeFileSync(path.join(bin, name), `#!/bin/sh\necho "${name} $*" >> "${log}"\n${body}\n`);
        chmodSync(path.join(bin, name), 0o755);
      };
      // The primary answers on the second try; pg_basebackup makes the folder named after -D.
      stub('pg_isready', `n=$(grep -c '^pg_isready' "${log}"); [ "$n" -ge 2 ]`);
      stub('sleep', '');
      stub('chown', '');
      stub('pg_basebackup', 'mkdir -p "$2" && echo 16 > "$2/PG_VERSION" && touch "$2/standby.signal"');
      const pgdata = path.join(dir, 'data', 'pgdata');
      const env = { PATH: `${bin}:/usr/bin:/bin`, PGDATA: pgdata, PGHOST: 'scalelab-postgres', PGPORT: '5432' };
      const first = spawnSync('sh', ['-c', REPLICA_SEED_SCRIPT], { env, encoding: 'utf8' });
      expect(first.status, first.stderr).toBe(0);
      expect(first.stdout).toContain('waiting for the primary at scalelab-postgres:5432');
      expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual([
        'pg_isready -q',
        'sleep 2',
        'pg_isready -q',
        `pg_basebackup -D ${pgdata}.seed -R -X stream -c fast --no-password`,
        `chown -R postgres:postgres ${pgdata}.seed`,
      ]);
      expect(existsSync(path.join(pgdata, 'standby.signal'))).toBe(true);
      expect(existsSync(`${pgdata}.seed`)).toBe(false);
      rmSync(log);
      const again = spawnSync('sh', ['-c', REPLICA_SEED_SCRIPT], { env, encoding: 'utf8' });
      expect(again.status).toBe(0);
      expect(existsSync(log)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('cpu limits on Kubernetes (spec resources)', () => {
  const container = (objects: KubeObject[], name: string) =>
    (objects.find((o) => o.kind === 'Deployment' && o.metadata?.name === name) as Deployment).spec!.template.spec!.containers[0]!;

  it("resources.api.cpu becomes the api container's cpu request and limit; the worker keeps its default request and no limit", () => {
    const objects = stackObjects(withDefaults({ runtime: 'kubernetes', resources: { api: { cpu: '0.1' } } }), secrets);
    for (const object of objects) validate(object);
    expect(container(objects, 'scalelab-api').resources).toEqual({
      requests: { cpu: '100m', memory: '128Mi' },
      limits: { cpu: '100m', memory: '512Mi' },
    });
    expect(container(objects, 'scalelab-worker').resources).toEqual({
      requests: { cpu: '100m', memory: '128Mi' },
      limits: { memory: '512Mi' },
    });
  });

  it('without a cpu setting nothing limits the cpu, and the HPA keeps a request to divide by', () => {
    const objects = stackObjects(withDefaults({ runtime: 'kubernetes', resources: { worker: { cpu: 2 } } }), secrets);
    expect(container(objects, 'scalelab-api').resources).toEqual({
      requests: { cpu: '250m', memory: '128Mi' },
      limits: { memory: '512Mi' },
    });
    expect(container(objects, 'scalelab-worker').resources).toEqual({
      requests: { cpu: '2', memory: '128Mi' },
      limits: { cpu: '2', memory: '512Mi' },
    });
  });
});
