/**
 * cpu limits on the Docker runtime, against a real engine: replica containers carry the spec's
 * limit as NanoCpus, a changed limit is applied in place, and a burning limited replica's
 * throttling (the stats API's throttling_data) shows in a telemetry sample.
 */
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withDefaults, type StackSpec } from '../../electron/contract.js';
import { Chaos } from '../../electron/control/chaos/chaos.js';
import { DockerRuntime } from '../../electron/control/runtimes/docker/docker-runtime.js';
import { LABELS } from '../../electron/control/runtimes/docker/labels.js';
import { freePort } from '../../electron/control/runtimes/local/ports.js';
import { Collector } from '../../electron/control/telemetry/collector.js';
import { runtimeSource } from '../../electron/control/telemetry/runtime-source.js';
import { makeTempHome, removeTempHome } from '../support/temp-home.js';
import { dockerAvailable, ensureTestImages } from './images.js';

const engine = await dockerAvailable();
if (!engine.ok) console.log(`skipped: no Docker engine (${engine.reason})`);

const STACK = 'dcpu';
const docker = new Docker();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function inspect(instance: string): Promise<Docker.ContainerInspectInfo> {
  const [c] = await docker.listContainers({
    filters: JSON.stringify({ label: [`${LABELS.stack}=${STACK}`, `${LABELS.instance}=${instance}`] }),
  });
  return docker.getContainer(c!.Id).inspect();
}

describe.skipIf(!engine.ok)('cpu limits on the docker runtime (real engine)', () => {
  let home: string;
  let runtime: DockerRuntime;
  let spec: StackSpec;
  let collector: Collector;

  beforeAll(async () => {
    const images = await ensureTestImages((line) => console.log(`[test images] ${line}`));
    home = await makeTempHome('scalelab-docker-cpu-');
    runtime = new DockerRuntime({ home });
    spec = withDefaults({
      name: STACK,
      runtime: 'docker',
      port: await freePort(),
      images,
      docker: { network: 'host' },
      replicas: { api: 1, worker: 1 },
      data: { events: false },
      resources: { api: { cpu: '100m' } },
    });
    const endpoints = await runtime.up(spec, () => undefined);
    collector = new Collector({ stack: STACK, ...runtimeSource(runtime, endpoints) }, 800);
  }, 900_000);

  afterAll(async () => {
    await collector?.close();
    await runtime?.down({ keepData: false });
    if (home) await removeTempHome(home);
    const left = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${LABELS.stack}=${STACK}`] }) });
    expect(left.map((c) => c.Names[0])).toEqual([]);
  }, 120_000);

  it('an api container carries the 100m limit as NanoCpus; the unlimited worker has none', async () => {
    expect((await inspect('api-1')).HostConfig.NanoCpus).toBe(100_000_000);
    expect((await inspect('worker-1')).HostConfig.NanoCpus ?? 0).toBe(0);
    expect(runtime.cpuLimits()).toEqual({ api: 100, worker: null, enforcedBy: 'Docker NanoCpus', notEnforced: null });
  });

  it('a burning 100m container is throttled, and the sample says so', async () => {
    const chaos = new Chaos({ runtime: () => runtime, record: () => undefined, replicaUrl: () => undefined });
    try {
      await chaos.inject({ action: 'cpu', target: 'api-1', threads: 2, seconds: 20 });
      await collector.collect();
      // The engine streams a reading a second; two apart give a delta.
      await sleep(3_000);
      await collector.collect();
      await sleep(1_500);
      const instance = (await collector.collect()).instances.find((i) => i.id === 'api-1')!;
      expect(instance.cpuLimitMillicores).toBe(100);
      expect(instance.throttling?.throttledPeriodsTotal).toBeGreaterThan(10);
      expect(instance.throttling?.throttledShare).toBeGreaterThan(0.5);
      expect(instance.cpu).toBeLessThan(20);
      expect((await collector.collect()).instances.find((i) => i.id === 'worker-1')!.throttling).toBeNull();
    } finally {
      await chaos.clear();
      chaos.reset();
    }
  }, 60_000);

  it('a changed limit is applied to the running container in place', async () => {
    const before = (await inspect('api-1')).Id;
    await runtime.up(withDefaults({ ...runtime.currentSpec()!, resources: { api: { cpu: '0.25' } } }), () => undefined);
    const after = await inspect('api-1');
    expect(after.Id).toBe(before);
    expect(after.HostConfig.NanoCpus).toBe(250_000_000);
    expect(runtime.cpuLimits()?.api).toBe(250);
  }, 60_000);
});
