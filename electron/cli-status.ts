/**
 * `scalelab status`: the stack's instances and its latest sample, as a table and lines, or as
 * the documented JSON shape.
 */
import { formatCpu, type CpuLimitStatus, type Instance, type Sample, type StackStatus } from './contract.js';

function fmt(value: number | null | undefined, digits = 0): string {
  return value === null || value === undefined ? '–' : value.toFixed(digits);
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) => r.map((cell, i) => (i === 0 || i === 2 || i === 1 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '))
    .join('\n');
}

export function printStatus(status: StackStatus): void {
  if (status.state === 'stopped' || !status.spec) {
    console.log('No stack is running. Start one with `scalelab up`.');
    return;
  }
  const byId = new Map((status.sample?.instances ?? []).map((i) => [i.id, i]));
  const limited = status.cpuLimits?.api != null || status.cpuLimits?.worker != null;
  const rows = [['ID', 'SERVICE', 'PHASE', 'RESTARTS', 'CPU %', 'RSS MiB', 'RPS', ...(limited ? ['THROTTLED'] : [])]];
  for (const instance of status.instances) {
    const s = byId.get(instance.id);
    const throttled = s?.throttling?.throttledShare == null ? '–' : `${(s.throttling.throttledShare * 100).toFixed(0)} %`;
    rows.push([
      instance.id,
      instance.service,
      instance.phase,
      String(instance.restarts),
      fmt(s?.cpu),
      fmt(s?.rssBytes == null ? null : s.rssBytes / 1048576),
      fmt(s?.rps),
      ...(limited ? [throttled] : []),
    ]);
  }
  console.log(`Stack "${status.spec.name}" on ${status.runtime}: ${status.state}`);
  console.log(`  Balancer   ${status.endpoints?.balancer ?? '–'}`);
  console.log(`  Dashboard  ${status.endpoints?.dashboard ?? '–'}`);
  const cpu = describeCpuLimits(status.cpuLimits);
  if (cpu) console.log(`  CPU        ${cpu}`);
  console.log('');
  console.log(table(rows));
  const sample = status.sample;
  if (sample) console.log(`\n${describeSample(sample)}`);
}

function describeSample(s: Sample): string {
  const t = s.traffic;
  return [
    `Traffic  ${fmt(t.rps)} req/s, ${fmt(t.errorsPerSec)} errors/s, p50 ${fmt(t.p50, 1)} ms, p95 ${fmt(t.p95, 1)} ms, p99 ${fmt(t.p99, 1)} ms`,
    `Cache    ${s.cache.up ? 'up' : 'DOWN'}, hit rate ${s.cache.hitRate === null ? '–' : `${(s.cache.hitRate * 100).toFixed(0)} %`}, ${fmt(s.cache.keys)} keys`,
    `Queue    ${s.queue.up ? 'up' : 'DOWN'}, ${s.queue.waiting} waiting, ${s.queue.active} active, ${s.queue.failed} failed, ${fmt(s.queue.completedPerSec)} done/s`,
    `Database ${s.db.up ? 'up' : 'DOWN'}, ${fmt(s.db.connections)} connections, ${fmt(s.db.commitsPerSec)} commits/s`,
    ...describeData(s),
  ].join('\n');
}

/** The data-layer lines: the replica and its lag, the event stream, the partitions. */
function describeData(s: Sample): string[] {
  const d = s.data;
  if (!d) return [];
  const lines: string[] = [];
  if (d.replica) {
    const lag = d.replica.lagBytes === null ? '–' : `${fmt(d.replica.lagBytes / 1024, 1)} KiB / ${fmt(d.replica.lagSeconds, 2)} s`;
    const delay = d.replica.applyDelayMs > 0 ? `, replay delayed ${d.replica.applyDelayMs} ms` : '';
    lines.push(
      `Replica  ${d.replica.up ? 'up' : 'DOWN'}, lag ${lag}${delay}; reads/s primary ${fmt(d.reads.primaryPerSec)}, replica ${fmt(d.reads.replicaPerSec)}, fallbacks ${fmt(d.reads.fallbacksPerSec)}`,
    );
  }
  if (d.stream) {
    const st = d.stream;
    lines.push(
      `Events   ${fmt(st.eventsPerSec)}/s, stream ${st.length}, outbox backlog ${st.outboxBacklog}, projector lag ${fmt(st.groupLag)} (+${st.pending} pending), read model ${st.freshnessS === null ? '–' : `${fmt(st.freshnessS, 1)} s behind`}`,
    );
  }
  if (d.partitions) lines.push(`Users    ${d.partitions.length} partitions: ${d.partitions.map((p) => `${p.name} ${p.rows}`).join(', ')}`);
  return lines;
}

/**
 * The cpu limits in one line, for `up` and `status`: "api 250m per replica (cgroup v1 …)", or the
 * plain "cpu limit not enforced here (why)". Undefined when no service has a limit.
 */
export function describeCpuLimits(limits: CpuLimitStatus | null | undefined): string | undefined {
  if (!limits || (limits.api === null && limits.worker === null)) return undefined;
  const each = (['api', 'worker'] as const).flatMap((service) =>
    limits[service] === null ? [] : [`${service} ${formatCpu(limits[service]!)}`],
  );
  return `${each.join(', ')} per replica: ${limits.notEnforced ?? `enforced by ${limits.enforcedBy}`}`;
}

/** Status in the documented machine-readable shape. */
export function statusJson(status: StackStatus) {
  return {
    runtime: status.runtime,
    state: status.state,
    instances: status.instances.map(({ id, service, phase, restarts, pid }: Instance) => ({ id, service, phase, restarts, pid })),
    endpoints: status.endpoints ? { balancer: status.endpoints.balancer, dashboard: status.endpoints.dashboard } : null,
    sample: status.sample,
    cpuLimits: status.cpuLimits ?? null,
  };
}
