/**
 * What a chaos action module is (`chaos/actions/<name>.ts`), and the kit the control plane hands it.
 *
 * A module holds everything about one action: its contract schema, its CLI usage and parse, its
 * dashboard buttons, how to inject it and how to undo it. The contract's union, the CLI's help and
 * options and the Chaos panel's rows are built from the list in `actions/index.ts`, so a new action
 * is a new module and one line there. Modules are pure (no Node, no DOM): the renderer imports
 * them for their buttons, and the control plane gives them a {@link ChaosKit} to act through.
 */
import type { Static, TObject } from 'typebox';
import type { StackSpec } from '../stack-spec.js';
import type { Instance, TimelineEvent } from '../status-spec.js';
import { NamedError } from '../../backend/named-error.js';

/** A fault in force, for the dashboard and `chaos:status`. */
export interface ActiveFault {
  /** e.g. `latency`, `errors`, `kill-cache`, `leak`. */
  action: string;
  /** An instance id, `all`, `redis` or `postgres`. */
  target: string;
  /** e.g. "db +200 ms", "20 % errors", "down for 10 s". */
  detail: string;
  since: number;
  /** When it ends on its own, if it does. */
  until: number | null;
}

/** The stores a chaos action can hold down (the runtimes' outage ids). */
export type ChaosStore = 'redis' | 'postgres' | 'postgres-replica';

/** What an action did: the timeline's line (and the command's answer), and where. */
export interface ChaosDone {
  message: string;
  instance?: string;
}

/**
 * The control plane's side of chaos, as the action modules see it. Every call acts on the running
 * stack's own instances only; lookups throw a {@link ChaosKit.fail} error that says what to do.
 */
export interface ChaosKit {
  /** The runtime's name (`local`, `docker`, `kubernetes`), for errors. */
  readonly runtimeName: string;
  /** The running stack's spec. */
  spec(): StackSpec | undefined;
  instances(): readonly Instance[];
  /** The instance by id; throws when the stack has none. */
  instance(id: string): Instance;
  /** An api replica by id; throws when it is something else (`what` names the action, for the error). */
  apiReplica(id: string, what: string): Instance;
  /** The api replica named, or every ready one for `all`. */
  apiTargets(target: string, what: string): Instance[];
  /** A random ready replica of the service; throws when there is none. */
  random(service: 'api' | 'worker'): string;
  /** The ready workers; throws when there is none and `required`. */
  workers(required: boolean): Instance[];
  /** Signals a replica (kill, stop, pause, resume); the runtime brings killed ones back. */
  signal(id: string, how: 'kill' | 'stop' | 'pause' | 'resume'): Promise<void>;
  /**
   * Holds a store down for `forMs`, then brings it back; the fault `key` ends then, and the timeline
   * says "`name` is back" (or that it did not come back).
   */
  outage(store: ChaosStore, forMs: number, key: string, name: string): Promise<void>;
  /** Brings a store held down back now. */
  endOutage(store: ChaosStore): void;
  /** Calls an instance's token-guarded /admin route; throws naming the instance when it refuses. */
  admin(instance: Instance, method: 'PUT' | 'POST' | 'DELETE', path: string, body?: object): Promise<void>;
  /** `DELETE /admin/faults` on every ready api replica; during one `clear`, it runs once however often it is asked. */
  clearApiFaults(): Promise<void>;
  /** The faults in force, shared by every action (`chaos:status` lists them all). */
  readonly faults: Map<string, ActiveFault>;
  /** Keeps an every-replica fault on replicas that start (or restart) later; `undefined` forgets it. */
  everywhere(key: string, fault: { path: string; body: object; applied: readonly Instance[] } | undefined): void;
  /** Runs `work` after `ms` unless the key is set again, `clear` runs, or the stack stops. */
  later(key: string, ms: number, work: () => void | Promise<void>): void;
  cancel(key: string): void;
  /** Puts a line on the timeline. */
  record(event: Omit<TimelineEvent, 't'>): void;
  /** The Chaos Monkey. */
  readonly monkey: {
    set(enabled: boolean, intervalSeconds?: number, maxDown?: number): void;
    stop(): void;
    readonly intervalSeconds: number;
    readonly maxDown: number;
  };
  /** Whether the control plane reaches the read replica's SQL port (local and docker runtimes). */
  replicaReachable(): boolean;
  /** Sets (ms > 0) or resets the read replica's recovery_min_apply_delay. */
  replicaDelay(ms: number): Promise<void>;
  /** The error an action throws when it cannot be done. */
  fail(message: string): Error;
}

/** A mistake in `scalelab chaos` options (exit code 2). */
export class ChaosUsageError extends NamedError {}

/** `scalelab chaos` options as parseArgs gives them. */
export type ChaosArgs = Readonly<Record<string, unknown>>;

/** One number box beside a dashboard button ("for [10] s"). */
export interface ButtonField {
  key: string;
  /** Its accessible name, e.g. "cache down for, seconds". */
  label: string;
  /** Words before and after the box: "for", "s". */
  before?: string;
  unit?: string;
  min: number;
  max: number;
  integer?: boolean;
  default: number;
}

/**
 * Where a button sits: the Chaos panel's columns (`kill`, `every-api`, `data`), or the instance
 * drawer of an api replica (`replica`).
 */
export type ButtonPlace = 'kill' | 'every-api' | 'data' | 'replica';

/** A dashboard button: its words, its number boxes, and the action it sends with them. */
export interface ChaosButton<A> {
  /** Unique across every action; the form's values are kept under `<id>.<field key>`. */
  id: string;
  place: ButtonPlace;
  label: string;
  /** What it does, on hover. */
  title: string;
  fields?: readonly ButtonField[];
  /** The data-layer pattern the running stack needs for it; the button says so when it is off. */
  needs?: 'readReplica' | 'events';
  /** The action, from the boxes' values (by field key) and, in the drawer, the instance. */
  action(values: Readonly<Record<string, number>>, instance?: string): A;
}

/** One chaos action: its contract, CLI, dashboard buttons, inject and undo. */
export interface ChaosActionModule<S extends TObject = TObject> {
  schema: S;
  /** The CLI's usage line, after `scalelab chaos `. */
  usage: string;
  /** The options its CLI form reads (they join the CLI's option table). */
  options?: Readonly<Record<string, { type: 'string' | 'boolean' }>>;
  /** The action from `scalelab chaos <name> [target] [--options]`; throws {@link ChaosUsageError}. */
  parse(target: string | undefined, args: ChaosArgs): Static<S>;
  inject(kit: ChaosKit, action: Static<S>): Promise<ChaosDone>;
  /** Undoes what this action leaves in force (`chaos:clear`). Runs in reverse list order. */
  undo?(kit: ChaosKit): Promise<void>;
  /**
   * Whether a fault this action set is still in force. By default it ends at `until`, and with
   * the api replica it was on when that restarts (the fault lived in its memory).
   */
  inForce?(fault: ActiveFault, instance: Instance | undefined, now: number): boolean;
  buttons?: readonly ChaosButton<Static<S>>[];
}

/** Declares a module: the action's type comes from its schema, and the rest is checked against it. */
export function chaosAction<S extends TObject>(schema: S, module: NoInfer<Omit<ChaosActionModule<S>, 'schema'>>): ChaosActionModule<S> {
  return { schema, ...module };
}

/** The action's name, as its schema's `action` literal spells it. */
export function actionName(module: ChaosActionModule): string {
  const literal = (module.schema.properties as Record<string, { const?: unknown }>).action?.const;
  if (typeof literal !== 'string') throw new Error('a chaos action schema needs an `action` literal');
  return literal;
}

const SECOND = 1000;

/** "200ms", "2s", "1.5" (seconds) → milliseconds; undefined when the option is absent. */
export function msOption(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const match = typeof value === 'string' ? /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim()) : null;
  if (!match) throw new ChaosUsageError(`--${name} must look like 200ms, 2s or 1.5 (seconds) (got "${String(value)}")`);
  const n = Number(match[1]);
  return Math.round(match[2] === 'ms' ? n : match[2] === 'm' ? n * 60 * SECOND : match[2] === 'h' ? n * 3600 * SECOND : n * SECOND);
}

/** The same in seconds. */
export function secondsOption(name: string, value: unknown): number | undefined {
  const ms = msOption(name, value);
  return ms === undefined ? undefined : ms / SECOND;
}

/** The instance argument, or a usage error that says where to find one. */
export function needTarget(target: string | undefined, what: string): string {
  if (!target) throw new ChaosUsageError(`chaos ${what} needs an instance (\`scalelab status\` lists them)`);
  return target;
}

/** `{ key: value }` when the value is there, `{}` when not: optional fields stay absent. */
export function given<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
