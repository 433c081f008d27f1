/**
 * Tracing in the control plane: the OTLP receiver, the trace store behind it, where replicas send
 * their spans, and the `traces:*` commands for the control plane's dispatch table.
 */
import type { CommandPayload, CommandResults, TracingStatus } from '../../contract.js';
import { OtlpReceiver, otlpHeaders } from './otlp-receiver.js';
import { clearTraceReceiver, readExternalEndpoint, readTracingDisabled, setLocalSpanSink, setTraceTargets } from './trace-env.js';
import { TraceStore, type TraceStoreOptions } from './trace-store.js';
import { NamedError } from '../../../backend/named-error.js';

/** `traces:get` for a trace the store does not hold (never received, or aged out). */
export class TraceNotFoundError extends NamedError {}

/** Options of {@link Tracing}. */
export interface TracingOptions extends TraceStoreOptions {
  /** The receiver's port on 127.0.0.1. @defaultValue 0 (a free one) */
  port?: number;
  /** The user's own collector. @defaultValue $OTEL_EXPORTER_OTLP_ENDPOINT as the control plane starts */
  external?: string;
  /** Told when the receiver cannot start (tracing then stays off for the control plane's own replicas). */
  onError?: (err: Error) => void;
}

type TraceCommand = 'traces:list' | 'traces:get';

/** See the file's comment. */
export class Tracing {
  readonly store: TraceStore;
  private readonly receiver: OtlpReceiver;
  private readonly external: string | undefined;
  private readonly disabled = readTracingDisabled();
  /** Settles once the receiver listens (or failed to): replicas started after it get its endpoint. */
  readonly ready: Promise<void>;

  constructor(options: TracingOptions = {}) {
    this.store = new TraceStore(options);
    this.receiver = new OtlpReceiver({ store: this.store, port: options.port });
    this.external = options.external ?? readExternalEndpoint();
    this.ready = this.receiver.start().then(
      (endpoint) => {
        setTraceTargets({
          receiver: endpoint,
          headers: otlpHeaders(this.receiver.token),
          external: this.external,
          disabled: this.disabled,
        });
        setLocalSpanSink((span) => this.store.add([span]));
      },
      (err: Error) => {
        setTraceTargets({ external: this.external, disabled: this.disabled });
        options.onError?.(err);
      },
    );
  }

  /** The receiver's `http://127.0.0.1:<port>`, once it listens. */
  get endpoint(): string | undefined {
    return this.receiver.endpoint;
  }

  status(): TracingStatus {
    return {
      receiver: this.receiver.endpoint ?? null,
      external: this.external ?? null,
      disabled: this.disabled,
      spansReceived: this.store.spansReceived,
      tracesKept: this.store.size,
    };
  }

  /** The commands, for the control plane's dispatch table. */
  commands(): { [C in TraceCommand]: (payload: CommandPayload<C>) => Promise<CommandResults[C]> } {
    return {
      'traces:list': async (payload) => ({ traces: this.store.list(payload), tracing: this.status() }),
      'traces:get': async (payload) => {
        const detail = this.store.get(payload.traceId);
        if (!detail)
          throw new TraceNotFoundError(
            `trace ${payload.traceId} is not held: the most recent traces and the slow or failed ones are kept; pick one from traces:list`,
          );
        return detail;
      },
    };
  }

  /** Stops the receiver. Safe to call twice. */
  async close(): Promise<void> {
    await this.ready;
    clearTraceReceiver(this.receiver.endpoint);
    await this.receiver.close();
  }
}
