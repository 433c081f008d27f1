/**
 * Pieces several chaos action modules share: schema parts, and the two injects more than one
 * action makes (a store held down, a fault through the api replicas' /admin hooks, a stream
 * component stopped in the workers).
 */
import Type, { type TProperties } from 'typebox';
import type { ChaosDone, ChaosKit, ChaosStore } from './action-kit.js';

export const SECOND = 1000;

/** An instance id such as api-2. */
export const InstanceId = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,63}$', description: 'an instance id such as api-2' });
export const InstanceOrAll = Type.Union([Type.Literal('all'), InstanceId]);
/** How long a store or component stays down, in seconds. */
export const ForSeconds = Type.Optional(Type.Number({ minimum: 0, maximum: 600 }));

/** An action's schema: its `action` literal first, then its own fields, nothing else. */
export function actionObject<N extends string, P extends TProperties>(name: N, properties: P) {
  return Type.Object({ action: Type.Literal(name), ...properties }, { additionalProperties: false });
}

/** Holds a store down for `forSeconds` and records the fault (`<action>:<store>`) until it is back. */
export async function holdDown(
  kit: ChaosKit,
  action: string,
  store: ChaosStore,
  name: string,
  forSeconds: number,
  detail: string,
): Promise<ChaosDone> {
  const forMs = forSeconds * SECOND;
  const key = `${action}:${store}`;
  await kit.outage(store, forMs, key, name);
  kit.faults.set(key, { action, target: store, detail, since: Date.now(), until: Date.now() + forMs });
  return { message: `killed ${name}; back in ${forSeconds} s`, instance: store };
}

/** The read replica's actions need a stack started with one. */
export function needReplica(kit: ChaosKit): void {
  if (!kit.spec()?.data?.readReplica) throw kit.fail('this stack runs no read replica; start it with data.readReplica on');
}

/** Sends a one-off fault to one api replica's /admin hook and records it (`<action>:<id>`). */
export async function replicaFault(
  kit: ChaosKit,
  action: 'cpu' | 'leak' | 'block',
  target: string,
  body: object,
  detail: string,
  until: number | null,
): Promise<ChaosDone> {
  const replica = kit.apiReplica(target, action);
  const sent = kit.admin(replica, 'POST', `/admin/faults/${action}`, body);
  // A block stalls the replica itself: do not wait for its answer.
  if (action === 'block') void sent.catch(() => undefined);
  else await sent;
  kit.faults.set(`${action}:${replica.id}`, { action, target: replica.id, detail, since: Date.now(), until });
  return { message: `${action} on ${replica.id}: ${detail}`, instance: replica.id };
}

/**
 * Puts a standing fault (latency, errors) on one api replica or, for `all`, on every one: then it
 * is one fault for the service, and replicas that start or restart later get it too.
 */
export async function standingFault(
  kit: ChaosKit,
  action: 'latency' | 'errors',
  target: string,
  body: object,
  detail: string,
): Promise<ChaosDone> {
  const path = `/admin/faults/${action}`;
  const targets = kit.apiTargets(target, action);
  await Promise.all(targets.map((i) => kit.admin(i, 'PUT', path, body)));
  if (target === 'all') {
    for (const i of kit.instances()) kit.faults.delete(`${action}:${i.id}`);
    kit.faults.set(`${action}:all`, { action, target: 'all', detail, since: Date.now(), until: null });
    kit.everywhere(action, { path, body, applied: targets });
    return { message: `${action} on every api replica (${targets.map((i) => i.id).join(', ')}): ${detail}` };
  }
  for (const i of targets) kit.faults.set(`${action}:${i.id}`, { action, target: i.id, detail, since: Date.now(), until: null });
  return { message: `${action} on ${target}: ${detail}`, instance: target };
}

/** The two stream components a worker runs; chaos stops either through the worker's /admin routes. */
export type StreamComponent = 'relay' | 'projector';

/** Stops a stream component in every ready worker; the workers revive it themselves after `forSeconds`. */
export async function stopStream(kit: ChaosKit, component: StreamComponent, forSeconds: number): Promise<ChaosDone> {
  if (kit.spec()?.data?.events === false) throw kit.fail('this stack runs no event pipeline; start it with data.events on');
  const workers = kit.workers(true);
  await Promise.all(workers.map((w) => kit.admin(w, 'POST', '/admin/stream/kill', { component, forSeconds })));
  const key = `kill-${component}:workers`;
  const ids = workers.map((w) => w.id).join(', ');
  kit.faults.set(key, {
    action: `kill-${component}`,
    target: 'workers',
    detail: `${component} stopped in ${ids} for ${forSeconds} s`,
    since: Date.now(),
    until: Date.now() + forSeconds * SECOND,
  });
  // The workers bring it back on their own; this only ends the fault in the status.
  kit.later(key, forSeconds * SECOND, () => {
    kit.faults.delete(key);
    kit.record({ kind: 'chaos', level: 'info', message: `the ${component} runs again in every worker` });
  });
  return { message: `killed the ${component} in ${ids}; back in ${forSeconds} s` };
}

/** Revives a stopped stream component now (`chaos:clear`). */
export async function reviveStream(kit: ChaosKit, component: StreamComponent): Promise<void> {
  const key = `kill-${component}:workers`;
  if (!kit.faults.has(key)) return;
  kit.faults.delete(key);
  await Promise.all(kit.workers(false).map((w) => kit.admin(w, 'POST', '/admin/stream/revive', { component }).catch(() => undefined)));
}

/** A fault that only its own end removes (the store back, the component revived), never its clock. */
export const untilItEnds = () => true;
