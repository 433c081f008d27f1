/** How a control plane is set up: where it keeps its stacks, who may stop it, which runtimes it drives. */
import type { RuntimeDriver } from './runtimes/registry.js';

/** Options of the control plane (control-plane.ts). */
export interface ControlPlaneOptions {
  /** SCALELAB_HOME. */
  home: string;
  /** The dashboard's URL, reported in status (set by the headless server or Electron). */
  dashboardUrl?: string;
  /**
   * Set when a client may stop this control plane (one the CLI started in the background);
   * the desktop app and a foreground `serve` leave it unset and are stopped where they run.
   */
  onShutdownRequest?: () => void;
  /** The kubeconfig of the Kubernetes runtime. @defaultValue $KUBECONFIG, then ~/.kube/config */
  kubeconfig?: string;
  /** The runtimes it can run a stack on. @defaultValue the registry's RUNTIME_DRIVERS (runtimes/registry.ts) */
  drivers?: readonly RuntimeDriver[];
}
