import { mkdir, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AutoscalerStatus, Instance, Probe, RuntimeName, StackSpec, StackStatus } from '../../../electron/contract.js';
import { ControlPlane } from '../../../electron/control/control-plane.js';
import { hasClusterAutoscaling, RUNTIME_DRIVERS, type RuntimeDriver } from '../../../electron/control/runtimes/registry.js';
import type { Runtime } from '../../../electron/control/runtimes/runtime.js';
import { ok } from '../support/envelope.js';
import { removeTempHome } from '../../support/temp-home.js';

/**
 * A stub runtime (named as a stub: no process, container or cluster behind it) registered with the
 * control plane through the driver list only. What it records shows the control plane asked it by
 * capability, never by name.
 */
class StubRuntime implements Runtime {
  readonly calls: string[] = [];
  private spec: StackSpec | undefined;
  private replicas: Instance[] = [];
  constructor(readonly name: RuntimeName) {}
  async probe(): Promise<Probe> {
    return { runtime: this.name, available: true, version: 'stub' };
  }
  async up(spec: StackSpec) {
    this.calls.push(`up ${spec.name}`);
    this.spec = spec;
    this.replicas = Array.from({ length: spec.replicas.api }, (_, i) => ({
      id: `api-${i + 1}`,
      service: 'api' as const,
      phase: 'ready' as const,
      restarts: 0,
      startedAt: Date.now(),
    }));
    return { balancer: `http://127.0.0.1:${spec.port}` };
  }
  async down(opts: { keepData: boolean }) {
    this.calls.push(`down keepData=${opts.keepData}`);
    this.spec = undefined;
    this.replicas = [];
  }
  async scale(_service: string, replicas: number) {
    this.calls.push(`scale ${replicas}`);
  }
  async instances() {
    return this.replicas;
  }
  currentInstances() {
    return this.replicas;
  }
  currentSpec() {
    return this.spec;
  }
  watch() {
    return () => undefined;
  }
  async stats() {
    return [];
  }
  async kill(id: string, how: string) {
    this.calls.push(`${how} ${id}`);
  }
  async outage() {}
  endOutage() {}
  adminToken() {
    return undefined;
  }
  async logs() {
    return [];
  }
  follow() {
    return () => undefined;
  }
  takeBalancerSnapshot() {
    return undefined;
  }
  metricsUrl() {
    return undefined;
  }
  async dispose() {}
}

/** The same, with the cluster-autoscaling capability (as Kubernetes' HPAs give). */
class ScalingStub extends StubRuntime {
  async configureAutoscaler() {
    this.calls.push('configureAutoscaler');
    return this.autoscalerStatus();
  }
  async autoscalerStatus(): Promise<AutoscalerStatus> {
    return { mode: 'hpa', api: null, worker: null };
  }
  autoscalerGauges() {
    return [];
  }
}

const made = new Map<string, StubRuntime>();
const purged: string[] = [];
function stubDriver(name: RuntimeName, make: (name: RuntimeName) => StubRuntime, extra: Partial<RuntimeDriver> = {}): RuntimeDriver {
  return {
    name,
    create: () => {
      const runtime = make(name);
      made.set(name, runtime);
      return runtime;
    },
    owns: async () => true,
    purge: async (_runtime, stack) => void purged.push(`${name} ${stack}`),
    ...extra,
  };
}

let home: string;
let controlPlane: ControlPlane;

beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'scalelab-registry-'));
  // Two stubs under the names the contract lets a spec ask for; the second can scale by itself.
  controlPlane = new ControlPlane({
    home,
    drivers: [stubDriver('local', (n) => new StubRuntime(n)), stubDriver('kubernetes', (n) => new ScalingStub(n), { purgesOnDown: true })],
  });
});
afterAll(async () => {
  await controlPlane?.close();
  await removeTempHome(home);
});

describe('runtime registry', () => {
  it('lists local, docker and kubernetes, and knows Kubernetes scales itself by its methods alone', () => {
    expect(RUNTIME_DRIVERS.map((d) => d.name)).toEqual(['local', 'docker', 'kubernetes']);
    expect(hasClusterAutoscaling(new ScalingStub('docker'))).toBe(true);
    expect(hasClusterAutoscaling(new StubRuntime('kubernetes'))).toBe(false);
  });

  it('probes every registered runtime, starts the asked one, and asks it by capability', async () => {
    const probes = await ok<Probe[]>(controlPlane.handle('runtime:probe', {}));
    expect(probes.map((p) => `${p.runtime} ${p.version}`)).toEqual(['local stub', 'kubernetes stub']);

    const up = await ok<StackStatus>(
      controlPlane.handle('stack:up', { name: 'stubbed', runtime: 'kubernetes', port: 47_999, replicas: { api: 2, worker: 0 } }),
    );
    expect(up.state).toBe('running');
    expect(up.instances.map((i) => i.id)).toEqual(['api-1', 'api-2']);
    const cluster = made.get('kubernetes')!;
    expect(cluster.calls).toEqual(['up stubbed']);
    // A runtime with cluster autoscaling gets the autoscaler commands instead of the emulated HPA.
    const configured = await ok<AutoscalerStatus>(controlPlane.handle('autoscaler:configure', { service: 'api', enabled: true }));
    expect(configured.mode).toBe('hpa');
    expect(cluster.calls).toContain('configureAutoscaler');
    await ok(controlPlane.handle('chaos:inject', { action: 'kill', target: 'api-2' }));
    expect(cluster.calls).toContain('kill api-2');
    expect(made.get('local')!.calls).toEqual([]);

    // Its down deletes the data itself (purgesOnDown); then every driver that owns the folder purges, the first registered last.
    await ok(controlPlane.handle('stack:down', { purge: true }));
    expect(cluster.calls.at(-1)).toBe('down keepData=false');
    expect(purged).toEqual(['kubernetes stubbed', 'local stubbed']);
  });

  it('a runtime without cluster autoscaling gets the emulated one, and down keeps the data unless it can purge separately', async () => {
    await ok(controlPlane.handle('stack:up', { name: 'plain', runtime: 'local', port: 47_998, replicas: { api: 1, worker: 0 } }));
    const status = await ok<AutoscalerStatus>(controlPlane.handle('autoscaler:status', {}));
    expect(status.mode).toBe('emulated');
    purged.length = 0;
    await ok(controlPlane.handle('stack:down', { purge: true }));
    expect(made.get('local')!.calls.at(-1)).toBe('down keepData=true');
    expect(purged).toEqual(['kubernetes plain', 'local plain']);
  });

  it('adoption asks each driver what it recorded in a stack folder, and restarts the stack on the first that did', async () => {
    const orphanHome = await mkdtemp(path.join(os.tmpdir(), 'scalelab-registry-orphan-'));
    await mkdir(path.join(orphanHome, 'stacks', 'orphan'), { recursive: true });
    const asked: string[] = [];
    // The first stub recorded nothing; the second recorded a stack whose control plane (a pid no process has) is gone.
    const recordedBy = (name: RuntimeName, has: boolean): Partial<RuntimeDriver> => ({
      recorded: async (dir) => {
        asked.push(`${name} ${path.basename(dir)}`);
        if (!has) return undefined;
        const orphan = { name: 'orphan', runtime: name, port: 47_997, replicas: { api: 1, worker: 0 } };
        return { spec: orphan as unknown as StackSpec, controlPid: 4_194_000, livePids: async () => [] };
      },
    });
    const plane = new ControlPlane({
      home: orphanHome,
      drivers: [
        stubDriver('local', (n) => new StubRuntime(n), recordedBy('local', false)),
        stubDriver('docker', (n) => new StubRuntime(n), recordedBy('docker', true)),
      ],
    });
    try {
      const adoption = await plane.adoptOrphans();
      expect(asked).toEqual(['local orphan', 'docker orphan']);
      // Nothing of it ran before the adoption's up: started afresh, and said so.
      expect(adoption).toEqual({ name: 'orphan', adopted: false });
      expect(made.get('docker')!.calls).toEqual(['up orphan']);
      expect(made.get('local')!.calls).toEqual([]);
    } finally {
      await plane.close();
      await removeTempHome(orphanHome);
    }
  });
});
