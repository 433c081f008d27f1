/**
 * Head sampling before the HTTP instrumentation, so that an unsampled request costs (almost)
 * nothing.
 *
 * On Node 20 the OpenTelemetry context lives in an AsyncLocalStorage, and once it is entered
 * every promise and async resource the process creates goes through its hook. That hook, not the
 * spans, is most of tracing's cost: with every request suppressed (sampled out) but still passed
 * through the instrumentation's `context.with`, one replica answered the cached GET with about
 * twice the cpu per request of tracing off; with the instrumentation not entered at all it was
 * within noise of tracing off (bench/results/tracing.md). So the gate decides for each incoming
 * request, from its `traceparent` or this second's budget, and hands only the sampled ones to
 * the instrumented `http.Server#emit`; the rest go to the original emit and never enter a
 * context. While no sampled request is in flight the gate also turns the AsyncLocalStorage off
 * again (the exporter's own `context.with` or a library's turns it on), so the hook is paid only
 * while a sampled request runs.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PerSecondBudget } from './keep-policy.js';
import type { RootGrants } from './sampling.js';

type Emit = (this: unknown, event: string | symbol, ...args: unknown[]) => boolean;

/** W3C traceparent as the SDK's propagator reads it: any version but ff, lowercase hex. */
const TRACEPARENT = /^\s?(?!ff)[\da-f]{2}-(?!0{32})[\da-f]{32}-(?!0{16})[\da-f]{16}-([\da-f]{2})(-.*)?\s?$/;

/** Set on a request whose trace is recorded in full (see tracing.ts's requestHook). */
export const SAMPLED = Symbol('scalelab.tracing.sampled');
/** An IncomingMessage as the gate and the keep path mark it. */
export type MarkedRequest = IncomingMessage & { [SAMPLED]?: boolean };

/** Options of {@link RequestGate}. */
export interface RequestGateOptions {
  budget: PerSecondBudget;
  /** Paths never traced (probes, scrapes). */
  ignore: RegExp;
  /**
   * Turns the async context off; called while no sampled request is in flight. Undefined in a
   * process whose traced work does not start at HTTP requests (the worker's jobs).
   */
  idle?: () => void;
}

/** See the file's comment. */
export class RequestGate implements RootGrants {
  private grant = false;
  private inFlight = 0;
  /** Whether the gate sits in front of the instrumented emit (false: the SDK decides alone). */
  installed = false;
  private readonly done = () => {
    this.inFlight -= 1;
    if (this.inFlight === 0) this.options.idle?.();
  };

  constructor(private readonly options: RequestGateOptions) {}

  /** For the root sampler: true once for a request this gate admitted as a new trace. */
  takeGrant(): boolean {
    if (!this.installed) return this.options.budget.take();
    const grant = this.grant;
    this.grant = false;
    return grant;
  }

  takeBudget(): boolean {
    return this.options.budget.take();
  }

  /**
   * Whether `req` is traced: a valid traceparent's sampled flag, else this second's budget.
   * Admitting a new trace leaves a grant for the root sampler, which runs synchronously next.
   */
  admits(req: IncomingMessage): boolean {
    if (this.options.ignore.test(req.url ?? '')) return false;
    const header = req.headers.traceparent;
    const m = typeof header === 'string' ? TRACEPARENT.exec(header) : null;
    if (m) return (Number.parseInt(m[1]!, 16) & 1) === 1;
    this.grant = this.options.budget.take();
    return this.grant;
  }

  /**
   * Puts the gate in front of the HTTP instrumentation's `http.Server#emit` (after
   * registerInstrumentations and a require of 'http', which applies its patch). Returns false,
   * leaving everything as it was, when that patch is not found.
   */
  install(http: typeof import('node:http')): boolean {
    const proto = http.Server.prototype as unknown as { emit: Emit & { __original?: Emit } };
    const instrumented = proto.emit;
    const plain = instrumented.__original;
    if (typeof plain !== 'function') return false;
    const gate = this;
    proto.emit = function gatedEmit(this: unknown, event: string | symbol, req?: unknown, res?: unknown): boolean {
      // Every other event passes through as it came, whatever its arguments.
      if (event !== 'request') return plain.apply(this, arguments as unknown as Parameters<Emit>);
      if (!gate.admits(req as IncomingMessage)) {
        if (gate.inFlight === 0) gate.options.idle?.();
        return plain.call(this, event, req, res);
      }
      gate.inFlight += 1;
      (res as ServerResponse).once('close', gate.done);
      try {
        return instrumented.call(this, event, req, res);
      } finally {
        gate.grant = false;
      }
    };
    this.installed = true;
    return true;
  }
}
