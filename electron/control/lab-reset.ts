/**
 * "Reset the lab": one command that puts a running stack back as it was started, for a trainer
 * between two demos. Each part goes through the control plane's own door (validated, queued,
 * recorded), in an order where nothing undoes the next: the capacity search and the scenario
 * first (they drive traffic and scaling), then traffic, chaos and the monkey, the autoscalers
 * (they would scale again), and last the replica counts of the last `stack:up`.
 */
import type { CommandName, CommandPayload, CommandResults, LabReset, StackSpec, TimelineEvent } from '../contract.js';
import { StackStateError } from './errors.js';

/** What the reset reads and runs. */
export interface LabResetDeps {
  run: <C extends CommandName>(command: C, payload: CommandPayload<C>) => Promise<CommandResults[C]>;
  /** The running stack's spec now, and the replica counts its last `stack:up` asked for. */
  running: () => { spec: StackSpec; upReplicas: StackSpec['replicas'] } | undefined;
  capacityRunning: () => boolean;
  trafficRunning: () => boolean;
  record: (event: Omit<TimelineEvent, 't'>) => void;
}

export async function resetLab(deps: LabResetDeps): Promise<LabReset> {
  const running = deps.running();
  if (!running) throw new StackStateError('no stack is running; there is nothing to reset (start one with scalelab up)');
  const done: string[] = [];
  if (deps.capacityRunning()) {
    await deps.run('capacity:stop', {});
    done.push('stopped the capacity search');
  }
  const scenario = await deps.run('scenario:status', {});
  if (['starting', 'running', 'paused', 'verifying'].includes(scenario.state)) {
    await deps.run('scenario:reset', {});
    done.push(`reset the scenario "${scenario.name}"`);
  }
  if (deps.trafficRunning()) {
    await deps.run('traffic:stop', {});
    done.push('stopped the traffic');
  }
  const chaos = await deps.run('chaos:status', {});
  if (chaos.faults.length > 0 || chaos.monkey.enabled) {
    await deps.run('chaos:clear', {});
    done.push(`cleared chaos (${chaos.faults.length} ${chaos.faults.length === 1 ? 'fault' : 'faults'}${chaos.monkey.enabled ? ', the monkey' : ''})`);
  }
  const autoscaler = await deps.run('autoscaler:status', {});
  for (const service of (['api', 'worker'] as const).filter((s) => autoscaler[s]?.config.enabled)) {
    await deps.run('autoscaler:configure', { service, enabled: false });
    done.push(`turned the ${service} autoscaler off`);
  }
  const now = deps.running()?.spec.replicas ?? running.spec.replicas;
  for (const service of ['api', 'worker'] as const) {
    const want = running.upReplicas[service];
    if (now[service] === want) continue;
    await deps.run('stack:scale', { service, replicas: want });
    done.push(`scaled ${service} ${now[service]} → ${want}`);
  }
  if (done.length === 0) done.push('nothing to reset: no traffic, search, scenario, fault or autoscaler, and the replica counts are as started');
  deps.record({ kind: 'lifecycle', level: 'info', message: `lab reset: ${done.join('; ')}` });
  return { done };
}
