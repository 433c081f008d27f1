import { chaosAction, needTarget } from '../action-kit.js';
import { actionObject, InstanceId } from '../action-parts.js';

/** The fault a paused replica carries until it is resumed. */
export const pauseKey = (id: string) => `pause:${id}`;

/** SIGSTOP to a replica: frozen, connections open, until resumed (or `clear`). */
export default chaosAction(actionObject('pause', { target: InstanceId }), {
  usage: 'pause <instance>',
  parse: (target) => ({ action: 'pause', target: needTarget(target, 'pause') }),
  async inject(kit, { target }) {
    const { id } = kit.instance(target);
    await kit.signal(id, 'pause');
    kit.faults.set(pauseKey(id), { action: 'pause', target: id, detail: 'frozen (SIGSTOP) until resumed', since: Date.now(), until: null });
    return { message: `pause ${id}`, instance: id };
  },
  async undo(kit) {
    const paused = [...kit.faults.values()].filter((f) => f.action === 'pause').map((f) => f.target);
    await Promise.all(paused.map((id) => kit.signal(id, 'resume').catch(() => undefined)));
  },
  // A replica resumed some other way (or restarted) is no longer paused.
  inForce: (_fault, instance) => instance?.phase === 'paused',
});
