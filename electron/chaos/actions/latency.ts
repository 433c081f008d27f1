import Type from 'typebox';
import { chaosAction, ChaosUsageError, given, msOption, needTarget } from '../action-kit.js';
import { actionObject, InstanceOrAll, standingFault } from '../action-parts.js';

const Ms = Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000 }));
const dbField = { key: 'dbMs', before: 'db', min: 0, max: 60_000, integer: true } as const;
const cacheField = { key: 'cacheMs', before: 'cache', unit: 'ms', min: 0, max: 60_000, integer: true, default: 0 } as const;

/** Adds latency to a replica's (or every api replica's) database or cache calls, until cleared. */
export default chaosAction(actionObject('latency', { target: InstanceOrAll, dbMs: Ms, cacheMs: Ms }), {
  usage: 'latency <instance|all> --db 200ms|--cache 50ms',
  options: { db: { type: 'string' }, cache: { type: 'string' } },
  parse(target, args) {
    const dbMs = msOption('db', args.db);
    const cacheMs = msOption('cache', args.cache);
    if (dbMs === undefined && cacheMs === undefined) throw new ChaosUsageError('chaos latency needs --db 200ms and/or --cache 50ms');
    return { action: 'latency', target: needTarget(target, 'latency'), ...given('dbMs', dbMs), ...given('cacheMs', cacheMs) };
  },
  inject(kit, { target, dbMs, cacheMs }) {
    if (dbMs === undefined && cacheMs === undefined) throw kit.fail('latency needs --db or --cache (ms)');
    const detail = [dbMs !== undefined ? `db +${dbMs} ms` : '', cacheMs !== undefined ? `cache +${cacheMs} ms` : '']
      .filter(Boolean)
      .join(', ');
    return standingFault(kit, 'latency', target, { dbMs, cacheMs }, detail);
  },
  undo: (kit) => kit.clearApiFaults(),
  buttons: [
    {
      id: 'latency',
      place: 'every-api',
      label: 'Latency on all api',
      title: 'Add this latency to every api replica’s database and cache calls (0 removes it)',
      fields: [
        { ...dbField, label: 'latency db ms', default: 100 },
        { ...cacheField, label: 'latency cache ms' },
      ],
      action: (v) => ({ action: 'latency', target: 'all', dbMs: v.dbMs, cacheMs: v.cacheMs }),
    },
    {
      id: 'replica-latency',
      place: 'replica',
      label: 'Add latency',
      title: 'Add latency to its database and cache calls (0 removes it)',
      fields: [
        { ...dbField, label: 'replica latency db ms', default: 200 },
        { ...cacheField, label: 'replica latency cache ms' },
      ],
      action: (v, instance) => ({ action: 'latency', target: instance!, dbMs: v.dbMs, cacheMs: v.cacheMs }),
    },
  ],
});
