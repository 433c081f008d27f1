import { RESOURCE_TYPES, R } from './resources.js';
import type { ObjectStore } from './store.js';
import type { KubeObject } from './types.js';

/** The node's InternalIP: Minikube's docker driver address, or a made-up one. */
export function hostIp(minikube: boolean): string {
  return minikube ? '192.168.49.2' : '10.0.0.2';
}

function node(name: string, minikube: boolean): KubeObject {
  const labels: Record<string, string> = {
    'beta.kubernetes.io/arch': 'amd64',
    'beta.kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    'kubernetes.io/hostname': name,
    'kubernetes.io/os': 'linux',
    'node-role.kubernetes.io/control-plane': '',
  };
  if (minikube)
    Object.assign(labels, { 'minikube.k8s.io/name': 'minikube', 'minikube.k8s.io/primary': 'true', 'minikube.k8s.io/version': 'v1.34.0' });
  const resources = { cpu: '2', memory: '8029876Ki', pods: '110', 'ephemeral-storage': '61202244Ki' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels },
    spec: { podCIDR: '10.244.0.0/24', podCIDRs: ['10.244.0.0/24'] },
    status: {
      capacity: resources,
      allocatable: resources,
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }],
      addresses: [
        { type: 'InternalIP', address: hostIp(minikube) },
        { type: 'Hostname', address: name },
      ],
      nodeInfo: {
        kubeletVersion: 'v1.31.0-fake',
        containerRuntimeVersion: 'docker://27.2.0',
        osImage: 'fake Kubernetes node',
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
    },
  };
}

function apiService(group: string, version: string): KubeObject {
  const metrics = group === 'metrics.k8s.io';
  return {
    apiVersion: 'apiregistration.k8s.io/v1',
    kind: 'APIService',
    metadata: { name: `${version}.${group}`, ...(metrics ? { labels: { 'k8s-app': 'metrics-server' } } : {}) },
    spec: {
      ...(group ? { group } : {}),
      version,
      groupPriorityMinimum: metrics ? 100 : 18000,
      versionPriority: metrics ? 100 : 15,
      ...(metrics ? { service: { namespace: 'kube-system', name: 'metrics-server', port: 443 }, insecureSkipTLSVerify: true } : {}),
    },
    status: {
      conditions: [
        {
          type: 'Available',
          status: 'True',
          reason: metrics ? 'Passed' : 'Local',
          message: metrics ? 'all checks passed' : 'Local APIServices are always available',
        },
      ],
    },
  };
}

/** What a fresh cluster holds: its namespaces, one node, the `kubernetes` Service, and the APIServices. */
export function seed(store: ObjectStore, nodeName: string, minikube: boolean, metricsServer: boolean): void {
  for (const name of ['default', 'kube-node-lease', 'kube-public', 'kube-system']) {
    store.create(R.namespace, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name, labels: { 'kubernetes.io/metadata.name': name } },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
  }
  store.create(R.node, node(nodeName, minikube));
  store.create(R.service, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: {
      type: 'ClusterIP',
      clusterIP: '10.96.0.1',
      clusterIPs: ['10.96.0.1'],
      ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 8443 }],
      sessionAffinity: 'None',
    },
  });
  const groups = new Set(RESOURCE_TYPES.filter((t) => !t.metrics).map((t) => `${t.group}/${t.version}`));
  for (const gv of groups) {
    const [group = '', version = ''] = gv.split('/');
    store.create(R.apiService, apiService(group, version));
  }
  // Without metrics-server there is no metrics APIService at all, as on a fresh Minikube.
  if (metricsServer) store.create(R.apiService, apiService('metrics.k8s.io', 'v1beta1'));
}
