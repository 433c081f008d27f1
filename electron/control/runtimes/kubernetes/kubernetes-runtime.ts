import { mkdir } from 'node:fs/promises';
import type { KubernetesObject } from '@kubernetes/client-node';
import {
  cpuMillicores,
  type AutoscalerConfigureInput,
  type AutoscalerGauge,
  type AutoscalerStatus,
  type CpuLimitStatus,
  type Instance,
  type Probe,
  type ScalableService,
  type StackSpec,
} from '../../../contract.js';
import type { BalancerSnapshot } from '../../balancer/stats.js';
import { StackOwnedError, stackDir } from '../local/stack-dir.js';
import type { ReplicaEvent } from '../local/replica-set.js';
import { loadSecrets, type Secrets } from '../local/state.js';
import type { InstanceStats, OnProgress, Runtime, SignalHow, StackEndpoints, StoreId } from '../runtime.js';
import { connectKube, probeKubernetes, type KubeCluster } from './cluster.js';
import { configureHpa, hpaGauge, readHpas } from './hpa-view.js';
import { attachStack, pollStack, type Running } from './kube-running.js';
import { apply, assertOwned, deleteOwned, KubeApiError, setScale, waitNamespaceGone } from './kube-apply.js';
import { provideServiceImage } from './kube-images.js';
import { readKubeState, removeKubeState, writeKubeState } from './kube-state.js';
import { followPodLog, tailPodLog } from './pod-logs.js';
import { hpaObjects, KUBE_NAMES, KUBE_PORTS, stackObjects } from './manifests.js';
import { pruneDisabled } from './prune.js';
import { waitForStack } from './stack-ready.js';
import { waitForInstances } from './wait.js';
import { OTLP_ENDPOINT_VAR, replicaTraceEnv } from '../../traces/trace-env.js';

/** Options of {@link KubernetesRuntime}. */
export interface KubernetesRuntimeOptions {
  /** ScaleLab's state folder (SCALELAB_HOME): secrets and kube.json live under stacks/<name>/. */
  home: string;
  /** Lifecycle and scaling events, for the timeline. */
  onEvent?: (event: ReplicaEvent) => void;
  /** The kubeconfig file. @defaultValue $KUBECONFIG, then ~/.kube/config */
  kubeconfig?: string;
  /** Longest wait for pods to become ready (image pulls included). @defaultValue 300000 */
  readyTimeoutMs?: number;
  /** The `minikube` executable, for `minikube image load`. @defaultValue 'minikube' */
  minikubeBin?: string;
  /** How often pod metrics and HPA status are read. @defaultValue 5000 */
  pollMs?: number;
}

/**
 * The Kubernetes runtime: the stack as Deployments, a StatefulSet, Services and (with the
 * autoscaler on) real `autoscaling/v2` HPAs in the namespace `scalelab-<stack>`, applied with
 * server-side apply. Pods are watched with an informer; traffic, /metrics scrapes and fault hooks
 * reach the pods through the API server's service and pod proxies; cpu and memory come from
 * metrics.k8s.io. Nothing without the `scalelab.stack` label is deleted.
 */
export class KubernetesRuntime implements Runtime {
  readonly name = 'kubernetes' as const;
  private running: Running | undefined;
  private readonly watchers = new Set<(instances: Instance[]) => void>();
  private lastPhases = new Map<string, string>();

  constructor(private readonly options: KubernetesRuntimeOptions) {}

  probe(): Promise<Probe> {
    return probeKubernetes({ kubeconfig: this.options.kubeconfig });
  }

  async up(spec: StackSpec, onProgress: OnProgress): Promise<StackEndpoints> {
    const current = this.running;
    if (current && current.spec.name !== spec.name)
      throw new StackOwnedError(`stack "${current.spec.name}" is running here; stop it before starting "${spec.name}"`);
    onProgress('connecting to the cluster');
    const cluster = current?.cluster ?? (await connectKube({ context: spec.kubernetes.context, kubeconfig: this.options.kubeconfig }));
    onProgress(`connected to context ${cluster.context} (${cluster.minikube ? 'Minikube ' : ''}${cluster.version}) at ${cluster.server}`);
    if (!cluster.metricsServer)
      onProgress('metrics-server is not installed: pods show no cpu and the HPA cannot scale (minikube addons enable metrics-server)');
    const image = await provideServiceImage(
      spec,
      { minikube: cluster.minikube, context: cluster.context, minikubeBin: this.options.minikubeBin },
      onProgress,
    );
    const dir = stackDir(this.options.home, spec.name);
    await mkdir(dir, { recursive: true });
    const secrets = await loadSecrets(dir);
    const applied: StackSpec = { ...spec, images: { ...spec.images, service: image } };
    const objects = stackObjects(applied, secrets, { otlpEndpoint: replicaTraceEnv('elsewhere')[OTLP_ENDPOINT_VAR] });
    for (const [i, object] of objects.entries()) {
      await apply(cluster.objects, object as KubernetesObject);
      onProgress(`applied ${object.kind} ${object.metadata?.name}`, (0.4 * (i + 1)) / objects.length);
    }
    await pruneDisabled(cluster.objects, spec, onProgress);
    const running = current ?? (await this.attach(cluster, applied, dir, secrets));
    running.spec = { ...applied, port: running.spec.port };
    await writeKubeState(dir, { version: 1, spec: running.spec, context: cluster.context, controlPid: process.pid });
    await this.waitReady(spec, onProgress);
    return this.endpoints();
  }

  /** Watches the pods, opens the proxies and the balancer: the stack is now this runtime's. */
  private async attach(cluster: KubeCluster, spec: StackSpec, dir: string, secrets: Secrets): Promise<Running> {
    this.running = await attachStack({
      cluster,
      spec,
      dir,
      secrets,
      source: this,
      onChange: () => this.notify(),
      onEvent: (e) => this.options.onEvent?.(e),
      onPoll: () => void this.pollCluster(),
      pollMs: this.options.pollMs ?? 5000,
    });
    return this.running;
  }

  private waitReady(spec: StackSpec, onProgress: OnProgress): Promise<void> {
    return waitForStack(this, spec, this.options.readyTimeoutMs ?? 300_000, onProgress);
  }

  private endpoints(): StackEndpoints {
    return { balancer: `http://127.0.0.1:${this.running!.spec.port}` };
  }

  async down(opts: { keepData: boolean }, onProgress: OnProgress = () => undefined): Promise<void> {
    const running = this.running;
    if (!running) return;
    const { cluster, spec, namespace } = running;
    running.outages.clear();
    if (opts.keepData) {
      // Everything but the PVC and the Secret (its password opens the data), so `up` finds both.
      const workloads = stackObjects(spec, running.secrets).filter((o) => o.kind !== 'Namespace' && o.kind !== 'Secret');
      for (const object of [...workloads, ...hpaObjects(spec.name)].reverse()) {
        if (await deleteOwned(cluster.objects, object as KubernetesObject, spec.name))
          onProgress(`deleted ${object.kind} ${object.metadata?.name}`);
      }
      await waitForInstances(this, { timeoutMs: 120_000, what: 'the pods to stop', done: (instances) => instances.length === 0 });
      const claims = spec.data.readReplica
        ? `PVCs ${KUBE_NAMES.postgresClaim} and ${KUBE_NAMES.replicaClaim}`
        : `PVC ${KUBE_NAMES.postgresClaim}`;
      onProgress(`namespace ${namespace} keeps the data (${claims}) and the secrets`);
    } else {
      await deleteOwned(cluster.objects, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }, spec.name);
      onProgress(`deleting namespace ${namespace} and everything in it`);
      await waitNamespaceGone(cluster.objects, namespace);
      onProgress(`namespace ${namespace} is gone`);
    }
    await writeKubeState(running.dir, { version: 1, spec, context: cluster.context, controlPid: 0 });
    if (!opts.keepData) await removeKubeState(running.dir);
    await this.dispose();
    this.notify();
  }

  async scale(service: ScalableService, replicas: number, onProgress: OnProgress = () => undefined): Promise<void> {
    const running = this.requireRunning();
    if (running.hpa?.hpa?.[service])
      throw new KubeApiError(`the Kubernetes HPA owns ${service}'s replica count; turn it off first (scalelab autoscale off ${service})`);
    const name = KUBE_NAMES.workload(service);
    onProgress(`scaling Deployment ${name} to ${replicas}`);
    await setScale(running.cluster.kc, 'Deployment', running.namespace, name, replicas);
    running.spec = { ...running.spec, replicas: { ...running.spec.replicas, [service]: replicas } };
    await waitForInstances(this, {
      timeoutMs: this.options.readyTimeoutMs ?? 300_000,
      what: `${replicas} ready ${service} pods`,
      done: (instances) => {
        const mine = instances.filter((i) => i.service === service);
        return (
          mine.filter((i) => i.phase === 'ready').length === replicas && mine.filter((i) => i.phase !== 'terminating').length === replicas
        );
      },
    });
    onProgress(`${service}: ${replicas} ready`, 1);
  }

  async instances(): Promise<Instance[]> {
    return this.currentInstances();
  }

  currentInstances(): Instance[] {
    return this.running?.pods.instances() ?? [];
  }

  currentSpec(): StackSpec | undefined {
    const running = this.running;
    if (!running) return undefined;
    // Where an HPA owns a count, the spec shows what it last set.
    const hpa = running.hpa?.hpa;
    if (!hpa?.api && !hpa?.worker) return running.spec;
    return {
      ...running.spec,
      replicas: { api: hpa.api?.current ?? running.spec.replicas.api, worker: hpa.worker?.current ?? running.spec.replicas.worker },
    };
  }

  watch(onChange: (instances: Instance[]) => void): () => void {
    this.watchers.add(onChange);
    return () => this.watchers.delete(onChange);
  }

  async stats(): Promise<InstanceStats[]> {
    return [...(this.running?.usage.values() ?? [])];
  }

  usage(): Map<string, InstanceStats> {
    return this.running?.usage ?? new Map();
  }

  /** Each service's cpu limit per replica: the kubelet enforces the pods' resources.limits.cpu (throttling is not in metrics.k8s.io). */
  cpuLimits(): CpuLimitStatus | undefined {
    const spec = this.running?.spec;
    if (!spec) return undefined;
    const api = cpuMillicores(spec, 'api');
    const worker = cpuMillicores(spec, 'worker');
    return { api, worker, enforcedBy: api === null && worker === null ? null : 'Kubernetes resources.limits.cpu', notEnforced: null };
  }

  /** Deletes a pod (its controller makes a new one); `kill` with no grace period. Pausing is not possible on Kubernetes. */
  async kill(id: string, how: SignalHow): Promise<void> {
    const running = this.requireRunning();
    if (how === 'pause' || how === 'resume') throw new KubeApiError('Kubernetes cannot pause a pod; kill or stop it, or inject latency');
    const pod = running.pods.podOf(id);
    if (!pod) throw new KubeApiError(`no pod "${id}" in namespace ${running.namespace}`);
    assertOwned(pod as KubernetesObject, running.spec.name);
    await deleteOwned(
      running.cluster.objects,
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: pod.metadata!.name!, namespace: running.namespace } },
      running.spec.name,
      how === 'kill' ? 0 : undefined,
    );
  }

  outage(id: StoreId, forMs: number, onBack: (err?: Error) => void): Promise<void> {
    return this.requireRunning().outages.start(id, forMs, onBack);
  }

  endOutage(id: StoreId): void {
    this.running?.outages.end(id);
  }

  adminToken(): string | undefined {
    return this.running?.secrets.adminToken;
  }

  /** Base URL of an api or worker pod's HTTP port, through the API server's pod proxy. */
  instanceUrl(instance: Instance): string | undefined {
    const running = this.running;
    if (!running || (instance.service !== 'api' && instance.service !== 'worker')) return undefined;
    return `${running.podProxy.url}/${instance.id}:${KUBE_PORTS[instance.service]}`;
  }

  metricsUrl(instance: Instance): string | undefined {
    const base = this.instanceUrl(instance);
    return base && `${base}/metrics`;
  }

  async logs(id: string, lines: number): Promise<string[]> {
    const running = this.requireRunning();
    const pod = running.pods.podOf(id);
    return pod ? tailPodLog(running.cluster.kc, running.namespace, pod, lines) : [];
  }

  follow(id: string, onLine: (line: string) => void): () => void {
    const running = this.running;
    const pod = running?.pods.podOf(id);
    return running && pod ? followPodLog(running.cluster.kc, running.namespace, pod, onLine) : () => undefined;
  }

  takeBalancerSnapshot(): BalancerSnapshot | undefined {
    return this.running?.balancer.takeSnapshot();
  }

  /** `autoscaler:status` from the cluster's HPAs. */
  async autoscalerStatus(): Promise<AutoscalerStatus> {
    const running = this.requireRunning();
    running.hpa = await readHpas(running.cluster.kc, running.cluster.objects, running.namespace);
    return running.hpa;
  }

  /** `autoscaler:configure`: applies or deletes the service's HPA. */
  async configureAutoscaler(input: AutoscalerConfigureInput): Promise<AutoscalerStatus> {
    const running = this.requireRunning();
    await configureHpa(running.cluster.objects, running.spec.name, input);
    return this.autoscalerStatus();
  }

  /** The HPAs as Sample gauges, from the last poll. */
  autoscalerGauges(): AutoscalerGauge[] {
    const hpa = this.running?.hpa?.hpa;
    return [hpa?.api, hpa?.worker].flatMap((v) => (v ? [hpaGauge(v)] : []));
  }

  /**
   * Deletes a stopped stack's namespace (data included), after checking its label; the cluster
   * and context come from kube.json.
   */
  async purge(stack: string, onProgress: OnProgress = () => undefined): Promise<void> {
    const dir = stackDir(this.options.home, stack);
    const state = await readKubeState(dir);
    if (!state) return;
    const cluster = await connectKube({ context: state.context, kubeconfig: this.options.kubeconfig });
    const namespace = KUBE_NAMES.namespace(stack);
    if (await deleteOwned(cluster.objects, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }, stack))
      onProgress(`deleting namespace ${namespace} and its data`);
    await waitNamespaceGone(cluster.objects, namespace);
    await removeKubeState(dir);
    onProgress(`namespace ${namespace} is gone`);
  }

  private async pollCluster(): Promise<void> {
    const running = this.running;
    if (!running) return;
    await pollStack(running, (event) => this.options.onEvent?.(event));
  }

  private notify(): void {
    const instances = this.currentInstances();
    const phases = new Map(instances.map((i) => [i.id, i.phase]));
    for (const [id, phase] of phases) {
      const was = this.lastPhases.get(id);
      if (was !== phase && (was || phase === 'ready'))
        this.options.onEvent?.({
          kind: 'lifecycle',
          level: phase === 'crashed' ? 'error' : 'info',
          message: `pod ${id} ${was ? `${was} → ${phase}` : 'is ready'}`,
          instance: id,
        });
    }
    for (const id of this.lastPhases.keys())
      if (!phases.has(id)) this.options.onEvent?.({ kind: 'lifecycle', level: 'info', message: `pod ${id} is gone`, instance: id });
    this.lastPhases = phases as Map<string, string>;
    for (const watcher of this.watchers) watcher(instances);
  }

  private requireRunning(): Running {
    if (!this.running) throw new KubeApiError('no stack runs on Kubernetes here; start one with scalelab up --runtime kubernetes');
    return this.running;
  }

  /** Stops watching and closes the proxies; the stack keeps running in the cluster. Safe to call twice. */
  async dispose(): Promise<void> {
    const running = this.running;
    this.running = undefined;
    if (!running) return;
    clearInterval(running.poll);
    running.outages.clear();
    const steps = [running.pods.stop(), running.balancer.close(), running.serviceProxy.close(), running.podProxy.close()];
    await Promise.allSettled(steps);
  }
}
