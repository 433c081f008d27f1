/**
 * cpu limits on the local runtime, for real: an api replica held to 100m by its own cgroup burns
 * no more than that under a cpu fault, its throttling shows in a telemetry sample, and every group
 * ScaleLab made is gone after `down`. Skipped, saying why, where this machine has no writable cgroup.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withDefaults } from '../../electron/contract.js';
import { Chaos } from '../../electron/control/chaos/chaos.js';
import { findCgroupBase } from '../../electron/control/runtimes/local/cgroup-cpu.js';
import { LocalRuntime } from '../../electron/control/runtimes/local/local-runtime.js';
import { freePort } from '../../electron/control/runtimes/local/ports.js';
import { Collector } from '../../electron/control/telemetry/collector.js';
import { runtimeSource } from '../../electron/control/telemetry/runtime-source.js';

const probe = await findCgroupBase();
if (!probe.ok) console.log(`skipped: cpu limits are not enforceable here (${probe.why})`);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const CLOCK_TICKS = 100;

/** utime + stime of a process, in seconds. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

describe.skipIf(!probe.ok)('cpu limits on the local runtime (cgroups)', () => {
  let home: string;
  let runtime: LocalRuntime;
  let chaos: Chaos;
  let collector: Collector;
  const progress: string[] = [];
  const stackGroups = () => path.join(probe.ok ? probe.base.base : '', 'scalelab', 'cpu');

  beforeAll(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'scalelab-cpu-'));
    runtime = new LocalRuntime({ home });
    // What a crashed earlier run of this stack left: an empty group, swept by the next up.
    await mkdir(path.join(stackGroups(), 'api-9'), { recursive: true });
    const spec = withDefaults({
      name: 'cpu',
      port: await freePort(),
      replicas: { api: 1, worker: 0 },
      data: { events: false },
      resources: { api: { cpu: '100m' } },
    });
    const endpoints = await runtime.up(spec, (m) => progress.push(m));
    chaos = new Chaos({ runtime: () => runtime, record: () => undefined, replicaUrl: () => undefined });
    collector = new Collector({ stack: 'cpu', ...runtimeSource(runtime, endpoints) }, 800);
  }, 120_000);

  afterAll(async () => {
    chaos?.reset();
    await collector?.close();
    await runtime?.down({ keepData: false });
    await rm(home, { recursive: true, force: true });
    // Every group this stack made is gone, and ScaleLab's own folder with them (no other stack limits cpu here).
    expect(existsSync(stackGroups())).toBe(false);
  }, 60_000);

  it('puts each limited replica in its own group with a 10 ms per 100 ms quota, and says how it is enforced', async () => {
    const api = runtime.currentInstances().find((i) => i.id === 'api-1')!;
    const group = path.join(stackGroups(), 'api-1');
    const procs = (await readFile(path.join(group, 'cgroup.procs'), 'utf8')).split('\n').filter(Boolean).map(Number);
    expect(procs).toContain(api.pid);
    const quota =
      probe.ok && probe.base.version === 2
        ? (await readFile(path.join(group, 'cpu.max'), 'utf8')).trim()
        : (await readFile(path.join(group, 'cpu.cfs_quota_us'), 'utf8')).trim();
    expect(quota).toBe(probe.ok && probe.base.version === 2 ? '10000 100000' : '10000');
    expect(runtime.cpuLimits()).toEqual({ api: 100, worker: null, enforcedBy: probe.ok ? probe.enforcedBy : null, notEnforced: null });
    expect(progress.some((m) => m.includes('not enforced'))).toBe(false);
    expect(progress).toContain('removed the cgroups a previous run left: api-9');
    expect(existsSync(path.join(stackGroups(), 'api-9'))).toBe(false);
  });

  it('a cpu-burn fault on a 100m replica uses at most 0.15 of a core, and the sample shows it throttled', async () => {
    const api = runtime.currentInstances().find((i) => i.id === 'api-1')!;
    await chaos.inject({ action: 'cpu', target: 'api-1', threads: 2, seconds: 20 });
    await collector.collect();
    await sleep(500);
    const before = await cpuSeconds(api.pid!);
    const started = Date.now();
    await sleep(3_000);
    const used = (await cpuSeconds(api.pid!)) - before;
    const cores = used / ((Date.now() - started) / 1000);
    console.log(`a 100m replica burning 2 threads used ${cores.toFixed(3)} of a core over 3 s`);
    expect(cores).toBeLessThanOrEqual(0.15);
    // It did burn: the quota, not idleness, kept it there.
    expect(cores).toBeGreaterThan(0.05);
    const sample = await collector.collect();
    const instance = sample.instances.find((i) => i.id === 'api-1')!;
    expect(instance.cpuLimitMillicores).toBe(100);
    expect(instance.throttling).not.toBeNull();
    expect(instance.throttling!.throttledShare).toBeGreaterThan(0.5);
    expect(instance.throttling!.throttledSecondsPerSec).toBeGreaterThan(0.5);
    expect(instance.throttling!.throttledPeriodsTotal).toBeGreaterThan(10);
    expect(sample.cpuLimits).toMatchObject({ api: 100, notEnforced: null });
    await chaos.clear();
  }, 30_000);

  it('a changed limit applies to the running replica at once, and a restarted replica gets a fresh group', async () => {
    const spec = runtime.currentSpec()!;
    await runtime.up(withDefaults({ ...spec, resources: { api: { cpu: '0.25' } } }), () => undefined);
    const group = path.join(stackGroups(), 'api-1');
    const quota =
      probe.ok && probe.base.version === 2
        ? (await readFile(path.join(group, 'cpu.max'), 'utf8')).trim().split(' ')[0]
        : (await readFile(path.join(group, 'cpu.cfs_quota_us'), 'utf8')).trim();
    expect(quota).toBe('25000');
    expect(runtime.cpuLimits()?.api).toBe(250);
    const before = runtime.currentInstances().find((i) => i.id === 'api-1')!;
    await runtime.kill('api-1', 'kill');
    await runtime.scale('api', 1);
    const deadline = Date.now() + 20_000;
    let after = runtime.currentInstances().find((i) => i.id === 'api-1')!;
    while ((after.pid === before.pid || after.phase !== 'ready') && Date.now() < deadline) {
      await sleep(200);
      after = runtime.currentInstances().find((i) => i.id === 'api-1')!;
    }
    expect(after.pid).not.toBe(before.pid);
    await sleep(300);
    const procs = (await readFile(path.join(group, 'cgroup.procs'), 'utf8')).split('\n').filter(Boolean).map(Number);
    expect(procs).toEqual([after.pid]);
  }, 40_000);
});
