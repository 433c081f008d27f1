import { chaosAction, given, secondsOption } from '../action-kit.js';
import { actionObject, ForSeconds, holdDown, untilItEnds } from '../action-parts.js';

/** Kills Redis and brings it back after `forSeconds`. @defaultValue 10 */
export default chaosAction(actionObject('kill-cache', { forSeconds: ForSeconds }), {
  usage: 'kill-cache [--for 10s]',
  options: { for: { type: 'string' } },
  parse: (_target, args) => ({ action: 'kill-cache', ...given('forSeconds', secondsOption('for', args.for)) }),
  inject: (kit, { forSeconds = 10 }) => holdDown(kit, 'kill-cache', 'redis', 'redis', forSeconds, `down for ${forSeconds} s`),
  undo: async (kit) => kit.endOutage('redis'),
  inForce: untilItEnds,
  buttons: [
    {
      id: 'kill-cache',
      place: 'kill',
      label: 'Kill cache',
      title: 'Kill Redis; it comes back after the seconds given',
      fields: [{ key: 'forSeconds', label: 'cache down for, seconds', before: 'for', unit: 's', min: 0, max: 600, default: 10 }],
      action: (v) => ({ action: 'kill-cache', forSeconds: v.forSeconds }),
    },
  ],
});
