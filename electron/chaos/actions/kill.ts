import Type from 'typebox';
import { chaosAction, given, needTarget } from '../action-kit.js';
import { actionObject, InstanceId } from '../action-parts.js';

/** SIGKILL (or, with `graceful`, SIGTERM) to a replica, a random api or a random worker; the runtime brings it back. */
export default chaosAction(
  actionObject('kill', {
    target: Type.Union([Type.Literal('random-api'), Type.Literal('random-worker'), InstanceId]),
    graceful: Type.Optional(Type.Boolean()),
  }),
  {
    usage: 'kill <instance|random-api|random-worker> [--graceful]',
    options: { graceful: { type: 'boolean' } },
    parse: (target, args) => ({
      action: 'kill',
      target: needTarget(target, 'kill'),
      ...given('graceful', args.graceful === true ? true : undefined),
    }),
    async inject(kit, { target, graceful }) {
      const id = target === 'random-api' ? kit.random('api') : target === 'random-worker' ? kit.random('worker') : kit.instance(target).id;
      const how = graceful ? 'stop' : 'kill';
      await kit.signal(id, how);
      return { message: `${how} ${id}`, instance: id };
    },
    buttons: [
      {
        id: 'kill-api',
        place: 'kill',
        label: 'Kill random api',
        title: 'SIGKILL to a random api replica',
        action: () => ({ action: 'kill', target: 'random-api' }),
      },
      {
        id: 'kill-worker',
        place: 'kill',
        label: 'Kill random worker',
        title: 'SIGKILL to a random worker',
        action: () => ({ action: 'kill', target: 'random-worker' }),
      },
    ],
  },
);
