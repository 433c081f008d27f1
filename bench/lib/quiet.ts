import { cpuSnapshot, type CpuSnapshot } from './cpu.js';
import { sleep } from './bare.js';

/**
 * How busy the rest of the machine is. Start-up times are CPU-bound, so work that is not ours
 * (another test run on a shared VM) inflates every figure: the control benchmark waits for a
 * quiet moment before each sample and records how much "other" CPU each sample saw.
 */

/** CPU of this process and everything it spawned (alive, or exited and reaped), and of the machine. */
export function cpuMark(): Promise<CpuSnapshot> {
  // cpuSnapshot's `wrk` group is this process's reaped children: replicas, floors, PostgreSQL.
  return cpuSnapshot({ ours: process.pid });
}

/** % of one core between two marks: ours, the machine's, and other = machine − ours. */
export function cpuSince(before: CpuSnapshot, after: CpuSnapshot): { ours: number; machine: number; other: number } {
  const seconds = (after.at - before.at) / 1000;
  const ours = (s: CpuSnapshot) => (s.groups.ours ?? 0) + (s.groups.wrk ?? 0);
  const percent = (a: number, b: number) => Math.round(((b - a) / seconds) * 100);
  const machine = percent(before.machine, after.machine);
  const own = percent(ours(before), ours(after));
  return { ours: own, machine, other: Math.max(0, machine - own) };
}

/**
 * Waits until other work uses less than `threshold` % of one core over a `windowMs` window,
 * for at most `maxWaitMs`. Returns how long it waited and the last window's other %.
 */
export async function waitQuiet(threshold: number, maxWaitMs: number, windowMs = 1_000): Promise<{ waitedMs: number; other: number }> {
  const start = Date.now();
  for (;;) {
    const before = await cpuMark();
    await sleep(windowMs);
    const { other } = cpuSince(before, await cpuMark());
    if (Number.isNaN(other) || other < threshold || Date.now() - start >= maxWaitMs) return { waitedMs: Date.now() - start - windowMs, other };
  }
}
