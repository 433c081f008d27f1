/**
 * The runtimes the control plane can run a stack on, as a list of drivers (Podman Desktop's
 * `registerContainerConnection`): the control plane iterates it and asks for capabilities by
 * interface, never "is this Kubernetes?". A new runtime is its folder and one entry here.
 */
import type { AutoscalerConfigureInput, AutoscalerGauge, AutoscalerStatus, RuntimeName, StackSpec, TimelineEvent } from '../../contract.js';
import type { OnProgress, Runtime } from './runtime.js';
import { DockerRuntime } from './docker/docker-runtime.js';
import { readDockerState } from './docker/docker-state.js';
import { KubernetesRuntime } from './kubernetes/kubernetes-runtime.js';
import { readKubeState } from './kubernetes/kube-state.js';
import { liveProcesses } from './local/leftovers.js';
import { LocalRuntime } from './local/local-runtime.js';
import { readState, recordedProcesses } from './local/state.js';

/** What every driver is made with. */
export interface RuntimeDriverOptions {
  home: string;
  /** The Kubernetes runtime's kubeconfig. @defaultValue $KUBECONFIG, then ~/.kube/config */
  kubeconfig?: string;
  onEvent: (event: Omit<TimelineEvent, 't'>) => void;
}

/** A stack a control plane recorded in a stack folder: what adoption needs to take it over (adoption.ts). */
export interface RecordedStack {
  spec: StackSpec;
  /** The control plane that supervised it; 0 once it was stopped with its data kept. */
  controlPid: number;
  /** The recorded processes (not containers or pods) still alive now, by pid. */
  livePids(): Promise<number[]>;
}

/** One runtime: how to make it, and what it leaves in a stack's folder. */
export interface RuntimeDriver<R extends Runtime = Runtime> {
  name: RuntimeName;
  create(options: RuntimeDriverOptions): R;
  /** Whether the stack folder `dir` holds this runtime's record of a stack (something to purge). */
  owns(dir: string): Promise<boolean>;
  /** Deletes what the stack left on this runtime (containers, volumes, namespaces, its folder). */
  purge(runtime: R, stack: string, dir: string, onProgress: OnProgress): Promise<void>;
  /** The stack this runtime recorded in `dir`, if it did; a driver without one is never adopted. */
  recorded?(dir: string): Promise<RecordedStack | undefined>;
  /** Its `down` with `keepData: false` deletes the stack's data in one go (no separate purge needed). */
  purgesOnDown?: boolean;
}

/** A recorded stack whose instances are containers or pods: no process of its own to find alive. */
const containersOnly = (state: { spec: StackSpec; controlPid: number } | undefined): RecordedStack | undefined =>
  state && { spec: state.spec, controlPid: state.controlPid, livePids: async () => [] };

const driver = <R extends Runtime>(d: RuntimeDriver<R>) => d as unknown as RuntimeDriver;

/**
 * In the order the dashboard offers them. Purges run in reverse: local last, since its purge
 * removes the stack folder the others read their state from.
 */
export const RUNTIME_DRIVERS: readonly RuntimeDriver[] = [
  driver<LocalRuntime>({
    name: 'local',
    create: (o) => new LocalRuntime({ home: o.home, onEvent: o.onEvent }),
    owns: async () => true,
    recorded: async (dir) => {
      const state = await readState(dir);
      if (!state) return undefined;
      // The watchdog is restarted by every up; what survives of the rest is what a takeover keeps.
      const livePids = async () => (await liveProcesses(recordedProcesses(state).filter((p) => p.role !== 'watchdog'))).map((p) => p.pid);
      return { spec: state.spec, controlPid: state.controlPid, livePids };
    },
    purge: (r, _stack, dir, p) => r.purge(dir, p),
  }),
  driver<DockerRuntime>({
    name: 'docker',
    create: (o) => new DockerRuntime({ home: o.home, onEvent: o.onEvent }),
    owns: async (dir) => !!(await readDockerState(dir)),
    recorded: (dir) => readDockerState(dir).then(containersOnly),
    purge: (r, stack, _dir, p) => r.purge(stack, p),
  }),
  driver<KubernetesRuntime>({
    name: 'kubernetes',
    create: (o) => new KubernetesRuntime({ home: o.home, kubeconfig: o.kubeconfig, onEvent: o.onEvent }),
    owns: async (dir) => !!(await readKubeState(dir)),
    recorded: (dir) => readKubeState(dir).then(containersOnly),
    purge: (r, stack, _dir, p) => r.purge(stack, p),
    // Deleting the namespace takes the PVC and everything in it.
    purgesOnDown: true,
  }),
];

/** A runtime whose cluster scales the stack itself (Kubernetes' HPAs): ScaleLab applies and reads them instead of emulating one. */
export interface ClusterAutoscaling {
  configureAutoscaler(input: AutoscalerConfigureInput): Promise<AutoscalerStatus>;
  autoscalerStatus(): Promise<AutoscalerStatus>;
  autoscalerGauges(): AutoscalerGauge[];
}

export function hasClusterAutoscaling(runtime: Runtime): runtime is Runtime & ClusterAutoscaling {
  const r = runtime as Partial<ClusterAutoscaling>;
  return (
    typeof r.configureAutoscaler === 'function' && typeof r.autoscalerStatus === 'function' && typeof r.autoscalerGauges === 'function'
  );
}
