import { randomUUID } from 'node:crypto';
import type { IDeployment, IStatefulSet } from 'kubernetes-models/apps/v1';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import type { IPersistentVolumeClaim, IPod, IPodSpec, ISecret, IService } from 'kubernetes-models/v1';
import { deepEqual, isJsonObject } from './json.js';
import { R, groupKind, type ResourceType } from './resources.js';
import { matchesSelector } from './selectors.js';
import { badRequest, invalid } from './status.js';
import type { ObjectStore } from './store.js';
import type { KubeObject } from './types.js';

type Cause = { field: string; message: string };

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

function nameCauses(type: ResourceType, name: string): Cause[] {
  const field = 'metadata.name';
  if (!name) return [{ field, message: 'Required value: name or generateName is required' }];
  if (type === R.service && (!DNS1035.test(name) || name.length > 63)) {
    return [
      {
        field,
        message: `Invalid value: "${name}": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
      },
    ];
  }
  if (type === R.namespace && (!LABEL.test(name) || name.length > 63)) {
    return [
      {
        field,
        message: `Invalid value: "${name}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
      },
    ];
  }
  if (!SUBDOMAIN.test(name) || name.length > 253) {
    return [
      {
        field,
        message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
      },
    ];
  }
  return [];
}

/** Labels and annotations must be strings: the API server's JSON decoding refuses anything else. */
function checkStringMaps(object: KubeObject): void {
  for (const field of ['labels', 'annotations'] as const) {
    for (const value of Object.values(object.metadata[field] ?? {})) {
      if (typeof value !== 'string')
        throw badRequest(`json: cannot unmarshal ${typeof value} into Go struct field ObjectMeta.metadata.${field} of type string`);
    }
  }
}

/** The API server's defaults for a pod spec (pods and pod templates alike). */
function defaultPodSpec(spec: IPodSpec | undefined, field: string, causes: Cause[]): void {
  if (!spec || !Array.isArray(spec.containers) || spec.containers.length === 0) {
    causes.push({ field: `${field}.containers`, message: 'Required value' });
    return;
  }
  spec.restartPolicy ??= 'Always';
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.securityContext ??= {};
  spec.containers.forEach((c, i) => {
    if (!c.name) causes.push({ field: `${field}.containers[${i}].name`, message: 'Required value' });
    if (!c.image) causes.push({ field: `${field}.containers[${i}].image`, message: 'Required value' });
    const tag = (c.image ?? '').split('/').pop()?.split(':')[1];
    c.imagePullPolicy ??= !tag || tag === 'latest' ? 'Always' : 'IfNotPresent';
    c.terminationMessagePath ??= '/dev/termination-log';
    c.terminationMessagePolicy ??= 'File';
    c.resources ??= {};
    for (const port of c.ports ?? []) port.protocol ??= 'TCP';
  });
}

function checkWorkloadSelector(object: IDeployment | IStatefulSet, causes: Cause[]): void {
  const spec = object.spec;
  if (!spec?.selector || (!spec.selector.matchLabels && !spec.selector.matchExpressions)) {
    causes.push({ field: 'spec.selector', message: 'Required value' });
  } else if (!matchesSelector(spec.selector, spec.template?.metadata?.labels)) {
    causes.push({
      field: 'spec.template.metadata.labels',
      message: `Invalid value: ${JSON.stringify(spec.template?.metadata?.labels ?? {})}: \`selector\` does not match template \`labels\``,
    });
  }
  defaultPodSpec(spec?.template?.spec, 'spec.template.spec', causes);
}

function randomClusterIp(store: ObjectStore): string {
  const taken = new Set(store.list<IService>(R.service).map((s) => s.spec?.clusterIP));
  for (;;) {
    const ip = `10.96.${Math.floor(Math.random() * 255)}.${1 + Math.floor(Math.random() * 253)}`;
    if (!taken.has(ip)) return ip;
  }
}

function defaultService(service: IService, previous: IService | undefined, store: ObjectStore, causes: Cause[]): void {
  const spec = (service.spec ??= {});
  spec.type ??= 'ClusterIP';
  spec.sessionAffinity ??= 'None';
  spec.ipFamilies ??= ['IPv4'];
  spec.ipFamilyPolicy ??= 'SingleStack';
  spec.internalTrafficPolicy ??= 'Cluster';
  const before = previous?.spec?.clusterIP;
  if (before && spec.clusterIP && spec.clusterIP !== before)
    causes.push({ field: 'spec.clusterIPs[0]', message: `Invalid value: []string{"${spec.clusterIP}"}: may not change once set` });
  spec.clusterIP ??= before ?? randomClusterIp(store);
  spec.clusterIPs = [spec.clusterIP];
  (spec.ports ?? []).forEach((port, i) => {
    port.protocol ??= 'TCP';
    port.targetPort ??= port.port;
    if ((spec.ports?.length ?? 0) > 1 && !port.name) causes.push({ field: `spec.ports[${i}].name`, message: 'Required value' });
    if ((spec.type === 'NodePort' || spec.type === 'LoadBalancer') && !port.nodePort)
      port.nodePort = 30000 + Math.floor(Math.random() * 2767);
  });
  if (spec.type === 'LoadBalancer') service.status = { loadBalancer: {}, ...(previous?.status ?? {}) };
}

function defaultSecret(secret: ISecret): void {
  secret.type ??= 'Opaque';
  // stringData is write-only: the API server folds it into data (base64) and never stores it.
  const stringData = secret.stringData;
  if (stringData) {
    secret.data = { ...(secret.data ?? {}) };
    for (const [k, v] of Object.entries(stringData)) secret.data[k] = Buffer.from(v).toString('base64');
    delete secret.stringData;
  }
}

function defaultPvc(pvc: IPersistentVolumeClaim, creating: boolean): void {
  const spec = (pvc.spec ??= {});
  spec.storageClassName ??= 'standard';
  spec.volumeMode ??= 'Filesystem';
  // Minikube's storage-provisioner binds at once: a claim is Bound to a fresh volume as soon as it exists.
  if (creating) {
    spec.volumeName ??= `pvc-${randomUUID()}`;
    pvc.status = {
      phase: 'Bound',
      accessModes: spec.accessModes ?? ['ReadWriteOnce'],
      capacity: { storage: String(spec.resources?.requests?.storage ?? '1Gi') },
    };
  }
}

function defaultHpa(hpa: IHorizontalPodAutoscaler, causes: Cause[]): void {
  const spec = hpa.spec;
  if (!spec?.scaleTargetRef?.kind || !spec.scaleTargetRef.name) causes.push({ field: 'spec.scaleTargetRef', message: 'Required value' });
  if (!spec) return;
  spec.minReplicas ??= 1;
  if (!(spec.maxReplicas >= 1))
    causes.push({ field: 'spec.maxReplicas', message: `Invalid value: ${spec.maxReplicas}: must be greater than or equal to 1` });
  else if (spec.maxReplicas < spec.minReplicas)
    causes.push({
      field: 'spec.maxReplicas',
      message: `Invalid value: ${spec.maxReplicas}: must be greater than or equal to \`minReplicas\``,
    });
  spec.metrics ??= [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
}

const STS_MUTABLE = ['replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds'];

function checkImmutable(type: ResourceType, object: KubeObject, previous: KubeObject, causes: Cause[]): void {
  const spec = (o: KubeObject) => (isJsonObject(o.spec) ? o.spec : {});
  if ((type === R.deployment || type === R.statefulSet) && !deepEqual(spec(object).selector, spec(previous).selector)) {
    causes.push({ field: 'spec.selector', message: `Invalid value: ${JSON.stringify(spec(object).selector)}: field is immutable` });
  }
  if (type === R.statefulSet) {
    const strip = (s: Record<string, unknown>) => Object.fromEntries(Object.entries(s).filter(([k]) => !STS_MUTABLE.includes(k)));
    if (!deepEqual(strip(spec(object)), strip(spec(previous)))) {
      causes.push({
        field: 'spec',
        message:
          "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
      });
    }
  }
  if (type === R.pod) {
    // Only images (and a few scheduling fields the fake does not model) may change on a live pod.
    const withoutImages = (o: KubeObject) => {
      const s = structuredClone(spec(o)) as unknown as IPodSpec;
      for (const c of s.containers ?? []) delete c.image;
      return s;
    };
    if (!deepEqual(withoutImages(object), withoutImages(previous))) {
      causes.push({
        field: 'spec',
        message:
          'Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
      });
    }
  }
}

/**
 * What the API server does to an object before storing it: fills defaults (a Deployment's
 * replicas, a Service's clusterIP, a pod's restartPolicy…) and refuses invalid ones with the
 * same 422 Status. `previous` is the stored object when this is an update.
 */
export function admit(store: ObjectStore, type: ResourceType, object: KubeObject, previous?: KubeObject): KubeObject {
  checkStringMaps(object);
  const causes: Cause[] = previous ? [] : nameCauses(type, object.metadata.name);
  if (type === R.pod) {
    const pod = object as unknown as IPod;
    defaultPodSpec(pod.spec, 'spec', causes);
    pod.spec ??= { containers: [] };
    pod.spec.serviceAccountName ??= 'default';
    pod.spec.enableServiceLinks ??= true;
    if (!previous) pod.status = { phase: 'Pending', qosClass: 'BestEffort' };
  } else if (type === R.deployment) {
    const d = object as unknown as IDeployment;
    checkWorkloadSelector(d, causes);
    if (d.spec) {
      d.spec.replicas ??= 1;
      d.spec.revisionHistoryLimit ??= 10;
      d.spec.progressDeadlineSeconds ??= 600;
      d.spec.strategy ??= { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } };
    }
  } else if (type === R.statefulSet) {
    const s = object as unknown as IStatefulSet;
    checkWorkloadSelector(s, causes);
    if (s.spec) {
      s.spec.replicas ??= 1;
      s.spec.podManagementPolicy ??= 'OrderedReady';
      s.spec.revisionHistoryLimit ??= 10;
      s.spec.updateStrategy ??= { type: 'RollingUpdate', rollingUpdate: { partition: 0 } };
      s.spec.persistentVolumeClaimRetentionPolicy ??= { whenDeleted: 'Retain', whenScaled: 'Retain' };
    }
  } else if (type === R.service) {
    defaultService(object as unknown as IService, previous as unknown as IService | undefined, store, causes);
  } else if (type === R.secret) {
    defaultSecret(object as unknown as ISecret);
  } else if (type === R.pvc) {
    defaultPvc(object as unknown as IPersistentVolumeClaim, !previous);
  } else if (type === R.hpa) {
    defaultHpa(object as unknown as IHorizontalPodAutoscaler, causes);
  } else if (type === R.namespace) {
    object.metadata.labels = { ...object.metadata.labels, 'kubernetes.io/metadata.name': object.metadata.name };
    object.spec = { finalizers: ['kubernetes'] };
    if (!previous) object.status = { phase: 'Active' };
  }
  if (previous) checkImmutable(type, object, previous, causes);
  if (causes.length > 0) throw invalid(groupKind(type), object.metadata.name, causes);
  return object;
}
