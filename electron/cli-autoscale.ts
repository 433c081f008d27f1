import { formatCpu, MAX_REPLICAS } from './stack-spec.js';
import type { AutoscalerConfigureInput, AutoscalerStatus, Decision, KubeHpaView, ServiceAutoscalerStatus } from './contract.js';
import { TARGET_UNITS } from './control/autoscaler/autoscaler.js';
import type { ControlClient } from './control/client.js';

/** A mistake in the autoscale options (exit code 2). */
export class AutoscaleUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Options of `scalelab autoscale`, as parsed by the CLI. */
export interface AutoscaleArgs {
  min?: string;
  max?: string;
  cpu?: string;
  rps?: string;
  'p95-ms'?: string;
  'queue-per-worker'?: string;
  preset?: string;
  sync?: string;
  'cpu-request'?: string;
}

const USAGE =
  'usage: scalelab autoscale api|worker [--min N] [--max N] [--cpu %] [--rps N] [--p95-ms MS] [--queue-per-worker N] [--preset default|demo] [--sync S] | autoscale off [api|worker] | autoscale status';

function number(name: string, value: string | undefined, min: number, max: number, integer = false): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new AutoscaleUsageError(`--${name} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max} (got "${value}")`);
  }
  return n;
}

/** The `autoscaler:configure` payload of `scalelab autoscale api|worker …`. */
export function configureInput(service: 'api' | 'worker', args: AutoscaleArgs): AutoscalerConfigureInput {
  if (args.preset !== undefined && args.preset !== 'default' && args.preset !== 'demo')
    throw new AutoscaleUsageError(`--preset must be default or demo (got "${args.preset}")`);
  const metrics = {
    cpu: number('cpu', args.cpu, 1, 1000),
    rps: number('rps', args.rps, 0.1, 1_000_000),
    p95Ms: number('p95-ms', args['p95-ms'], 1, 600_000),
    queuePerWorker: number('queue-per-worker', args['queue-per-worker'], 1, 1_000_000),
  };
  const given = Object.values(metrics).some((v) => v !== undefined);
  const input: AutoscalerConfigureInput = {
    service,
    enabled: true,
    preset: args.preset as 'default' | 'demo' | undefined,
    minReplicas: number('min', args.min, 0, MAX_REPLICAS, true),
    maxReplicas: number('max', args.max, 1, MAX_REPLICAS, true),
    syncPeriodSeconds: number('sync', args.sync, 1, 300, true),
    cpuRequestMillicores: number('cpu-request', args['cpu-request'], 10, 64_000, true),
    metrics: given ? metrics : undefined,
  };
  return JSON.parse(JSON.stringify(input)) as AutoscalerConfigureInput;
}

function time(t: number): string {
  return new Date(t).toLocaleTimeString('en-GB', { hour12: false });
}

/** A service's autoscaler and its last decisions, explained. */
export function describeService(status: ServiceAutoscalerStatus, decisions = 5): string {
  const c = status.config;
  const lines = [
    `${c.service}: ${c.enabled ? 'on' : 'off'} (emulated HPA, ${c.preset} preset) · ${status.current} now, ${status.desired} desired, ${c.minReplicas}–${c.maxReplicas} · ` +
      `targets ${c.metrics.map((m) => `${m.kind} ${m.target}${TARGET_UNITS[m.kind]}`).join(', ')} · sync ${c.syncPeriodSeconds} s · ` +
      `scale-down window ${c.behavior.scaleDown.stabilizationWindowSeconds} s · tolerance ±${Math.round(c.tolerance * 100)} %`,
  ];
  const request = status.cpuRequest;
  if (request && c.metrics.some((m) => m.kind === 'cpu')) {
    lines.push(
      `  cpu % is of a ${formatCpu(request.millicores)} request per replica (${request.from === 'resources' ? `the replicas' limit, resources.${c.service}.cpu` : "the autoscaler's --cpu-request; the replicas have no cpu limit"})`,
    );
  }
  const recent: Decision[] = status.decisions.slice(-decisions);
  if (recent.length === 0) lines.push('  no decision yet (the first comes within one sync period)');
  for (const d of recent) lines.push(`  ${time(d.t)}  ${d.currentReplicas} → ${d.desired}  ${d.explanation}`);
  return lines.join('\n');
}

/** A real Kubernetes HPA: its status, conditions and the cluster's last events about it. */
export function describeHpa(view: KubeHpaView, events = 5): string {
  const cpu = view.cpu === null ? 'no cpu figure yet' : `cpu ${view.cpu} %`;
  const lines = [
    `${view.service}: Kubernetes HPA ${view.name} · ${view.current} now, ${view.desired} desired, ${view.min}–${view.max} · target cpu ${view.targetCpu ?? '–'} % · ${cpu}`,
  ];
  for (const c of view.conditions) lines.push(`  ${c.type}=${c.status} ${c.reason}: ${c.message}`);
  for (const e of view.events.slice(-events))
    lines.push(`  ${time(e.at)}  ${e.reason}  ${e.message}${e.count > 1 ? ` (×${e.count})` : ''}`);
  return lines.join('\n');
}

/** Runs `scalelab autoscale …`; returns the exit code. */
export async function runAutoscale(client: ControlClient, rest: string[], args: AutoscaleArgs, json: boolean): Promise<number> {
  const [what, which] = rest;
  let status: AutoscalerStatus;
  if (what === 'status' || what === undefined) {
    status = await client.call('autoscaler:status', {});
  } else if (what === 'off') {
    if (which !== undefined && which !== 'api' && which !== 'worker') throw new AutoscaleUsageError(USAGE);
    for (const service of which ? [which] : (['api', 'worker'] as const))
      status = await client.call('autoscaler:configure', { service, enabled: false });
    status = await client.call('autoscaler:status', {});
  } else if (what === 'api' || what === 'worker') {
    status = await client.call('autoscaler:configure', configureInput(what, args));
  } else {
    throw new AutoscaleUsageError(USAGE);
  }
  if (json) {
    console.log(JSON.stringify(status, null, 2));
    return 0;
  }
  if (status.mode === 'hpa') {
    const hpas = [status.hpa?.api, status.hpa?.worker].filter((v): v is KubeHpaView => !!v);
    if (hpas.length === 0) console.log('No HPA in the cluster. Create one: scalelab autoscale api --cpu 50');
    for (const view of hpas) console.log(describeHpa(view));
    return 0;
  }
  const services = [status.api, status.worker].filter((s): s is ServiceAutoscalerStatus => s !== null);
  if (services.length === 0) console.log('No autoscaler is on. Turn one on: scalelab autoscale api --cpu 50 --preset demo');
  for (const s of services) console.log(describeService(s));
  return 0;
}
