import { Namespace, Secret, Service } from 'kubernetes-models/v1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { describe, expect, it } from 'vitest';
import { withDefaults } from '../../electron/contract.js';
import { KUBE_LABELS, stackObjects, type KubeObject } from '../../electron/control/runtimes/kubernetes/manifests.js';

const secrets = { postgresPassword: 'p@ss/word+1', adminToken: 'a-token-of-24-characters' };
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  Namespace,
  Secret,
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

describe('the Kubernetes runtime\'s objects (validated offline with kubernetes-models)', () => {
  it('every object of the default stack validates against the Kubernetes schemas', () => {
    const objects = stackObjects(withDefaults({ runtime: 'kubernetes' }), secrets);
    expect(objects.map((o) => `${o.kind}/${o.metadata?.name}`)).toEqual([
      'Namespace/scalelab-default',
      'Secret/scalelab-secrets',
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
      const spec = (object as { spec?: { selector?: { matchLabels?: Record<string, string> }; template?: { metadata?: { labels?: Record<string, string> } } } }).spec;
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

  it('kubernetes-models rejects a broken object, so the checks above can fail', () => {
    const [, , , , , , deployment] = stackObjects(withDefaults({ runtime: 'kubernetes' }), secrets);
    const broken = JSON.parse(JSON.stringify(deployment)) as { spec: { template: { spec: { containers: { ports: { containerPort: unknown }[] }[] } } } };
    broken.spec.template.spec.containers[0]!.ports[0]!.containerPort = 'http';
    expect(() => new Deployment(broken as never).validate()).toThrow(/containerPort/);
  });
});
