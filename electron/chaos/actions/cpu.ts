import Type from 'typebox';
import { chaosAction, given, needTarget } from '../action-kit.js';
import { actionObject, InstanceId, replicaFault, SECOND } from '../action-parts.js';

/** Burns cpu on an api replica. @defaultValue 30 s, 1 thread */
export default chaosAction(
  actionObject('cpu', {
    target: InstanceId,
    seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })),
    threads: Type.Optional(Type.Integer({ minimum: 1, maximum: 8 })),
  }),
  {
    usage: 'cpu <instance> [--seconds 30] [--threads 1]',
    options: { seconds: { type: 'string' }, threads: { type: 'string' } },
    // Numbers as given: the contract's schema judges them, so the CLI and the dashboard refuse the same.
    parse: (target, args) => ({
      action: 'cpu',
      target: needTarget(target, 'cpu'),
      ...given('seconds', args.seconds ? Number(args.seconds) : undefined),
      ...given('threads', args.threads ? Number(args.threads) : undefined),
    }),
    inject(kit, { target, seconds = 30, threads = 1 }) {
      const detail = `${threads} thread${threads === 1 ? '' : 's'} for ${seconds} s`;
      return replicaFault(kit, 'cpu', target, { threads, durationMs: seconds * SECOND }, detail, Date.now() + seconds * SECOND);
    },
    undo: (kit) => kit.clearApiFaults(),
    buttons: [
      {
        id: 'replica-cpu',
        place: 'replica',
        label: 'Burn CPU',
        title: 'Busy-loop threads on this replica',
        fields: [
          { key: 'seconds', label: 'cpu seconds', before: 'for', unit: 's', min: 1, max: 3600, integer: true, default: 30 },
          { key: 'threads', label: 'cpu threads', before: '×', unit: 'threads', min: 1, max: 8, integer: true, default: 1 },
        ],
        action: (v, instance) => ({ action: 'cpu', target: instance!, seconds: v.seconds, threads: v.threads }),
      },
    ],
  },
);
