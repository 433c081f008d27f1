import { chaosAction, needTarget } from '../action-kit.js';
import { actionObject, InstanceId } from '../action-parts.js';
import { pauseKey } from './pause.js';

/** SIGCONT to a paused replica: it carries on. */
export default chaosAction(actionObject('resume', { target: InstanceId }), {
  usage: 'resume <instance>',
  parse: (target) => ({ action: 'resume', target: needTarget(target, 'resume') }),
  async inject(kit, { target }) {
    const { id } = kit.instance(target);
    await kit.signal(id, 'resume');
    kit.faults.delete(pauseKey(id));
    return { message: `resume ${id}`, instance: id };
  },
});
