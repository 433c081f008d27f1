/**
 * The autoscaler commands: ScaleLab's own autoscaler, or, where the runtime scales the stack itself
 * (Kubernetes' HPAs), the cluster's, which ScaleLab applies and reads.
 */
import type { CommandHandlers } from '../command-kit.js';
import type { ClusterAutoscaling } from '../runtimes/registry.js';
import type { Autoscaler } from './autoscaler.js';

export function autoscalerCommands(
  autoscaler: Autoscaler,
  cluster: () => ClusterAutoscaling | undefined,
): CommandHandlers<'autoscaler:configure' | 'autoscaler:status'> {
  return {
    'autoscaler:configure': async (payload) => {
      const theirs = cluster();
      if (theirs) return theirs.configureAutoscaler(payload);
      const status = autoscaler.configure(payload);
      // A first decision now rather than a sync period later.
      if (payload.enabled !== false) void autoscaler.sync(payload.service);
      return status;
    },
    'autoscaler:status': async () => cluster()?.autoscalerStatus() ?? autoscaler.status(),
  };
}
