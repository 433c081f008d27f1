import { stringify } from 'yaml';

/** A kubeconfig with one context that reaches the fake over plain HTTP with a bearer token. */
export function kubeConfigYaml(server: string, token: string, context: string): string {
  const cluster = context === 'minikube' ? 'minikube' : 'fake-kube-api';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    clusters: [{ name: cluster, cluster: { server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'fake-kube-user', user: { token } }],
    contexts: [{ name: context, context: { cluster, user: 'fake-kube-user', namespace: 'default' } }],
    'current-context': context,
  });
}
