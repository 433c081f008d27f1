import { chaosAction, given, secondsOption } from '../action-kit.js';
import { actionObject, ForSeconds, holdDown, needReplica, untilItEnds } from '../action-parts.js';

/** Kills the PostgreSQL read replica for `forSeconds`: reads fall back to the primary. @defaultValue 10 */
export default chaosAction(actionObject('kill-replica', { forSeconds: ForSeconds }), {
  usage: 'kill-replica [--for 10s]',
  options: { for: { type: 'string' } },
  parse: (_target, args) => ({ action: 'kill-replica', ...given('forSeconds', secondsOption('for', args.for)) }),
  inject(kit, { forSeconds = 10 }) {
    needReplica(kit);
    return holdDown(
      kit,
      'kill-replica',
      'postgres-replica',
      'the read replica',
      forSeconds,
      `down for ${forSeconds} s; reads go to the primary`,
    );
  },
  undo: async (kit) => kit.endOutage('postgres-replica'),
  inForce: untilItEnds,
  buttons: [
    {
      id: 'kill-replica',
      place: 'data',
      label: 'Kill replica',
      title: 'Kill the PostgreSQL read replica; reads fall back to the primary until it is back',
      needs: 'readReplica',
      fields: [{ key: 'forSeconds', label: 'replica down for, seconds', before: 'for', unit: 's', min: 0, max: 600, default: 10 }],
      action: (v) => ({ action: 'kill-replica', forSeconds: v.forSeconds }),
    },
  ],
});
