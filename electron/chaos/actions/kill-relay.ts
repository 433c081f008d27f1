import { chaosAction, given, secondsOption } from '../action-kit.js';
import { actionObject, ForSeconds, reviveStream, stopStream, untilItEnds } from '../action-parts.js';

/** Kills the outbox relay in every worker for `forSeconds`, mid-batch: the outbox backs up, then drains. @defaultValue 10 */
export default chaosAction(actionObject('kill-relay', { forSeconds: ForSeconds }), {
  usage: 'kill-relay [--for 10s]',
  options: { for: { type: 'string' } },
  parse: (_target, args) => ({ action: 'kill-relay', ...given('forSeconds', secondsOption('for', args.for)) }),
  inject: (kit, { forSeconds = 10 }) => stopStream(kit, 'relay', forSeconds),
  undo: (kit) => reviveStream(kit, 'relay'),
  inForce: untilItEnds,
  buttons: [
    {
      id: 'kill-relay',
      place: 'data',
      label: 'Kill relay',
      title: 'Kill the outbox relay in every worker mid-batch: the outbox backs up, then drains',
      needs: 'events',
      fields: [{ key: 'forSeconds', label: 'relay down for, seconds', before: 'for', unit: 's', min: 0, max: 600, default: 10 }],
      action: (v) => ({ action: 'kill-relay', forSeconds: v.forSeconds }),
    },
  ],
});
