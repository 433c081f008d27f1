/**
 * The runtimes one control plane can run a stack on: one per driver of the registry, made up front
 * (a probe asks them all), and what only the set can do, such as purging a stack wherever it left data.
 */
import type { Probe, RuntimeName } from '../contract.js';
import { StackStateError } from './errors.js';
import type { RuntimeDriver, RuntimeDriverOptions } from './runtimes/registry.js';
import type { OnProgress, Runtime } from './runtimes/runtime.js';

export class RuntimeSet {
  private readonly byName: Map<RuntimeName, Runtime>;

  constructor(
    readonly drivers: readonly RuntimeDriver[],
    options: RuntimeDriverOptions,
  ) {
    this.byName = new Map(drivers.map((d) => [d.name, d.create(options)]));
  }

  /** The first driver's runtime (local): the active one while no stack runs. */
  get first(): Runtime {
    return this.byName.get(this.drivers[0]!.name)!;
  }

  get(name: RuntimeName): Runtime {
    const runtime = this.byName.get(name);
    if (!runtime) throw new StackStateError(`no runtime "${name}"; known: ${[...this.byName.keys()].join(', ')}`);
    return runtime;
  }

  probe(): Promise<Probe[]> {
    return Promise.all([...this.byName.values()].map((r) => r.probe()));
  }

  /** Whether `name`'s down can delete the data in one go (Kubernetes: the namespace, PVC and all). */
  purgesOnDown(name: RuntimeName): boolean {
    return this.drivers.find((d) => d.name === name)?.purgesOnDown === true;
  }

  /** Deletes `stack` wherever a runtime owns some of it: containers, network and volume (Docker) or the namespace first, the folder with logs and secrets last. */
  async purge(stack: string, dir: string, onProgress: OnProgress): Promise<void> {
    for (const driver of [...this.drivers].reverse()) {
      if (await driver.owns(dir)) await driver.purge(this.byName.get(driver.name)!, stack, dir, onProgress);
    }
  }
}
