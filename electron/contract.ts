/**
 * THE typed API between the control plane and its clients (Electron renderer, browser, CLI).
 *
 * Every command is declared once here with its payload and result schema; every streamed event
 * likewise. The control plane validates each payload on arrival with these schemas, so a bad
 * message gets a clear error and never a crash. Results cross the boundary as {@link Envelope}.
 * The renderer imports this file with `import type` only.
 */
import Type, { type Static, type TSchema } from 'typebox';
import { AutoscalerConfigureSchema, type AutoscalerDecision, type AutoscalerStatus } from './autoscaler-spec.js';
import { ChaosActionSchema, type ChaosStatus, type WriteCheck } from './chaos-spec.js';
import { TrafficSpecSchema, TrafficUpdateSchema, type TrafficSummary } from './traffic-spec.js';

export * from './autoscaler-spec.js';
export * from './chaos-spec.js';
export * from './traffic-spec.js';
export * from './capacity-spec.js';
export * from './stack-spec.js';
export * from './scenario-spec.js';
export * from './traces-spec.js';
export * from './data-spec.js';
export * from './guard-spec.js';
export * from './status-spec.js';
import { CAPACITY_COMMANDS, type CapacityResults, type CapacityStatus } from './capacity-spec.js';
import { GUARD_COMMANDS, type GuardResults, type GuardStatus } from './guard-spec.js';
import { TracesGetSchema, TracesListSchema, type TraceDetail, type TraceList } from './traces-spec.js';
import { ReportExportSchema, ScenarioLoadSchema, type ExportedReport, type ScenarioStatus, type ScenarioSummary } from './scenario-spec.js';
import { MAX_REPLICAS, StackNameSchema, StackSpecSchema } from './stack-spec.js';
import type { Probe, Sample, StackStatus, TimelineEvent } from './status-spec.js';

/** One step of long work (`stack:up`, `stack:scale`, `stack:down`). */
export interface Progress {
  t: number;
  /** The command this progress belongs to. */
  command: CommandName;
  message: string;
  /** 0..1 when known. */
  fraction?: number;
}

/** A line an instance wrote. */
export interface LogLine {
  instance: string;
  line: string;
}

// ---------------------------------------------------------------------------------------------
// Commands

const Empty = Type.Object({}, { additionalProperties: false });
const InstanceId = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,63}$' });

/**
 * Every command: its payload schema. Results are typed in {@link CommandResults}.
 * The keys of this object are the preload's allow-list.
 */
export const COMMANDS = {
  /** Which runtimes are usable here. */
  'runtime:probe': Empty,
  /** Starts (or adopts) the stack; resolves once every replica is ready. Streams `progress`. */
  'stack:up': StackSpecSchema,
  /** Stops the stack. Data is kept unless `purge`. */
  'stack:down': Type.Object(
    { name: Type.Optional(StackNameSchema), purge: Type.Optional(Type.Boolean()) },
    { additionalProperties: false },
  ),
  /** Instances, endpoints and the latest sample. */
  'stack:status': Empty,
  /** Sets a service's replica count; resolves once that many are ready. */
  'stack:scale': Type.Object(
    {
      service: Type.Union([Type.Literal('api'), Type.Literal('worker')]),
      replicas: Type.Integer({ minimum: 0, maximum: MAX_REPLICAS }),
    },
    { additionalProperties: false },
  ),
  /** Kills, stops, pauses or resumes one instance. */
  'instance:signal': Type.Object(
    { id: InstanceId, how: Type.Union([Type.Literal('kill'), Type.Literal('stop'), Type.Literal('pause'), Type.Literal('resume')]) },
    { additionalProperties: false },
  ),
  /** The last lines an instance wrote. */
  'logs:tail': Type.Object(
    { instance: InstanceId, lines: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })) },
    { additionalProperties: false },
  ),
  /** Streams an instance's new lines as `log` events to this client until `logs:unfollow`. */
  'logs:follow': Type.Object({ instance: InstanceId }, { additionalProperties: false }),
  'logs:unfollow': Type.Object({ instance: InstanceId }, { additionalProperties: false }),
  /** Samples of the last `seconds` (at most 30 minutes are kept). */
  'telemetry:history': Type.Object(
    { seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 1800 })) },
    { additionalProperties: false },
  ),
  /** Timeline events, newest last. */
  'events:list': Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })) }, { additionalProperties: false }),
  /** Stops a control plane the CLI started in the background (its stack must be stopped first). */
  'control:shutdown': Empty,
  /** Starts firing traffic at the stack's balancer (open model: arrivals follow the clock). */
  'traffic:start': TrafficSpecSchema,
  /** Changes the running traffic's rate, mix or keys. */
  'traffic:update': TrafficUpdateSchema,
  /** Stops the traffic now; resolves with the run's summary (the last run's, when it already ended). */
  'traffic:stop': Empty,
  /** Turns a service's autoscaler on or off, or changes any of its settings live. */
  'autoscaler:configure': AutoscalerConfigureSchema,
  /** The autoscalers' settings and their last decisions, each with its inputs. */
  'autoscaler:status': Empty,
  /** Injects one failure (or turns the Chaos Monkey on or off); only the stack's own instances are touched. */
  'chaos:inject': ChaosActionSchema,
  /** Undoes every reversible fault (latency, errors, cpu, leak, a store held down) and stops the monkey. */
  'chaos:clear': Empty,
  'chaos:status': Empty,
  /** Reads every acknowledged write back from the service: acknowledged, verified, lost, duplicated. */
  'writes:verify': Empty,
  /** The built-in scenarios. */
  'scenario:list': Empty,
  /** Loads a scenario (a built-in, or YAML/JSON text) into the player, ready to play; errors name the line and field. */
  'scenario:load': ScenarioLoadSchema,
  /** Plays the loaded scenario from where it stands (starting its stack first), or resumes it. */
  'scenario:play': Empty,
  /** Stops the scenario's clock (the stack and its traffic keep running). */
  'scenario:pause': Empty,
  /** Runs the next step now (and stays paused). */
  'scenario:step': Empty,
  /** Stops the traffic, clears chaos, and puts the scenario back at its start. */
  'scenario:reset': Empty,
  'scenario:status': Empty,
  /** A self-contained HTML report (charts, timeline, assertions, spec, versions) and the raw samples as JSON. */
  'report:export': ReportExportSchema,
  /** The traces that started in a window, slowest first, with where tracing goes. */
  'traces:list': TracesListSchema,
  /** Every span of one trace, placed for a waterfall. */
  'traces:get': TracesGetSchema,
  ...CAPACITY_COMMANDS,
  ...GUARD_COMMANDS,
  /**
   * Puts the lab back as it was started: stops a capacity search, the scenario and the traffic,
   * clears chaos and the monkey, turns the autoscalers off, and scales to the replica counts of
   * the last `stack:up`.
   */
  'lab:reset': Empty,
} as const satisfies Record<string, TSchema>;

export type CommandName = keyof typeof COMMANDS;
export type CommandPayload<C extends CommandName> = Static<(typeof COMMANDS)[C]>;

/** What each command resolves to. */
export interface CommandResults extends CapacityResults, GuardResults {
  'runtime:probe': Probe[];
  'stack:up': StackStatus;
  'stack:down': null;
  'stack:status': StackStatus;
  'stack:scale': StackStatus;
  'instance:signal': null;
  'logs:tail': { lines: string[] };
  'logs:follow': null;
  'logs:unfollow': null;
  'telemetry:history': Sample[];
  'events:list': TimelineEvent[];
  'control:shutdown': null;
  'traffic:start': TrafficSummary;
  'traffic:update': TrafficSummary;
  'traffic:stop': TrafficSummary;
  'autoscaler:configure': AutoscalerStatus;
  'autoscaler:status': AutoscalerStatus;
  'chaos:inject': ChaosStatus;
  'chaos:clear': ChaosStatus;
  'chaos:status': ChaosStatus;
  'writes:verify': WriteCheck;
  'scenario:list': ScenarioSummary[];
  'scenario:load': ScenarioStatus;
  'scenario:play': ScenarioStatus;
  'scenario:pause': ScenarioStatus;
  'scenario:step': ScenarioStatus;
  'scenario:reset': ScenarioStatus;
  'scenario:status': ScenarioStatus;
  'report:export': ExportedReport;
  'traces:list': TraceList;
  'traces:get': TraceDetail;
  'lab:reset': LabReset;
}

/** What `lab:reset` did, in words, in the order it did it ("stopped the traffic", "api 4 → 2"). */
export interface LabReset {
  done: string[];
}
export type CommandResult<C extends CommandName> = CommandResults[C];

/** Every streamed event and its data. */
export interface Events {
  sample: Sample;
  event: TimelineEvent;
  progress: Progress;
  log: LogLine;
  /** Every autoscaler decision, with its inputs. */
  decision: AutoscalerDecision;
  /** The scenario player's state: on every step, every second while playing, and at the end. */
  scenario: ScenarioStatus;
  /** The capacity search's state: after every step and every replica count, and at the end. */
  capacity: CapacityStatus;
  /** The safety guard: on every change of its settings, its count of bad seconds, and when it trips. */
  guard: GuardStatus;
}
export type EventName = keyof Events;
export const EVENT_NAMES = [
  'sample',
  'event',
  'progress',
  'log',
  'decision',
  'scenario',
  'capacity',
  'guard',
] as const satisfies readonly EventName[];

// ---------------------------------------------------------------------------------------------
// Envelope and wire messages

/** An error as it crosses the boundary: its class name and what to do. */
export interface WireError {
  name: string;
  message: string;
}

/** How every result crosses the boundary, so clients see the real error. */
export type Envelope<T> = { ok: true; value: T } | { ok: false; error: WireError };

/** Client → control plane over WebSocket. */
export const RequestMessageSchema = Type.Object({
  id: Type.Integer({ minimum: 0 }),
  command: Type.String({ maxLength: 64 }),
  payload: Type.Optional(Type.Unknown()),
});
export type RequestMessage = Static<typeof RequestMessageSchema>;

/** Control plane → client over WebSocket: a reply to request `id`, or a streamed event. */
export type ServerMessage = { id: number; result: Envelope<unknown> } | { event: EventName; data: Events[EventName] };

export function isCommandName(name: string): name is CommandName {
  return Object.prototype.hasOwnProperty.call(COMMANDS, name);
}

// ---------------------------------------------------------------------------------------------
// The bridge the renderer sees

/**
 * What the renderer calls, whatever the transport: the preload exposes it as `window.scalelab`
 * over Electron IPC, and renderer/api/ implements it over the headless server's WebSocket.
 */
export interface ScaleLabBridge {
  /** Runs a command; never rejects: failures come back as `{ ok: false, error }`. */
  invoke<C extends CommandName>(command: C, payload: CommandPayload<C>): Promise<Envelope<CommandResult<C>>>;
  /** Subscribes to a streamed event; returns unsubscribe. */
  on<E extends EventName>(event: E, listener: (data: Events[E]) => void): () => void;
}

/** IPC channel names, built from the contract: `cmd:<command>` for commands, `evt:<event>` for events. */
export const IPC = {
  command: (command: CommandName) => `cmd:${command}` as const,
  event: (event: EventName) => `evt:${event}` as const,
};
