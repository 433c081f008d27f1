import type { AutoscalerStatus, Sample, StackSpec } from '../../../electron/contract.js';
import { statNumber, targetText } from '../../ui/format.js';

/** How a stat reads at a glance: red is down or failing everywhere, amber is short of what was asked. */
export type StatTone = 'ok' | 'warn' | 'bad' | 'idle';

/** One figure of the stat row: a label, its number(s), and a line under them. */
export interface Stat {
  key: 'requests' | 'latency' | 'errors' | 'replicas' | 'cache' | 'queue' | 'autoscaler';
  label: string;
  /** The big numbers, each with a small caption above it (p50 / p95 / p99), or one with none. */
  values: { caption?: string; text: string }[];
  unit: string;
  /** The line under the numbers: where the figure comes from, or what it is short of. */
  detail: string;
  tone: StatTone;
}

/** Error share above which the stat turns red, in %: the capacity search's SLO (errors < 0.1 %) is stricter; a room sees 1 %. */
export const ERROR_BAD_PERCENT = 1;

/** Ready replicas of a service in the sample (the balancer routes only to those). */
function readyCount(sample: Sample, service: 'api' | 'worker'): number {
  if (service === 'api') return sample.replicas.apiReady;
  return sample.instances.filter((i) => i.service === 'worker' && i.ready).length;
}

/** The autoscaler's stat: the first service it runs for, what it aims at, and its last decision in words. */
function autoscalerStat(sample: Sample | null, autoscaler: AutoscalerStatus | null): Stat {
  const base = { key: 'autoscaler' as const, label: 'Autoscaler', unit: '' };
  for (const service of ['api', 'worker'] as const) {
    const one = autoscaler?.[service];
    const hpa = autoscaler?.hpa?.[service];
    if (hpa) {
      const why = hpa.conditions.find((c) => c.type === 'ScalingActive')?.message ?? 'Kubernetes HPA';
      return {
        ...base,
        values: [{ text: hpa.current === hpa.desired ? `${service} ${hpa.current}` : `${service} ${hpa.current}→${hpa.desired}` }],
        detail: hpa.targetCpu === null ? why : `target cpu ${hpa.targetCpu} %: ${why}`,
        tone: hpa.current === hpa.desired ? 'ok' : 'warn',
      };
    }
    if (!one?.config.enabled) continue;
    const gauge = sample?.autoscaler?.services.find((g) => g.service === service);
    const last = one.decisions.at(-1);
    const current = gauge?.current ?? one.current;
    const desired = gauge?.desired ?? one.desired;
    const targets = one.config.metrics.map((m) => targetText(m.kind, m.target)).join(', ');
    return {
      ...base,
      values: [{ text: current === desired ? `${service} ${current}` : `${service} ${current}→${desired}` }],
      detail: last ? `target ${targets}: ${last.explanation}` : `target ${targets}: first decision at the next sync`,
      tone: current === desired ? 'ok' : 'warn',
    };
  }
  return { ...base, values: [{ text: 'off' }], detail: 'replica counts stay as set', tone: 'idle' };
}

/**
 * The stat row from the newest sample: offered vs served requests/s, p50/p95/p99, error share,
 * replicas ready of desired per service, cache hit rate, queue depth, and the autoscaler's target
 * with its one-line reason. Served, latency and errors are the balancer's (server-side); offered is
 * the load generator's (client-observed), shown only while a run is going.
 */
export function statRow(sample: Sample | null, spec: StackSpec | null, autoscaler: AutoscalerStatus | null): Stat[] {
  if (!sample) {
    const none = (key: Stat['key'], label: string, unit: string): Stat => ({
      key,
      label,
      values: [{ text: '–' }],
      unit,
      detail: 'no sample yet',
      tone: 'idle',
    });
    return [
      none('requests', 'Served', 'req/s'),
      none('latency', 'Latency', 'ms'),
      none('errors', 'Errors', '%'),
      none('replicas', 'Replicas', 'ready'),
      none('cache', 'Cache hits', '%'),
      none('queue', 'Queue', 'waiting'),
      autoscalerStat(null, autoscaler),
    ];
  }
  const { traffic } = sample;
  const generator = sample.generator?.running ? sample.generator : null;
  const failed = traffic.errorsPerSec + traffic.proxyErrorsPerSec;
  const errorPercent = traffic.rps > 0 ? (failed / traffic.rps) * 100 : failed > 0 ? 100 : 0;
  const desired = { api: spec?.replicas.api ?? sample.replicas.api, worker: spec?.replicas.worker ?? sample.replicas.worker };
  const ready = { api: readyCount(sample, 'api'), worker: readyCount(sample, 'worker') };
  const short = ready.api < desired.api || ready.worker < desired.worker;
  const hit = sample.cache.hitRate;
  return [
    {
      key: 'requests',
      label: 'Served',
      values: [{ text: statNumber(traffic.rps) }],
      unit: 'req/s',
      detail: generator
        ? `offered ${statNumber(generator.offeredRps)} · achieved ${statNumber(generator.achievedRps)} (client)`
        : 'server-side',
      tone: generator && generator.offeredRps > 0 && traffic.rps < generator.offeredRps * 0.9 ? 'warn' : 'ok',
    },
    {
      key: 'latency',
      label: 'Latency',
      values: [
        { caption: 'p50', text: statNumber(traffic.p50) },
        { caption: 'p95', text: statNumber(traffic.p95) },
        { caption: 'p99', text: statNumber(traffic.p99) },
      ],
      unit: 'ms',
      detail: 'server-side, at the balancer',
      tone: traffic.p50 === null ? 'idle' : 'ok',
    },
    {
      key: 'errors',
      label: 'Errors',
      values: [{ text: statNumber(errorPercent) }],
      unit: '%',
      detail: failed > 0 ? `${statNumber(failed)}/s failed` : 'none failed',
      tone: errorPercent >= ERROR_BAD_PERCENT ? 'bad' : errorPercent > 0 ? 'warn' : 'ok',
    },
    {
      key: 'replicas',
      label: 'Replicas ready',
      values: [
        { caption: 'api', text: `${ready.api}/${desired.api}` },
        { caption: 'workers', text: `${ready.worker}/${desired.worker}` },
      ],
      unit: '',
      detail: short ? 'some not ready yet' : 'all ready',
      tone: ready.api === 0 && desired.api > 0 ? 'bad' : short ? 'warn' : 'ok',
    },
    {
      key: 'cache',
      label: 'Cache hits',
      values: [{ text: sample.cache.up ? statNumber(hit === null ? null : hit * 100) : 'down' }],
      unit: sample.cache.up && hit !== null ? '%' : '',
      detail: !sample.cache.up
        ? 'Redis down: reads go to PostgreSQL'
        : hit === null
          ? 'no lookups'
          : `${statNumber(sample.cache.hitsPerSec + sample.cache.missesPerSec)} lookups/s`,
      tone: sample.cache.up ? (hit === null ? 'idle' : 'ok') : 'bad',
    },
    {
      key: 'queue',
      label: 'Queue',
      values: [{ text: sample.queue.up ? statNumber(sample.queue.waiting) : 'down' }],
      unit: sample.queue.up ? 'waiting' : '',
      detail: sample.queue.up
        ? `${statNumber(sample.queue.active)} active · ${statNumber(sample.queue.completedPerSec)} done/s`
        : 'Redis down: no jobs move',
      tone: sample.queue.up ? 'ok' : 'bad',
    },
    autoscalerStat(sample, autoscaler),
  ];
}
