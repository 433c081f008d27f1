/**
 * Where replicas send their traces: the OTEL_EXPORTER_OTLP_ENDPOINT the runtimes give them.
 *
 * Held per process because there is one control plane per process (per SCALELAB_HOME): the
 * runtimes ask here while they build a replica's environment, and the control plane sets it once
 * its receiver listens. A stack's replicas keep the endpoint they were started with, so replicas
 * adopted by a later control plane send to the old (closed) receiver until they are restarted.
 */

import { DEFAULT_TRACES_PER_SECOND, RATE_LIMITED_SAMPLER } from '../../../backend/telemetry/keep-policy.js';
import type { StoredSpan } from './otlp-json.js';

/** The variable the OTLP exporters read; the exporter appends `/v1/traces`. */
export const OTLP_ENDPOINT_VAR = 'OTEL_EXPORTER_OTLP_ENDPOINT';
/** The exporters' extra request headers: how replicas get the receiver's token (environment, never argv). */
export const OTLP_HEADERS_VAR = 'OTEL_EXPORTER_OTLP_HEADERS';

/** The standard sampler variables. */
export const SAMPLER_VAR = 'OTEL_TRACES_SAMPLER';
export const SAMPLER_ARG_VAR = 'OTEL_TRACES_SAMPLER_ARG';

/**
 * The replicas' sampling unless the control plane's environment names another: a request that
 * carries a traceparent follows its sampled flag (the balancer's, for the requests it forwards),
 * one without starts a sampled trace only for the first 10 of each second; the failed and slow
 * ones of the rest still arrive as timing-only spans (backend/telemetry/kept-requests.ts).
 */
export const DEFAULT_SAMPLING: Readonly<Record<string, string>> = {
  [SAMPLER_VAR]: RATE_LIMITED_SAMPLER,
  [SAMPLER_ARG_VAR]: String(DEFAULT_TRACES_PER_SECOND),
};

/** How a replica reaches the control plane: on the host's loopback (local processes, host-network containers) or not at all. */
export type TraceReach = 'loopback' | 'elsewhere';

let receiver: string | undefined;
let receiverHeaders: string | undefined;
let external: string | undefined;
let localSink: ((span: StoredSpan) => void) | undefined;
let disabled = false;
let sampling: Record<string, string> = { ...DEFAULT_SAMPLING };

/** The user's own collector, read once as the control plane starts (from its environment). */
export function readExternalEndpoint(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env[OTLP_ENDPOINT_VAR]?.trim();
  return value ? value : undefined;
}

/**
 * The sampler settings replicas get: OTEL_TRACES_SAMPLER (and its _ARG) as set where the control
 * plane starts, like the endpoint, else {@link DEFAULT_SAMPLING}.
 */
export function readSampling(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const sampler = env[SAMPLER_VAR]?.trim();
  if (!sampler) return { ...DEFAULT_SAMPLING };
  const arg = env[SAMPLER_ARG_VAR]?.trim();
  return { [SAMPLER_VAR]: sampler, ...(arg ? { [SAMPLER_ARG_VAR]: arg } : {}) };
}

/**
 * The sampler variables for a process the control plane starts that samples on its own, such as
 * the balancer process (its hop follows OTEL_TRACES_SAMPLER / _ARG of its environment).
 */
export function samplingEnv(): Record<string, string> {
  return { ...sampling };
}

/** Whether tracing is turned off where the control plane started (the standard OTEL_SDK_DISABLED). */
export function readTracingDisabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true';
}

/**
 * Sets where replicas send traces: the user's collector when given, else the control plane's
 * receiver (with `headers`, its OTEL_EXPORTER_OTLP_HEADERS value carrying the token); `disabled`
 * turns tracing off in every replica and the balancer; `sampling` is what replicas sample with
 * (default: {@link readSampling} of this process's environment).
 */
export function setTraceTargets(targets: {
  receiver?: string;
  headers?: string;
  external?: string;
  disabled?: boolean;
  sampling?: Record<string, string>;
}): void {
  sampling = { ...(targets.sampling ?? readSampling()) };
  receiver = targets.receiver;
  receiverHeaders = targets.receiver ? targets.headers : undefined;
  external = targets.external;
  disabled = targets.disabled ?? false;
}

/** Forgets the receiver, when it is this one (a control plane closing). */
export function clearTraceReceiver(endpoint: string | undefined): void {
  if (endpoint && receiver === endpoint) {
    receiver = undefined;
    receiverHeaders = undefined;
    localSink = undefined;
  }
}

/** Where spans made in this process (the balancer's) go: straight into the control plane's store. */
export function setLocalSpanSink(sink: ((span: StoredSpan) => void) | undefined): void {
  localSink = sink;
}

/**
 * The balancer's span sink: the store, while replicas send their spans to this control plane.
 * Undefined when they go to the user's own collector (the balancer does not export) or nowhere.
 */
export function balancerSpanSink(): ((span: StoredSpan) => void) | undefined {
  return disabled || external || !receiver ? undefined : localSink;
}

/**
 * The tracing variables of a replica. The user's own collector goes to every replica as given
 * (nothing else changes); the control plane's receiver binds 127.0.0.1 only, so it goes only to
 * replicas on the host's loopback, with its token in OTEL_EXPORTER_OTLP_HEADERS; both come with
 * the sampler settings (see {@link DEFAULT_SAMPLING}). Replicas
 * elsewhere (Docker's bridge network, Kubernetes pods) cannot reach it and get neither: their
 * tracing stays off unless the user's own collector is set. Empty: tracing stays off in the replica.
 */
export function replicaTraceEnv(reach: TraceReach): Record<string, string> {
  if (disabled) return { OTEL_SDK_DISABLED: 'true' };
  if (external) return { [OTLP_ENDPOINT_VAR]: external, ...sampling };
  if (receiver && reach === 'loopback')
    return { [OTLP_ENDPOINT_VAR]: receiver, ...(receiverHeaders ? { [OTLP_HEADERS_VAR]: receiverHeaders } : {}), ...sampling };
  return {};
}
