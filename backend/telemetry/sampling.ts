/**
 * The replica's sampler, from OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG:
 * - `parentbased_ratelimited` (the default): a request that carries a `traceparent` follows its
 *   sampled flag (ScaleLab's balancer decides for the requests it forwards); one without starts a
 *   sampled trace only while this second's budget (the argument, traces per second) lasts. The
 *   decision for incoming requests is taken before the HTTP instrumentation sees them (see
 *   request-gate.ts), which hands it to this sampler as a grant.
 * - the standard values (always_on, always_off, traceidratio and their parentbased_ forms), as
 *   the SDK defines them.
 * Either way a span marked as recorded after the fact (keep-policy.ts's TIMING_ONLY) is sampled:
 * that is how a failed or slow request that was not sampled still reaches the collector.
 */
import type * as OtelApi from '@opentelemetry/api';
import type { Sampler, SamplingResult } from '@opentelemetry/sdk-trace-node';
import { ConfigError } from '../config.js';
import { DEFAULT_TRACES_PER_SECOND, RATE_LIMITED_SAMPLER, SAMPLING_ATTRIBUTE, TIMING_ONLY } from './keep-policy.js';

type Sdk = Pick<
  typeof import('@opentelemetry/sdk-trace-node'),
  'AlwaysOffSampler' | 'AlwaysOnSampler' | 'ParentBasedSampler' | 'SamplingDecision' | 'TraceIdRatioBasedSampler'
>;

/** Where root decisions for incoming requests come from (request-gate.ts). */
export interface RootGrants {
  /** True once for a request the gate admitted as a new sampled trace. */
  takeGrant(): boolean;
  /** True while this second's budget of new traces lasts (and counts one). */
  takeBudget(): boolean;
}

/** OTEL_TRACES_SAMPLER and its argument, read. */
export type SamplerSetting = { name: typeof RATE_LIMITED_SAMPLER; perSecond: number } | { name: string; ratio: number };

const STANDARD = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'];

function isTimingOnly(attributes: OtelApi.Attributes | undefined): boolean {
  return attributes?.[SAMPLING_ATTRIBUTE] === TIMING_ONLY;
}

function number(name: string, arg: string | undefined, fallback: number, valid: (n: number) => boolean, range: string): number {
  if (arg === undefined || arg.trim() === '') return fallback;
  const n = Number(arg);
  if (!Number.isFinite(n) || !valid(n))
    throw new ConfigError(`invalid environment: OTEL_TRACES_SAMPLER_ARG: ${name} takes ${range}, got "${arg}"`);
  return n;
}

/** Reads OTEL_TRACES_SAMPLER / _ARG (unset: {@link RATE_LIMITED_SAMPLER}); throws ConfigError naming a bad one. */
export function readSamplerSetting(name: string | undefined, arg: string | undefined): SamplerSetting {
  const kind = (name ?? RATE_LIMITED_SAMPLER).trim().toLowerCase();
  if (kind === RATE_LIMITED_SAMPLER)
    return {
      name: RATE_LIMITED_SAMPLER,
      perSecond: number(kind, arg, DEFAULT_TRACES_PER_SECOND, (n) => n >= 0, 'traces per second (a number ≥ 0)'),
    };
  if (!STANDARD.includes(kind))
    throw new ConfigError(
      `invalid environment: OTEL_TRACES_SAMPLER: "${name}" is not one of ${[RATE_LIMITED_SAMPLER, ...STANDARD].join(', ')}`,
    );
  return { name: kind, ratio: kind.endsWith('traceidratio') ? number(kind, arg, 1, (n) => n >= 0 && n <= 1, 'a ratio from 0 to 1') : 1 };
}

/**
 * Builds the sampler. `grants` gives the rate-limited sampler its root decisions; roots it was
 * not told about (a BullMQ job's, an injected delay's outside any request) are sampled from the
 * same budget when `otherRoots` is true (the worker, whose traces start at jobs), never otherwise
 * (the api, whose traces start at requests).
 */
export function createSampler(sdk: Sdk, setting: SamplerSetting, grants: RootGrants, otherRoots: boolean): Sampler {
  const { SamplingDecision } = sdk;
  const sampled: SamplingResult = { decision: SamplingDecision.RECORD_AND_SAMPLED };
  const dropped: SamplingResult = { decision: SamplingDecision.NOT_RECORD };
  const timingOnly: Sampler = {
    shouldSample: (_c, _t, _n, _k, attributes) => (isTimingOnly(attributes) ? sampled : dropped),
    toString: () => 'TimingOnlySampler',
  };
  if ('perSecond' in setting) {
    const root: Sampler = {
      shouldSample: (_c, _t, _n, _k, attributes) =>
        isTimingOnly(attributes) || grants.takeGrant() || (otherRoots && grants.takeBudget()) ? sampled : dropped,
      toString: () => `RateLimitedSampler{${setting.perSecond}/s}`,
    };
    // A parent's unsampled flag drops its children, except a span recorded after the fact.
    return new sdk.ParentBasedSampler({ root, remoteParentNotSampled: timingOnly, localParentNotSampled: timingOnly });
  }
  const base = setting.name.replace(/^parentbased_/, '');
  const inner: Sampler =
    base === 'always_on'
      ? new sdk.AlwaysOnSampler()
      : base === 'always_off'
        ? new sdk.AlwaysOffSampler()
        : new sdk.TraceIdRatioBasedSampler(setting.ratio);
  const standard = setting.name.startsWith('parentbased_') ? new sdk.ParentBasedSampler({ root: inner }) : inner;
  return {
    shouldSample: (context, traceId, spanName, spanKind, attributes, links) =>
      isTimingOnly(attributes) ? sampled : standard.shouldSample(context, traceId, spanName, spanKind, attributes, links),
    toString: () => `${standard.toString()}+TimingOnly`,
  };
}
