import { readFile } from 'node:fs/promises';
import { sleep } from './bare.js';
import { cpuSnapshot, type CpuSnapshot } from './cpu.js';
import { cpuSince } from './quiet.js';

/**
 * quiet.ts counts as "ours" only this process's tree, but containers are not our children: they
 * run under the engine (containerd shims, their own cgroups). Without this, every container the
 * benchmark starts would count as someone else's work. Here the engine (dockerd and containerd,
 * from /var/run/docker.pid) and the containers (the `docker` cpuacct cgroup, which keeps the time
 * of containers already removed) are separated from the rest. The containerd shims and runc are
 * children of pid 1, in neither tree: they stay in "other".
 */

const DOCKERD_PID_FILE = '/var/run/docker.pid';
/** cgroup v1 with the cgroupfs driver; elsewhere the containers' share is NaN (counted as other). */
const CONTAINERS_CPUACCT = ['/sys/fs/cgroup/cpuacct/docker/cpuacct.usage', '/sys/fs/cgroup/cpu,cpuacct/docker/cpuacct.usage'];

/** One reading: this process's tree, the engine's tree, the containers' cgroup and the machine. */
export interface DockerCpuMark {
  snapshot: CpuSnapshot;
  /** CPU seconds of all containers since the engine started */
  containers: number;
}

/** % of one core between two marks. other = machine − ours − engine − containers. */
export interface DockerCpu {
  ours: number;
  engine: number;
  containers: number;
  machine: number;
  other: number;
}

async function dockerdPid(): Promise<number | undefined> {
  const text = await readFile(DOCKERD_PID_FILE, 'utf8').catch(() => '');
  const pid = Number(text.trim());
  return pid > 0 ? pid : undefined;
}

async function containerSeconds(): Promise<number> {
  for (const file of CONTAINERS_CPUACCT) {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text !== undefined) return Number(text.trim()) / 1e9;
  }
  return Number.NaN;
}

export async function dockerCpuMark(): Promise<DockerCpuMark> {
  // The same `ours` group as quiet.ts's cpuMark, plus the engine's tree.
  const [snapshot, containers] = await Promise.all([cpuSnapshot({ ours: process.pid, engine: await dockerdPid() }), containerSeconds()]);
  return { snapshot, containers };
}

export function dockerCpuSince(before: DockerCpuMark, after: DockerCpuMark): DockerCpu {
  const seconds = (after.snapshot.at - before.snapshot.at) / 1000;
  const percent = (a: number | undefined, b: number | undefined) => Math.round((((b ?? Number.NaN) - (a ?? Number.NaN)) / seconds) * 100);
  const { ours, machine } = cpuSince(before.snapshot, after.snapshot);
  const engine = percent(before.snapshot.groups.engine, after.snapshot.groups.engine);
  const containers = percent(before.containers, after.containers);
  const known = (n: number) => (Number.isNaN(n) ? 0 : n);
  return { ours, engine, containers, machine, other: Math.max(0, machine - ours - known(engine) - known(containers)) };
}

/**
 * quiet.ts's waitQuiet with the engine and containers counted as ours: waits until other work
 * uses less than `threshold` % of one core over `windowMs`, for at most `maxWaitMs`.
 */
export async function waitDockerQuiet(
  threshold: number,
  maxWaitMs: number,
  windowMs = 1_000,
): Promise<{ waitedMs: number; other: number }> {
  const start = Date.now();
  for (;;) {
    const before = await dockerCpuMark();
    await sleep(windowMs);
    const { other } = dockerCpuSince(before, await dockerCpuMark());
    if (Number.isNaN(other) || other < threshold || Date.now() - start >= maxWaitMs)
      return { waitedMs: Date.now() - start - windowMs, other };
  }
}
