import { chaosAction, given, secondsOption } from '../action-kit.js';
import { actionObject, ForSeconds, holdDown, untilItEnds } from '../action-parts.js';

/** Kills PostgreSQL and brings it back after `forSeconds`. @defaultValue 5 */
export default chaosAction(actionObject('kill-db', { forSeconds: ForSeconds }), {
  usage: 'kill-db [--for 5s]',
  options: { for: { type: 'string' } },
  parse: (_target, args) => ({ action: 'kill-db', ...given('forSeconds', secondsOption('for', args.for)) }),
  inject: (kit, { forSeconds = 5 }) => holdDown(kit, 'kill-db', 'postgres', 'postgres', forSeconds, `down for ${forSeconds} s`),
  undo: async (kit) => kit.endOutage('postgres'),
  inForce: untilItEnds,
  buttons: [
    {
      id: 'kill-db',
      place: 'kill',
      label: 'Kill database',
      title: 'Kill PostgreSQL; it comes back after the seconds given',
      fields: [{ key: 'forSeconds', label: 'database down for, seconds', before: 'for', unit: 's', min: 0, max: 600, default: 5 }],
      action: (v) => ({ action: 'kill-db', forSeconds: v.forSeconds }),
    },
  ],
});
