/**
 * The commands on one instance of the running stack: a signal (kill -TERM/-KILL/-STOP/-CONT), a log
 * tail on request, and follows that stream its lines to the client that asked until it unfollows or goes.
 */
import type { ClientContext, CommandHandlers } from './command-kit.js';
import { ContractError, StackStateError } from './errors.js';
import type { TimelineEvent } from '../contract.js';
import type { Runtime } from './runtimes/runtime.js';

type InstanceCommand = 'instance:signal' | 'logs:tail' | 'logs:follow' | 'logs:unfollow';

/**
 * The instance commands against whichever runtime is active when each runs; `running` tells whether
 * a stack runs there, `record` puts a signal on the timeline.
 */
export function instanceCommands(
  active: () => Runtime,
  running: () => boolean,
  record: (event: Omit<TimelineEvent, 't'>) => void,
): CommandHandlers<InstanceCommand> {
  /** Per client, its follows by instance: how to stop each. */
  const follows = new Map<ClientContext, Map<string, () => void>>();
  return {
    'instance:signal': async (payload) => {
      if (!running()) throw new StackStateError('no stack is running');
      await active().kill(payload.id, payload.how);
      record({ kind: 'chaos', level: 'warn', message: `${payload.how} ${payload.id}`, instance: payload.id });
      return null;
    },
    'logs:tail': async (payload) => ({ lines: await active().logs(payload.instance, payload.lines ?? 200) }),
    'logs:follow': async (payload, client) => {
      if (!client) throw new ContractError('logs:follow needs a streaming client');
      const stop = active().follow(payload.instance, (line) => client.send('log', { instance: payload.instance, line }));
      const mine = follows.get(client) ?? new Map<string, () => void>();
      mine.get(payload.instance)?.();
      mine.set(payload.instance, stop);
      if (!follows.has(client)) {
        follows.set(client, mine);
        client.onClose(() => {
          for (const s of mine.values()) s();
          follows.delete(client);
        });
      }
      return null;
    },
    'logs:unfollow': async (payload, client) => {
      const mine = client ? follows.get(client) : undefined;
      mine?.get(payload.instance)?.();
      mine?.delete(payload.instance);
      return null;
    },
  };
}
