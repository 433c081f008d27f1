/**
 * Every chaos action, in the order the contract's union and the CLI's help list them; `chaos:clear`
 * undoes them in reverse (replica-delay before kill-replica: the delay ends while the replica answers).
 * A new action is a module beside these and one line here.
 */
import block from './block.js';
import cpu from './cpu.js';
import errors from './errors.js';
import kill from './kill.js';
import killCache from './kill-cache.js';
import killDb from './kill-db.js';
import killProjector from './kill-projector.js';
import killRelay from './kill-relay.js';
import killReplica from './kill-replica.js';
import latency from './latency.js';
import leak from './leak.js';
import monkey from './monkey.js';
import pause from './pause.js';
import replicaDelay from './replica-delay.js';
import resume from './resume.js';

export const CHAOS_ACTIONS = [
  kill,
  pause,
  resume,
  killCache,
  killDb,
  killReplica,
  replicaDelay,
  killRelay,
  killProjector,
  latency,
  errors,
  cpu,
  leak,
  block,
  monkey,
] as const;
