import type { ServiceName } from '../../../contract.js';
import { NamedError } from '../../../../backend/named-error.js';

/** Labels every object of a stack carries. Nothing without `scalelab.stack` is ever touched. */
export const LABELS = {
  /** The stack's name: the ownership mark. */
  stack: 'scalelab.stack',
  /** api, worker, postgres or redis (containers only; the read replica is a `postgres`). */
  service: 'scalelab.service',
  /** The instance id, e.g. `api-3` or `postgres-replica` (containers only). */
  instance: 'scalelab.instance',
  /** Its port on 127.0.0.1 (host networking) or the published port (bridge). */
  port: 'scalelab.port',
  /** The balancer's port and the network mode, on the network object, for adoption. */
  balancerPort: 'scalelab.balancer-port',
  networkMode: 'scalelab.network-mode',
} as const;

/** Refused: the object does not carry this stack's label. */
export class NotOwnedError extends NamedError {}

/** Docker list filter for the objects of `stack` (JSON for the API's `filters` parameter). */
export function stackFilter(stack: string, extra: Record<string, string> = {}): string {
  return JSON.stringify({ label: [`${LABELS.stack}=${stack}`, ...Object.entries(extra).map(([k, v]) => `${k}=${v}`)] });
}

/** True when `labels` mark an object of `stack`. */
export function isOwned(labels: Record<string, string> | null | undefined, stack: string): boolean {
  return labels?.[LABELS.stack] === stack;
}

/**
 * Throws unless `labels` mark an object of `stack`: the last check before anything is stopped,
 * killed or removed, so a filter mistake can never reach someone else's container.
 */
export function assertOwned(labels: Record<string, string> | null | undefined, stack: string, what: string): void {
  if (!isOwned(labels, stack)) throw new NotOwnedError(`refusing to touch ${what}: it is not labelled ${LABELS.stack}=${stack}`);
}

/** Labels of a container of `stack`. */
export function containerLabels(stack: string, service: ServiceName, instance: string, port: number): Record<string, string> {
  return { [LABELS.stack]: stack, [LABELS.service]: service, [LABELS.instance]: instance, [LABELS.port]: String(port) };
}

/**
 * Names of a stack's objects: `scalelab-<stack>-api-1`, network `scalelab-<stack>`, volumes
 * `scalelab-<stack>-pgdata` and (the read replica's) `scalelab-<stack>-pgdata-replica`.
 */
export const names = {
  container: (stack: string, instance: string) => `scalelab-${stack}-${instance}`,
  network: (stack: string) => `scalelab-${stack}`,
  volume: (stack: string) => `scalelab-${stack}-pgdata`,
  replicaVolume: (stack: string) => `scalelab-${stack}-pgdata-replica`,
};
