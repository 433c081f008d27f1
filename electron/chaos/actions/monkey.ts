import Type from 'typebox';
import { chaosAction, ChaosUsageError, given, secondsOption } from '../action-kit.js';
import { actionObject } from '../action-parts.js';

/**
 * The Chaos Monkey: kills a random api or worker replica every `intervalSeconds` (±50 % jitter),
 * never more than `maxDown` at once and never the last one. Its dashboard control is a switch,
 * not a button (renderer/features/chaos/monkey-control.tsx).
 */
export default chaosAction(
  actionObject('monkey', {
    enabled: Type.Boolean(),
    intervalSeconds: Type.Optional(Type.Number({ minimum: 1, maximum: 3600 })),
    maxDown: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 })),
  }),
  {
    usage: 'monkey on|off [--interval 5s] [--max-down 1]',
    options: { interval: { type: 'string' }, 'max-down': { type: 'string' } },
    parse(target, args) {
      if (target !== 'on' && target !== 'off') throw new ChaosUsageError('chaos monkey needs on or off');
      const maxDown = args['max-down'] === undefined ? undefined : Number(args['max-down']);
      if (maxDown !== undefined && (!Number.isInteger(maxDown) || maxDown < 1 || maxDown > 10))
        throw new ChaosUsageError(`--max-down must be a whole number from 1 to 10 (got "${String(args['max-down'])}")`);
      return {
        action: 'monkey',
        enabled: target === 'on',
        ...given('intervalSeconds', secondsOption('interval', args.interval)),
        ...given('maxDown', maxDown),
      };
    },
    async inject(kit, { enabled, intervalSeconds, maxDown }) {
      kit.monkey.set(enabled, intervalSeconds, maxDown);
      return {
        message: enabled
          ? `Chaos Monkey on: a random replica every ~${kit.monkey.intervalSeconds} s, at most ${kit.monkey.maxDown} down at once`
          : 'Chaos Monkey off',
      };
    },
    undo: async (kit) => kit.monkey.stop(),
  },
);
