/**
 * cpu limits without a stack: the spec's quantities, the "not enforced" path (a cgroup root that
 * cannot be used, and a platform without cgroups), throttling figures from CFS counters, their
 * Prometheus series, the CLI's line, and the emulated HPA's denominator.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Value } from 'typebox/value';
import { describe, expect, it } from 'vitest';
import {
  CpuQuantityError,
  formatCpu,
  parseCpu,
  StackSpecSchema,
  withDefaults,
  type InstanceSample,
  type Sample,
} from '../../electron/contract.js';
import { describeCpuLimits } from '../../electron/cli-status.js';
import { readings } from '../../electron/control/autoscaler/autoscaler.js';
import { reportCharts } from '../../electron/control/scenarios/report-series.js';
import { parseScenario } from '../../electron/control/scenarios/scenario-file.js';
import { parseCpuStat } from '../../electron/control/runtimes/local/cgroup-cpu.js';
import { ReplicaCpu } from '../../electron/control/runtimes/local/replica-cpu.js';
import { throttlingOf } from '../../electron/control/telemetry/cpu-throttle.js';
import { DeltaTracker } from '../../electron/control/telemetry/deltas.js';
import { renderPrometheus } from '../../electron/control/telemetry/exporter.js';
import { instanceSample, quietSample } from '../support/sample-fixture.js';

describe('cpu quantities in the stack spec', () => {
  it.each([
    ['250m', 250],
    ['0.5', 500],
    [0.5, 500],
    ['1', 1000],
    [2, 2000],
    ['1.5', 1500],
    ['.1', 100],
    ['10m', 10],
    ['64', 64_000],
  ] as const)('%j is %d millicores', (given, millicores) => {
    expect(parseCpu(given)).toBe(millicores);
  });

  it.each([
    ['250x', /"250x" is not a cpu quantity: write millicores such as "250m" or cores such as "0\.5" or "1"/],
    ['100Mi', /"100Mi" is not a cpu quantity/],
    ['', /"" is not a cpu quantity/],
    ['-1', /"-1" is not a cpu quantity/],
    ['1e3', /"1e3" is not a cpu quantity/],
    ['0.0005', /"0\.0005" is finer than 1m/],
    ['5m', /"5m" is out of range: a replica's cpu is from 10m to 64 cores/],
    [65, /65 is out of range/],
  ] as const)('refuses %j, naming it', (given, message) => {
    expect(() => parseCpu(given)).toThrow(CpuQuantityError);
    expect(() => parseCpu(given)).toThrow(message);
  });

  it('withDefaults writes quantities as Kubernetes prints them, none by default, and the result is a valid spec again', () => {
    expect(withDefaults({}).resources).toEqual({ api: { cpu: null }, worker: { cpu: null } });
    const spec = withDefaults({ resources: { api: { cpu: '0.25' }, worker: { cpu: 2 } } });
    expect(spec.resources).toEqual({ api: { cpu: '250m' }, worker: { cpu: '2' } });
    // Adoption feeds a running spec back through stack:up.
    expect(Value.Check(StackSpecSchema, spec)).toBe(true);
    expect([formatCpu(100), formatCpu(1000), formatCpu(1500)]).toEqual(['100m', '1', '1500m']);
  });

  it('the schema refuses a bad quantity with one message that names it', () => {
    const errors = [...Value.Errors(StackSpecSchema, { resources: { api: { cpu: '25x' } } })];
    expect(errors.map((e) => `${e.instancePath} ${e.message}`)).toEqual([
      '/resources/api/cpu "25x" is not a cpu quantity: write millicores such as "250m" or cores such as "0.5" or "1"',
    ]);
    expect(Value.Check(StackSpecSchema, { resources: { api: { cpu: null }, worker: {} } })).toBe(true);
    expect(Value.Check(StackSpecSchema, { resources: { db: { cpu: '1' } } })).toBe(false);
  });
});

describe("a scenario's stack spec carries cpu limits", () => {
  const scenario = (cpu: string) =>
    `name: capped\ndurationS: 10\nstack:\n  replicas: { api: 2 }\n  resources:\n    api: { cpu: ${cpu} }\nsteps:\n  - at: 0\n    note: go\n`;

  it('a quantity in the file is taken as given; a bad one is refused with its line and field', () => {
    expect(parseScenario(scenario('250m'), 'capped.yaml').stack?.resources).toEqual({ api: { cpu: '250m' } });
    expect(parseScenario(scenario('0.5'), 'capped.yaml').stack?.resources).toEqual({ api: { cpu: 0.5 } });
    expect(() => parseScenario(scenario('250x'), 'capped.yaml')).toThrow(
      'capped.yaml:6:17: stack.resources.api.cpu "250x" is not a cpu quantity',
    );
  });
});

describe('where cpu limits cannot be enforced, it is said, never silently', () => {
  const limit = (service: 'api' | 'worker') => (service === 'api' ? 100 : null);

  it('a cgroup root that does not exist: the status says why, and a held replica runs with no group made', async () => {
    const root = '/nonexistent/scalelab-cgroup-test';
    const cpu = await ReplicaCpu.open({ stack: 'x', limit, root });
    expect(cpu.status()).toEqual({
      api: 100,
      worker: null,
      enforcedBy: null,
      notEnforced: `cpu limit not enforced here (SCALELAB_CGROUP_ROOT=${root} is not a cgroup cpu directory)`,
    });
    expect(cpu.dir).toBeUndefined();
    const child = spawn('sleep', ['5']);
    try {
      expect(cpu.hold('api-1', 'api', child)).toBe(child);
      expect(await cpu.counters()).toEqual(new Map());
      expect(existsSync(root)).toBe(false);
    } finally {
      child.kill('SIGKILL');
    }
    await cpu.removeAll();
  });

  const canSetpriv = process.getuid?.() === 0 && spawnSync('setpriv', ['--version']).status === 0;
  // The probe runs the checkout's own code as uid 65534: a checkout under a 0700 folder (mktemp -d,
  // /root) is not readable by that user.
  const tsxPackage = fileURLToPath(new URL('../../node_modules/tsx/package.json', import.meta.url));
  const readableByNobody =
    canSetpriv &&
    spawnSync('setpriv', [
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      process.execPath,
      '-e',
      `require('fs').accessSync(${JSON.stringify(tsxPackage)}, require('fs').constants.R_OK)`,
    ]).status === 0;
  const asNobody = canSetpriv && readableByNobody;
  if (!canSetpriv) console.log('skipped: the unprivileged-user check needs root and setpriv');
  else if (!readableByNobody)
    console.log(
      `skipped: the unprivileged-user check runs the checkout as uid 65534, which cannot read ${tsxPackage} (a parent folder is private)`,
    );
  it.skipIf(!asNobody)('a user without cgroup access (not root, no delegated subtree) is told why', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'scalelab-cgroup-probe-'));
    try {
      chmodSync(dir, 0o755);
      // tsx keeps its cache in TMPDIR: one the user may write, inside the folder this test removes.
      const tmp = path.join(dir, 'tmp');
      mkdirSync(tmp);
      chownSync(tmp, 65534, 65534);
      const module = fileURLToPath(new URL('../../electron/control/runtimes/local/cgroup-cpu.ts', import.meta.url));
      writeFileSync(
        path.join(dir, 'probe.mts'),
        `import { findCgroupBase } from ${JSON.stringify(module)};\nconsole.log(JSON.stringify(await findCgroupBase()));\n`,
        { mode: 0o644 },
      );
      const run = spawnSync(
        'setpriv',
        ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--import', 'tsx', path.join(dir, 'probe.mts')],
        { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: tmp, TMPDIR: tmp }, timeout: 60_000 },
      );
      expect(run.status, run.stderr).toBe(0);
      const probe = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { ok: boolean; why?: string };
      expect(probe.ok).toBe(false);
      expect(probe.why).toMatch(/not writable|no cpu controller|no cgroup cpu controller/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a directory that is no cgroup is refused as well', async () => {
    const cpu = await ReplicaCpu.open({ stack: 'x', limit, root: '/tmp' });
    expect(cpu.status().notEnforced).toBe('cpu limit not enforced here (SCALELAB_CGROUP_ROOT=/tmp is not a cgroup cpu directory)');
  });

  it.each([
    ['darwin', 'macOS'],
    ['win32', 'Windows'],
  ] as const)('on %s the local runtime says it has no cgroups', async (platform, name) => {
    const cpu = await ReplicaCpu.open({ stack: 'x', limit, platform });
    expect(cpu.status().notEnforced).toBe(
      `cpu limit not enforced here (${name} has no cgroups for local processes; the docker runtime enforces limits)`,
    );
  });

  it('without any limit there is nothing to enforce, and nothing is said', async () => {
    const cpu = await ReplicaCpu.open({ stack: 'x', limit: () => null, root: '/nonexistent' });
    expect(cpu.status()).toEqual({ api: null, worker: null, enforcedBy: null, notEnforced: null });
  });

  it('the CLI line names the limits and how they hold, or why they do not', () => {
    expect(describeCpuLimits({ api: 250, worker: 1000, enforcedBy: 'cgroup v1 cpu.cfs_quota_us', notEnforced: null })).toBe(
      'api 250m, worker 1 per replica: enforced by cgroup v1 cpu.cfs_quota_us',
    );
    expect(
      describeCpuLimits({ api: 100, worker: null, enforcedBy: null, notEnforced: 'cpu limit not enforced here (macOS has no cgroups)' }),
    ).toBe('api 100m per replica: cpu limit not enforced here (macOS has no cgroups)');
    expect(describeCpuLimits({ api: null, worker: null, enforcedBy: null, notEnforced: null })).toBeUndefined();
    expect(describeCpuLimits(null)).toBeUndefined();
  });
});

describe('throttling figures', () => {
  it('reads cgroup v1 and v2 cpu.stat', () => {
    expect(parseCpuStat('nr_periods 21\nnr_throttled 20\nthrottled_time 1758383704\nnr_bursts 0\nburst_time 0\n')).toEqual({
      periods: 21,
      throttledPeriods: 20,
      throttledSeconds: 1.758383704,
    });
    expect(parseCpuStat('usage_usec 100\nuser_usec 80\nsystem_usec 20\nnr_periods 10\nnr_throttled 5\nthrottled_usec 250000\n')).toEqual({
      periods: 10,
      throttledPeriods: 5,
      throttledSeconds: 0.25,
    });
  });

  it('turns counters into the share of periods throttled and throttled seconds per second, and a new group into a new epoch', () => {
    const deltas = new DeltaTracker();
    deltas.beginTick(1_000);
    const first = throttlingOf(deltas, 'api-1', { periods: 100, throttledPeriods: 10, throttledSeconds: 1 }, 1_000, 0);
    expect(first).toEqual({
      throttledShare: null,
      throttledSecondsPerSec: null,
      periodsTotal: 100,
      throttledPeriodsTotal: 10,
      throttledSecondsTotal: 1,
    });
    deltas.beginTick(3_000);
    const second = throttlingOf(deltas, 'api-1', { periods: 120, throttledPeriods: 25, throttledSeconds: 2.8 }, 3_000, 0);
    expect(second).toMatchObject({ throttledShare: 0.75, throttledSecondsPerSec: 0.9 });
    deltas.beginTick(4_000);
    // Idle: no period with work, nothing throttled.
    expect(throttlingOf(deltas, 'api-1', { periods: 120, throttledPeriods: 25, throttledSeconds: 2.8 }, 4_000, 0)).toMatchObject({
      throttledShare: 0,
      throttledSecondsPerSec: 0,
    });
    deltas.beginTick(5_000);
    // Restarted (a new epoch, a new group): its counts are all new.
    expect(throttlingOf(deltas, 'api-1', { periods: 10, throttledPeriods: 5, throttledSeconds: 0.5 }, 5_000, 4_500)).toMatchObject({
      throttledShare: 0.5,
      throttledSecondsPerSec: 0.5,
    });
    expect(throttlingOf(deltas, 'api-2', undefined, 5_000, 0)).toBeNull();
  });

  const instance = instanceSample;
  const sample = (instances: InstanceSample[], cpuLimits: Sample['cpuLimits']): Sample => quietSample(1_000, instances, { cpuLimits });

  it('Prometheus gets the limit, the CFS counters (as cAdvisor names them) and whether the limit is enforced', () => {
    const throttling = {
      throttledShare: 0.75,
      throttledSecondsPerSec: 0.9,
      periodsTotal: 120,
      throttledPeriodsTotal: 25,
      throttledSecondsTotal: 2.8,
    };
    const text = renderPrometheus(
      sample([instance({ cpuLimitMillicores: 100, throttling }), instance({ id: 'api-2' })], {
        api: 100,
        worker: null,
        enforcedBy: null,
        notEnforced: 'cpu limit not enforced here (x)',
      }),
    );
    expect(text).toContain('# TYPE scalelab_instance_cpu_cfs_throttled_periods_total counter');
    expect(text).toContain('scalelab_instance_cpu_limit_cores{stack="s",instance="api-1",service="api"} 0.1');
    expect(text).toContain('scalelab_instance_cpu_cfs_periods_total{stack="s",instance="api-1",service="api"} 120');
    expect(text).toContain('scalelab_instance_cpu_cfs_throttled_periods_total{stack="s",instance="api-1",service="api"} 25');
    expect(text).toContain('scalelab_instance_cpu_cfs_throttled_seconds_total{stack="s",instance="api-1",service="api"} 2.8');
    expect(text).toContain('scalelab_instance_cpu_throttled_ratio{stack="s",instance="api-1",service="api"} 0.75');
    expect(text).not.toContain('instance="api-2",service="api"} 120');
    expect(text).toContain('scalelab_cpu_limit_enforced{stack="s",service="api"} 0');
    expect(text).not.toContain('scalelab_cpu_limit_enforced{stack="s",service="worker"}');
  });

  it('a scenario report draws the throttling of limited replicas, and no such chart without a limit', () => {
    const throttled = (share: number) =>
      instance({
        cpuLimitMillicores: 100,
        throttling: {
          throttledShare: share,
          throttledSecondsPerSec: share,
          periodsTotal: 1,
          throttledPeriodsTotal: 1,
          throttledSecondsTotal: 1,
        },
      });
    const samples = [
      quietSample(1_000, [throttled(0.25), instance({ id: 'api-2' })]),
      quietSample(2_000, [throttled(0.75), instance({ id: 'api-2' })]),
    ];
    const chart = reportCharts(samples, [], 0, 3_000).find((c) => c.id === 'throttling');
    expect(chart?.series.map((s) => [s.name, s.values])).toEqual([['api-1', [25, 75]]]);
    expect(reportCharts([quietSample(1_000, [instance({})])], [], 0, 2_000).map((c) => c.id)).not.toContain('throttling');
  });

  it("the emulated HPA divides a replica's cpu by its own limit when it has one, else by the autoscaler's request", () => {
    const s = sample([instance({ id: 'api-1', cpu: 8, cpuLimitMillicores: 100 }), instance({ id: 'api-2', cpu: 8 })], null);
    const values = readings(s, 'api', 500).map((r) => r.values.cpu);
    expect(values.map((v) => Math.round(v!))).toEqual([80, 16]);
  });
});
