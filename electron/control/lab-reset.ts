/**
 * "Reset the lab": one command that puts a running stack back as it was started, for a trainer
 * between two demos. Each part goes through the control plane's own door (validated, queued,
 * recorded), in an order where nothing undoes the next: the capacity search and the scenario
 * first (they drive traffic and scaling), then traffic, chaos and the monkey, the autoscalers
 * (they would scale again), and last the replica counts of the last `stack:up`.
 */
import {
  scenarioActive,
  type CommandName,
  type CommandPayload,
  type CommandResults,
  type LabReset,
  type StackSpec,
  type TimelineEvent,
} from '../contract.js';
import type { CommandHandlers } from './command-kit.js';
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

/** What {@link stopLoadAndChaos} reads and runs. */
export type StopDeps = Pick<LabResetDeps, 'run' | 'capacityRunning' | 'trafficRunning'>;

/**
 * Stops what makes load and breaks things, in an order where nothing undoes the next: the capacity
 * search and the scenario (they drive traffic, chaos and scaling), the traffic run, then the faults
 * and the monkey. Returns what it did, in words. Shared by Reset lab and the safety guard; with
 * `keepGoing` (the guard, acting on its own) a step that fails is said and the next still runs.
 */
export async function stopLoadAndChaos(deps: StopDeps, keepGoing = false): Promise<string[]> {
  const done: string[] = [];
  const step = async (what: string, action: () => Promise<unknown>) => {
    try {
      await action();
      done.push(what);
    } catch (err) {
      if (!keepGoing) throw err;
      done.push(`${what} failed: ${(err as Error).message}`);
    }
  };
  if (deps.capacityRunning()) await step('stopped the capacity search', () => deps.run('capacity:stop', {}));
  const scenario = await deps.run('scenario:status', {});
  if (scenarioActive(scenario.state)) await step(`reset the scenario "${scenario.name}"`, () => deps.run('scenario:reset', {}));
  if (deps.trafficRunning()) await step('stopped the traffic', () => deps.run('traffic:stop', {}));
  const chaos = await deps.run('chaos:status', {});
  if (chaos.faults.length > 0 || chaos.monkey.enabled) {
    await step(
      `cleared chaos (${chaos.faults.length} ${chaos.faults.length === 1 ? 'fault' : 'faults'}${chaos.monkey.enabled ? ', the monkey' : ''})`,
      () => deps.run('chaos:clear', {}),
    );
  }
  return done;
}

export async function resetLab(deps: LabResetDeps): Promise<LabReset> {
  const running = deps.running();
  if (!running) throw new StackStateError('no stack is running; there is nothing to reset (start one with scalelab up)');
  const done = await stopLoadAndChaos(deps);
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
  if (done.length === 0)
    done.push('nothing to reset: no traffic, search, scenario, fault or autoscaler, and the replica counts are as started');
  deps.record({ kind: 'lifecycle', level: 'info', message: `lab reset: ${done.join('; ')}` });
  return { done };
}

/** What {@link labCommands} reads and runs. */
export interface LabCommandDeps extends LabResetDeps {
  /** Whether no stack runs (or starts, or stops). */
  stopped: () => boolean;
  /** How to stop this control plane, when a client may (see ControlPlaneOptions.onShutdownRequest). */
  shutdownHook: () => (() => void) | undefined;
}

/** The lab's own commands: Reset lab, and stopping a control plane the CLI started in the background. */
export function labCommands(deps: LabCommandDeps): CommandHandlers<'lab:reset' | 'control:shutdown'> {
  return {
    'lab:reset': () => resetLab(deps),
    'control:shutdown': async () => {
      const shutdown = deps.shutdownHook();
      if (!shutdown)
        throw new StackStateError('this control plane runs in the foreground (scalelab serve or the desktop app); stop it there');
      if (!deps.stopped()) throw new StackStateError('stop the stack first with `scalelab down`');
      setImmediate(shutdown);
      return null;
    },
  };
}
