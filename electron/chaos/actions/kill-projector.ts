import { chaosAction, given, secondsOption } from '../action-kit.js';
import { actionObject, ForSeconds, reviveStream, stopStream, untilItEnds } from '../action-parts.js';

/** Kills the projector in every worker for `forSeconds`, mid-batch: consumer-group lag grows, then catches up. @defaultValue 10 */
export default chaosAction(actionObject('kill-projector', { forSeconds: ForSeconds }), {
  usage: 'kill-projector [--for 10s]',
  options: { for: { type: 'string' } },
  parse: (_target, args) => ({ action: 'kill-projector', ...given('forSeconds', secondsOption('for', args.for)) }),
  inject: (kit, { forSeconds = 10 }) => stopStream(kit, 'projector', forSeconds),
  undo: (kit) => reviveStream(kit, 'projector'),
  inForce: untilItEnds,
  buttons: [
    {
      id: 'kill-projector',
      place: 'data',
      // Not "Kill projector": every button named like the stack bar's Projector would make that one ambiguous to find.
      label: 'Kill projection',
      title: 'Kill the projector in every worker mid-batch: consumer-group lag grows, then catches up',
      needs: 'events',
      fields: [{ key: 'forSeconds', label: 'projection down for, seconds', before: 'for', unit: 's', min: 0, max: 600, default: 10 }],
      action: (v) => ({ action: 'kill-projector', forSeconds: v.forSeconds }),
    },
  ],
});
