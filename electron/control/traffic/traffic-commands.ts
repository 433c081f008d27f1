/**
 * The traffic commands: start, update and stop a run through the balancer, and read the run's
 * acknowledged writes back from the database.
 */
import type { StackSpec } from '../../contract.js';
import type { CommandHandlers } from '../command-kit.js';
import { StackStateError } from '../errors.js';
import type { OnProgress } from '../runtimes/runtime.js';
import type { TrafficDesk } from './traffic-desk.js';

type TrafficCommand = 'traffic:start' | 'traffic:update' | 'traffic:stop' | 'writes:verify';

/** What the traffic commands need of the control plane. */
export interface TrafficCommandDeps {
  desk: TrafficDesk;
  /** The running stack's spec; undefined while none runs. */
  running: () => StackSpec | undefined;
  /** The running stack's database, when the control plane can reach it. */
  databaseUrl: () => string | undefined;
  runtimeName: () => string;
  /** Whether a capacity search is running its own traffic. */
  capacityRunning: () => boolean;
  progress: (command: TrafficCommand) => OnProgress;
  /** Queues a mutating command behind the others. */
  serial: <T>(work: () => Promise<T>) => Promise<T>;
}

export function trafficCommands(deps: TrafficCommandDeps): CommandHandlers<TrafficCommand> {
  const { desk } = deps;
  return {
    'traffic:start': (payload) =>
      deps.serial(async () => {
        if (deps.capacityRunning())
          throw new StackStateError('a capacity search is running its own traffic; stop it first (capacity:stop)');
        const spec = deps.running();
        if (!spec) throw new StackStateError('no stack is running; start one first (scalelab up)');
        return desk.start(payload, `http://127.0.0.1:${spec.port}`, deps.progress('traffic:start'));
      }),
    'traffic:update': async (payload) => desk.update(payload),
    'traffic:stop': async () => {
      // A run that already ended (its duration elapsed) answers with its final summary.
      const summary = await desk.stop();
      if (!summary) throw new StackStateError('no traffic has run yet; start it with traffic:start');
      return summary;
    },
    'writes:verify': async () => {
      const spec = deps.running();
      if (!spec) throw new StackStateError('no stack is running; the writes are read back from the running stack');
      const databaseUrl = deps.databaseUrl();
      if (!databaseUrl)
        throw new StackStateError(
          `the ${deps.runtimeName()} stack's database is inside the cluster, out of the control plane's reach; verify on the local or docker runtime`,
        );
      return desk.verify({ balancer: `http://127.0.0.1:${spec.port}`, databaseUrl }, deps.progress('writes:verify'));
    },
  };
}
