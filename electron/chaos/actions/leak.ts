import Type from 'typebox';
import { chaosAction, given, needTarget } from '../action-kit.js';
import { actionObject, InstanceId, replicaFault } from '../action-parts.js';

/** Leaks memory on an api replica until it is restarted (or `clear`). @defaultValue 10 MiB/s */
export default chaosAction(
  actionObject('leak', { target: InstanceId, mbPerSecond: Type.Optional(Type.Integer({ minimum: 1, maximum: 512 })) }),
  {
    usage: 'leak <instance> [--mb-per-second 10]',
    options: { 'mb-per-second': { type: 'string' } },
    parse: (target, args) => ({
      action: 'leak',
      target: needTarget(target, 'leak'),
      ...given('mbPerSecond', args['mb-per-second'] ? Number(args['mb-per-second']) : undefined),
    }),
    inject: (kit, { target, mbPerSecond = 10 }) =>
      replicaFault(kit, 'leak', target, { mbPerSecond }, `${mbPerSecond} MiB/s until restarted`, null),
    undo: (kit) => kit.clearApiFaults(),
    buttons: [
      {
        id: 'replica-leak',
        place: 'replica',
        label: 'Leak memory',
        title: 'Grow its heap until it is restarted or cleared',
        fields: [{ key: 'mbPerSecond', label: 'leak MiB per second', unit: 'MiB/s', min: 1, max: 512, integer: true, default: 10 }],
        action: (v, instance) => ({ action: 'leak', target: instance!, mbPerSecond: v.mbPerSecond }),
      },
    ],
  },
);
