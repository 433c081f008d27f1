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
    if (Number.isNaN(other) || other < threshold || Date.now() - start >= maxWaitMs)
      return { waitedMs: Date.now() - start - windowMs, other };
  }
}

/** What one timed operation returns: its duration, and what to do once the clock and CPU marks stopped. */
export interface TimedRun {
  ms: number;
  after?: () => Promise<unknown>;
}

/** How a benchmark reads CPU: wait for quiet, take a mark, and the use between two marks. */
export interface CpuMeter<M, C extends { other: number }> {
  waitQuiet(threshold: number, maxWaitMs: number): Promise<{ waitedMs: number; other: number }>;
  mark(): Promise<M>;
  since(before: M, after: M): C;
}

/** One sample: its duration and the CPU used meanwhile (% of one core). */
export interface TimedSample<C extends { other: number }> {
  ms: number;
  cpu: C;
}

/**
 * Samples timed the same way in every control-plane benchmark: wait (bounded) for other work to
 * drop below `threshold`, run between two CPU marks, then clean up outside the measurement.
 */
export function createSampler<M, C extends { other: number }>(meter: CpuMeter<M, C>, threshold: number, maxWaitMs: number) {
  let waitedMs = 0;
  let gaveUp = 0;
  return {
    async sample(fn: () => Promise<TimedRun>): Promise<TimedSample<C>> {
      const quiet = await meter.waitQuiet(threshold, maxWaitMs);
      waitedMs += quiet.waitedMs;
      if (quiet.other >= threshold) gaveUp += 1;
      const before = await meter.mark();
      const run = await fn();
      const cpu = meter.since(before, await meter.mark());
      await run.after?.();
      return { ms: run.ms, cpu };
    },
    /** "1,234 ms (other 5%)" for progress lines. */
    show: (x: TimedSample<C>) => `${Math.round(x.ms)} ms (other ${x.cpu.other}%)`,
    /** Durations and other-CPU figures of a list, for a report case. */
    figures: (list: TimedSample<C>[]) => ({ samplesMs: list.map((x) => x.ms), otherCpu: list.map((x) => x.cpu.other) }),
    /** The settings line saying how long the quiet waits took. */
    quietNote: () =>
      `before each sample, wait (up to ${maxWaitMs / 1000} s) until other work uses < ${threshold}% of a core over 1 s; waited ${Math.round(waitedMs / 1000)} s in all, gave up ${gaveUp} times`,
  };
}
