import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApiException, CoreV1Api, KubeConfig, KubernetesObjectApi, VersionApi } from '@kubernetes/client-node';
import type { KubeProbe, Probe } from '../../../contract.js';
import { NamedError } from '../../../../backend/named-error.js';

/** The kubeconfig is missing, names no such context, or the cluster does not answer. */
export class KubeConnectError extends NamedError {
  constructor(
    message: string,
    /** What the user can do about it. */
    readonly fix: string,
  ) {
    super(`${message}. ${fix}`);
  }
}

/** Options of {@link connectKube} and {@link probeKubernetes}. */
export interface KubeConnectOptions {
  /** A context of the kubeconfig. @defaultValue its current context */
  context?: string | null;
  /** The kubeconfig file. @defaultValue $KUBECONFIG, then ~/.kube/config */
  kubeconfig?: string;
  /** Longest wait for the API server's first answer. @defaultValue 5000 */
  timeoutMs?: number;
}

/** A reachable cluster. */
export interface KubeCluster {
  kc: KubeConfig;
  context: string;
  server: string;
  version: string;
  minikube: boolean;
  metricsServer: boolean;
  objects: KubernetesObjectApi;
  core: CoreV1Api;
}

const MINIKUBE_FIX = 'start a cluster (`minikube start`) or pick another context with --context';
const METRICS_FIX = "minikube addons enable metrics-server (or install metrics-server: the HPA and the pods' cpu need it)";

/** The kubeconfig files client-node would read: the given one, $KUBECONFIG's, or ~/.kube/config. */
function configFiles(options: KubeConnectOptions): string[] {
  if (options.kubeconfig) return [options.kubeconfig];
  const fromEnv = (process.env.KUBECONFIG ?? '').split(path.delimiter).filter(Boolean);
  return fromEnv.length > 0 ? fromEnv : [path.join(os.homedir(), '.kube', 'config')];
}

function loadConfig(options: KubeConnectOptions): KubeConfig {
  const kc = new KubeConfig();
  const files = configFiles(options);
  // client-node would otherwise invent a context for http://localhost:8080 and report that it does not answer.
  if (!files.some((f) => existsSync(f)) && !process.env.KUBERNETES_SERVICE_HOST) {
    throw new KubeConnectError(
      `no kubeconfig was found (looked at ${files.join(', ')})`,
      "install Minikube and run `minikube start`, or set KUBECONFIG to a cluster's kubeconfig",
    );
  }
  try {
    if (options.kubeconfig) kc.loadFromFile(options.kubeconfig);
    else kc.loadFromDefault();
  } catch (err) {
    throw new KubeConnectError(
      `the kubeconfig could not be read (${(err as Error).message})`,
      'fix it, or point KUBECONFIG at a valid one',
    );
  }
  if (kc.getContexts().length === 0)
    throw new KubeConnectError('no kubeconfig with a context was found', `install Minikube and run \`minikube start\`, or set KUBECONFIG`);
  const context = options.context ?? kc.getCurrentContext();
  if (!kc.getContextObject(context)) {
    throw new KubeConnectError(
      `the kubeconfig has no context "${context}" (it has ${kc
        .getContexts()
        .map((c) => c.name)
        .join(', ')})`,
      'pick one of those with --context',
    );
  }
  kc.setCurrentContext(context);
  return kc;
}

function within<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** Whether the cluster serves metrics.k8s.io (metrics-server installed and available). */
async function hasMetricsServer(kc: KubeConfig, timeoutMs: number): Promise<boolean> {
  const objects = KubernetesObjectApi.makeApiClient(kc);
  try {
    const service = await within(
      objects.read({ apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService', metadata: { name: 'v1beta1.metrics.k8s.io' } }),
      timeoutMs,
      'the API server',
    );
    const conditions = (service as { status?: { conditions?: { type: string; status: string }[] } }).status?.conditions ?? [];
    return conditions.some((c) => c.type === 'Available' && c.status === 'True');
  } catch {
    return false;
  }
}

async function isMinikube(kc: KubeConfig, context: string, core: CoreV1Api, timeoutMs: number): Promise<boolean> {
  const cluster = kc.getContextObject(context)?.cluster ?? '';
  if (context === 'minikube' || cluster === 'minikube') return true;
  try {
    const nodes = await within(core.listNode({ labelSelector: 'minikube.k8s.io/name' }), timeoutMs, 'the API server');
    return nodes.items.length > 0;
  } catch {
    return false;
  }
}

/** Connects to a context's API server and learns what it offers; throws {@link KubeConnectError}. */
export async function connectKube(options: KubeConnectOptions = {}): Promise<KubeCluster> {
  const kc = loadConfig(options);
  const context = kc.getCurrentContext();
  const server = kc.getCurrentCluster()?.server ?? '';
  const timeoutMs = options.timeoutMs ?? 5000;
  let version: string;
  try {
    const info = await within(kc.makeApiClient(VersionApi).getCode(), timeoutMs, `the API server at ${server}`);
    version = info.gitVersion;
  } catch (err) {
    const status = err instanceof ApiException ? ` (HTTP ${err.code})` : '';
    const fix =
      status.includes('401') || status.includes('403')
        ? "refresh the context's credentials"
        : context === 'minikube'
          ? MINIKUBE_FIX
          : 'check that the cluster runs and the context is right';
    throw new KubeConnectError(`the cluster of context "${context}" does not answer${status}: ${(err as Error).message}`, fix);
  }
  const core = kc.makeApiClient(CoreV1Api);
  const [minikube, metricsServer] = await Promise.all([isMinikube(kc, context, core, timeoutMs), hasMetricsServer(kc, timeoutMs)]);
  return { kc, context, server, version, minikube, metricsServer, objects: KubernetesObjectApi.makeApiClient(kc), core };
}

/**
 * The Kubernetes runtime's probe: the kubeconfig's contexts and current one, whether it answers,
 * Minikube, metrics-server, and how to fix what is missing.
 */
export async function probeKubernetes(options: KubeConnectOptions = {}): Promise<Probe> {
  let contexts: string[] = [];
  let current = '';
  try {
    const kc = loadConfig(options);
    contexts = kc.getContexts().map((c) => c.name);
    current = kc.getCurrentContext();
    const cluster = await connectKube(options);
    const kubernetes: KubeProbe = {
      contexts,
      context: cluster.context,
      server: cluster.server,
      reachable: true,
      minikube: cluster.minikube,
      metricsServer: cluster.metricsServer,
    };
    const probe: Probe = {
      runtime: 'kubernetes',
      available: true,
      version: `${cluster.minikube ? 'Minikube' : 'Kubernetes'} ${cluster.version} (context ${cluster.context})`,
      kubernetes,
    };
    if (!cluster.metricsServer) return { ...probe, reason: 'metrics-server is not installed: the HPA cannot read cpu', fix: METRICS_FIX };
    return probe;
  } catch (err) {
    const fix = err instanceof KubeConnectError ? err.fix : MINIKUBE_FIX;
    const message = err instanceof KubeConnectError ? err.message.slice(0, err.message.length - fix.length - 2) : (err as Error).message;
    return {
      runtime: 'kubernetes',
      available: false,
      reason: message,
      fix,
      kubernetes: { contexts, context: current, server: '', reachable: false, minikube: current === 'minikube', metricsServer: false },
    };
  }
}
