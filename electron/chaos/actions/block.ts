import Type from 'typebox';
import { chaosAction, given, msOption, needTarget } from '../action-kit.js';
import { actionObject, InstanceId, replicaFault } from '../action-parts.js';

/** Blocks an api replica's event loop once, for `ms`. @defaultValue 2000 ms */
export default chaosAction(
  actionObject('block', { target: InstanceId, ms: Type.Optional(Type.Integer({ minimum: 1, maximum: 60_000 })) }),
  {
    usage: 'block <instance> [--ms 2s]',
    options: { ms: { type: 'string' } },
    parse: (target, args) => ({ action: 'block', target: needTarget(target, 'block'), ...given('ms', msOption('ms', args.ms)) }),
    inject: (kit, { target, ms = 2000 }) => replicaFault(kit, 'block', target, { ms }, `event loop blocked ${ms} ms`, Date.now() + ms),
    undo: (kit) => kit.clearApiFaults(),
    buttons: [
      {
        id: 'replica-block',
        place: 'replica',
        label: 'Block event loop',
        title: 'Block its event loop once, for this long',
        fields: [{ key: 'ms', label: 'block ms', unit: 'ms', min: 1, max: 60_000, integer: true, default: 2000 }],
        action: (v, instance) => ({ action: 'block', target: instance!, ms: v.ms }),
      },
    ],
  },
);
