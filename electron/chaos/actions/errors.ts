import Type from 'typebox';
import { chaosAction, ChaosUsageError, needTarget } from '../action-kit.js';
import { actionObject, InstanceOrAll, standingFault } from '../action-parts.js';

/** 20 (%) → 0.2, without 0.07 * 100 style noise. */
export function percentToRate(percent: number): number {
  return Math.round(percent * 100) / 10_000;
}

const percentField = { key: 'percent', min: 0, max: 100, default: 20 } as const;

/** Makes a replica (or every api replica) fail this fraction of requests with 500, until cleared. */
export default chaosAction(actionObject('errors', { target: InstanceOrAll, rate: Type.Number({ minimum: 0, maximum: 1 }) }), {
  usage: 'errors <instance|all> --rate 0.2',
  options: { rate: { type: 'string' } },
  parse(target, args) {
    const rate = Number(args.rate);
    if (typeof args.rate !== 'string' || !Number.isFinite(rate) || rate < 0 || rate > 1)
      throw new ChaosUsageError(`chaos errors needs --rate between 0 and 1 (got "${String(args.rate ?? '')}")`);
    return { action: 'errors', target: needTarget(target, 'errors'), rate };
  },
  inject: (kit, { target, rate }) => standingFault(kit, 'errors', target, { rate }, `${Math.round(rate * 100)} % errors`),
  undo: (kit) => kit.clearApiFaults(),
  buttons: [
    {
      id: 'errors',
      place: 'every-api',
      label: 'Errors on all api',
      title: 'Make every api replica answer this share of requests with 500 (0 removes it)',
      fields: [{ ...percentField, label: 'error rate %', unit: '% fail' }],
      action: (v) => ({ action: 'errors', target: 'all', rate: percentToRate(v.percent!) }),
    },
    {
      id: 'replica-errors',
      place: 'replica',
      label: 'Fail requests',
      title: 'Answer this share of its requests with 500 (0 removes it)',
      fields: [{ ...percentField, label: 'replica error rate %', unit: '%' }],
      action: (v, instance) => ({ action: 'errors', target: instance!, rate: percentToRate(v.percent!) }),
    },
  ],
});
