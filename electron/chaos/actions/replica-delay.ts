import Type from 'typebox';
import { chaosAction, ChaosUsageError, given, msOption, secondsOption } from '../action-kit.js';
import { actionObject, needReplica, SECOND } from '../action-parts.js';

const KEY = 'replica-delay:postgres-replica';
const REPLICA = 'postgres-replica';

/**
 * Delays the replica's replay by `ms` (recovery_min_apply_delay) for `forSeconds`; 0 ms ends it.
 * The replica keeps receiving WAL but shows each commit late, which is what replica lag looks like
 * to a reader. @defaultValue 30 s
 */
export default chaosAction(
  actionObject('replica-delay', {
    ms: Type.Integer({ minimum: 0, maximum: 600_000 }),
    forSeconds: Type.Optional(Type.Number({ minimum: 1, maximum: 3600 })),
  }),
  {
    usage: 'replica-delay --ms 2s [--for 30s]',
    options: { ms: { type: 'string' }, for: { type: 'string' } },
    parse(_target, args) {
      const ms = msOption('ms', args.ms);
      if (ms === undefined) throw new ChaosUsageError("chaos replica-delay needs --ms 2s (how far the replica's replay trails; 0 ends it)");
      const forSeconds = secondsOption('for', args.for);
      return { action: 'replica-delay', ms, ...given('forSeconds', forSeconds === undefined ? undefined : Math.max(1, forSeconds)) };
    },
    async inject(kit, { ms, forSeconds = 30 }) {
      needReplica(kit);
      if (!kit.replicaReachable())
        throw kit.fail(
          `the read replica is out of the control plane's reach on ${kit.runtimeName}; replica-delay needs the local or docker runtime`,
        );
      kit.cancel(KEY);
      await kit.replicaDelay(ms);
      if (ms === 0) {
        kit.faults.delete(KEY);
        return { message: 'read replica replay delay off', instance: REPLICA };
      }
      kit.faults.set(KEY, {
        action: 'replica-delay',
        target: REPLICA,
        detail: `replay ${ms} ms behind for ${forSeconds} s`,
        since: Date.now(),
        until: Date.now() + forSeconds * SECOND,
      });
      kit.later(KEY, forSeconds * SECOND, async () => {
        try {
          await kit.replicaDelay(0);
          kit.faults.delete(KEY);
          kit.record({ kind: 'chaos', level: 'info', message: 'read replica replay delay ended', instance: REPLICA });
        } catch (err) {
          kit.record({
            kind: 'chaos',
            level: 'error',
            message: `could not end the read replica's replay delay: ${(err as Error).message}; run \`scalelab chaos clear\``,
            instance: REPLICA,
          });
        }
      });
      return { message: `read replica replays ${ms} ms behind the primary for ${forSeconds} s`, instance: REPLICA };
    },
    // Before kill-replica's undo (clear runs in reverse list order): a replica that is down cannot take it, and would keep it.
    async undo(kit) {
      if (!kit.faults.has(KEY)) return;
      await kit.replicaDelay(0).catch((err: Error) =>
        kit.record({
          kind: 'chaos',
          level: 'error',
          message: `could not end the read replica's replay delay: ${err.message}; run \`scalelab chaos clear\` again once it answers`,
          instance: REPLICA,
        }),
      );
    },
    buttons: [
      {
        id: 'replica-delay',
        place: 'data',
        label: 'Replica delay',
        title: 'Delay the replica’s replay (recovery_min_apply_delay): replication lag grows, read-your-writes still holds',
        needs: 'readReplica',
        fields: [
          { key: 'ms', label: 'replica delay ms', unit: 'ms', min: 0, max: 600_000, integer: true, default: 2000 },
          { key: 'forSeconds', label: 'replica delay for, seconds', before: 'for', unit: 's', min: 1, max: 3600, default: 30 },
        ],
        action: (v) => ({ action: 'replica-delay', ms: v.ms!, forSeconds: v.forSeconds }),
      },
    ],
  },
);
