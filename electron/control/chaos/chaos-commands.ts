/** The chaos commands: inject a fault into the running stack, clear them all, read what is active. */
import type { CommandHandlers } from '../command-kit.js';
import { StackStateError } from '../errors.js';
import type { Chaos } from './chaos.js';

export function chaosCommands(chaos: Chaos, running: () => boolean): CommandHandlers<'chaos:inject' | 'chaos:clear' | 'chaos:status'> {
  return {
    'chaos:inject': async (payload) => {
      if (!running()) throw new StackStateError('no stack is running; start one with `scalelab up` before injecting failures');
      return chaos.inject(payload);
    },
    'chaos:clear': async () => chaos.clear(),
    'chaos:status': async () => chaos.status(),
  };
}
