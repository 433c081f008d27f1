/**
 * What ran out at the knee: a simple heuristic, said to be one. It reads the telemetry of the
 * first step above capacity (the lowest rate that missed the SLO or was invalid) and names the
 * first resource past its threshold, in an order that puts a cause before its symptoms: a
 * generator that could not offer the rate, then a replica held back by its cpu limit, then a
 * store, then the balancer, then the machine's cores (busy because of all the others).
 */
import type { CapacityResult, CapacityStep, KneeLimit } from '../../capacity-spec.js';

/** A cpu-limited replica throttled in this share of its periods is at its limit. */
export const THROTTLED_SHARE = 0.25;
/** A store process busier than this (% of one core) is the likely bottleneck: Redis runs one thread. */
export const STORE_CPU_PERCENT = 85;
/** The machine's cores busier than this (% of all) leave nothing for anyone. */
export const HOST_CPU_PERCENT = 90;
/** An api replica without a cpu limit this busy (% of one core) is saturated: Node runs one thread. */
export const API_CPU_PERCENT = 90;

/**
 * The first step above capacity: the lowest rate above it that did not pass (a miss or an invalid
 * step below capacity was run again and passed, so it is not the knee).
 */
export function kneeStep(result: Pick<CapacityResult, 'steps' | 'capacityRps'>): CapacityStep | undefined {
  const floor = result.capacityRps ?? -Infinity;
  const above = result.steps.filter((s) => s.verdict !== 'pass' && s.targetRps > floor);
  return above.sort((a, b) => a.targetRps - b.targetRps)[0];
}

/** The heuristic's guess, with the figures behind it; null when no step missed. */
export function kneeLimit(result: Pick<CapacityResult, 'steps' | 'capacityRps'>): KneeLimit | null {
  const step = kneeStep(result);
  if (!step) return null;
  const t = step.telemetry;
  const at = `at ${step.targetRps} req/s`;
  if (step.verdict === 'invalid') return { resource: 'generator', evidence: `${step.reason} ${at}` };
  if (!t) return { resource: 'unknown', evidence: `no telemetry for the step ${at} (${step.reason})` };
  if (t.generatorBusiestThread !== null && t.generatorBusiestThread > 0.95)
    return { resource: 'generator', evidence: `a generator thread ${Math.round(t.generatorBusiestThread * 100)} % busy ${at}` };
  if (t.apiThrottledShare !== null && t.apiThrottledShare >= THROTTLED_SHARE)
    return { resource: 'api-cpu', evidence: `api cpu throttled in ${Math.round(t.apiThrottledShare * 100)} % of periods ${at}` };
  if (t.dbPoolWaiting !== null && t.dbPoolWaiting >= 1)
    return { resource: 'postgres', evidence: `${t.dbPoolWaiting} clients waiting for a PostgreSQL connection ${at}` };
  if (t.postgresCpuPercent !== null && t.postgresCpuPercent >= STORE_CPU_PERCENT)
    return { resource: 'postgres', evidence: `PostgreSQL cpu ${t.postgresCpuPercent} % ${at}` };
  if (t.redisCpuPercent !== null && t.redisCpuPercent >= STORE_CPU_PERCENT)
    return { resource: 'redis', evidence: `Redis cpu ${t.redisCpuPercent} % of its one thread ${at}` };
  if (t.proxyErrorsPerSec !== null && t.proxyErrorsPerSec > 0)
    return { resource: 'balancer', evidence: `${t.proxyErrorsPerSec} balancer errors/s ${at}` };
  if (t.hostCpuPercent !== null && t.hostCpuPercent >= HOST_CPU_PERCENT)
    return { resource: 'host-cpu', evidence: `the machine's cores ${t.hostCpuPercent} % busy ${at}` };
  if (t.apiCpuPercent !== null && t.apiCpuPercent >= API_CPU_PERCENT)
    return { resource: 'api-cpu', evidence: `api replicas at ${t.apiCpuPercent} % of a core each ${at}` };
  return {
    resource: 'unknown',
    evidence: `no resource past its threshold ${at} (host ${t.hostCpuPercent ?? '–'} %, api ${t.apiCpuPercent ?? '–'} %)`,
  };
}

/** A short label for tables: "api cpu", "host cores", … */
export function limitLabel(limit: KneeLimit | null): string {
  if (!limit) return '–';
  return {
    'api-cpu': 'api cpu',
    'host-cpu': 'host cores',
    postgres: 'PostgreSQL',
    redis: 'Redis',
    balancer: 'balancer',
    generator: 'generator',
    unknown: 'unclear',
  }[limit.resource];
}
