/**
 * A local stack's balancer on `up`: re-attached when the process a previous run started still
 * serves, else launched on the recorded port (or the spec's, or a free one when that is taken).
 */
import path from 'node:path';
import type { StackSpec } from '../../../contract.js';
import { HaproxyBalancer } from '../../balancer/haproxy/haproxy-balancer.js';
import { balancerSpanSink } from '../../traces/trace-env.js';
import type { OnProgress } from '../runtime.js';
import {
  attachBalancer,
  chooseBalancerEngine,
  launchBalancer,
  type LaunchBalancerOptions,
  type StackBalancer,
} from './balancer-launcher.js';
import { freePort, isPortOpen } from './ports.js';
import type { LocalState } from './state.js';

/** Options of {@link openBalancer}. */
export interface OpenBalancerOptions {
  previous: LocalState | undefined;
  spec: StackSpec;
  /** The stack's folder. */
  dir: string;
  onProgress: OnProgress;
  onWarn: (message: string) => void;
}

/** A balancer {@link openBalancer} attached to or launched. */
export interface OpenedBalancer {
  balancer: StackBalancer;
  /** True when it is the previous run's balancer. */
  adopted: boolean;
  port: number;
  /** How to start it again should it die (for `superviseBalancer`). */
  launch: Omit<LaunchBalancerOptions, 'previous' | 'engine'>;
}

/** Re-attaches to the previous run's balancer, or launches one with the engine found here. */
export async function openBalancer({ previous, spec, dir, onProgress, onWarn }: OpenBalancerOptions): Promise<OpenedBalancer> {
  const port = previous?.balancerPort ?? ((await isPortOpen(spec.port)) ? await freePort() : spec.port);
  if (port !== spec.port) onProgress(`port ${spec.port} is taken; the balancer uses ${port}`);
  const launch = { port, dir, logFile: path.join(dir, 'logs', 'balancer.log'), onWarn };
  const adopted = await attachBalancer(previous?.balancer, { traceSink: balancerSpanSink }, onWarn);
  const balancer =
    adopted ?? (await launchBalancer({ ...launch, engine: await chooseBalancerEngine(onProgress) }, { traceSink: balancerSpanSink }));
  return { balancer, adopted: adopted !== undefined, port, launch };
}

/** The progress line saying where the balancer serves and which engine it is. */
export function balancerReadyLine({ balancer, adopted, port }: Pick<OpenedBalancer, 'balancer' | 'adopted' | 'port'>): string {
  const engine = balancer instanceof HaproxyBalancer ? 'HAProxy' : 'Node balancer';
  return adopted
    ? `adopted the ${engine} (pid ${balancer.record.pid}) on http://127.0.0.1:${port}`
    : `balancer listening on http://127.0.0.1:${port} (${engine}, pid ${balancer.record.pid})`;
}
