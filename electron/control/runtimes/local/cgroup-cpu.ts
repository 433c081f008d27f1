import { constants } from 'node:fs';
import { access, mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CpuCounters } from '../runtime.js';

/**
 * The Linux cgroup cpu controller as the local runtime uses it: ScaleLab's own child groups
 * (`<base>/scalelab/<stack>/<instance>`), each with a CFS quota, on cgroup v2 (`cpu.max`) where a
 * delegated, writable subtree has the cpu controller, else on the v1 cpu hierarchy as root
 * (`cpu.cfs_quota_us`). Nothing outside ScaleLab's folder is created, changed or removed.
 */

/** Where ScaleLab's groups go: the hierarchy's version and the folder `scalelab/` is made in. */
export interface CgroupBase {
  version: 1 | 2;
  base: string;
}

/** What {@link findCgroupBase} found: a base, or why limits cannot be enforced here. */
export type CgroupProbe = { ok: true; base: CgroupBase; enforcedBy: string } | { ok: false; why: string };

/** The CFS period: Kubernetes' and Docker's default, 100 ms. */
export const CFS_PERIOD_US = 100_000;

/** The environment variable that names the cgroup directory to use (tests point it somewhere unusable). */
export const CGROUP_ROOT_ENV = 'SCALELAB_CGROUP_ROOT';

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );
const writable = (p: string) =>
  access(p, constants.W_OK).then(
    () => true,
    () => false,
  );
const readText = (p: string) => readFile(p, 'utf8').catch(() => '');

/** The kind of cgroup directory `dir` is, by the files in it; undefined when it is none. */
async function versionOf(dir: string): Promise<1 | 2 | undefined> {
  if (await exists(path.join(dir, 'cgroup.controllers'))) return 2;
  if (await exists(path.join(dir, 'cpu.cfs_quota_us'))) return 1;
  return undefined;
}

/** Checks a directory named by the user (or a test): a writable v1 cpu or v2 group with the cpu controller. */
async function checkGiven(dir: string): Promise<CgroupProbe> {
  const named = `${CGROUP_ROOT_ENV}=${dir}`;
  const version = await versionOf(dir);
  if (!version) return { ok: false, why: `${named} is not a cgroup cpu directory` };
  if (!(await writable(dir))) return { ok: false, why: `${named} is not writable` };
  if (version === 2 && !(await readText(path.join(dir, 'cgroup.controllers'))).split(/\s+/).includes('cpu'))
    return { ok: false, why: `${named} has no cpu controller` };
  return { ok: true, base: { version, base: dir }, enforcedBy: enforcedBy(version) };
}

function enforcedBy(version: 1 | 2): string {
  return version === 2 ? 'cgroup v2 cpu.max' : 'cgroup v1 cpu.cfs_quota_us';
}

interface Mount {
  dir: string;
  type: string;
  options: string[];
}

function mounts(text: string): Mount[] {
  return text
    .split('\n')
    .map((line) => line.split(' '))
    .filter((f) => f.length >= 4)
    .map((f) => ({ dir: f[1]!.replace(/\\040/g, ' '), type: f[2]!, options: f[3]!.split(',') }));
}

/** This process's group in each hierarchy: `0` → its v2 path, and each v1 controller → its path. */
function ownGroups(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const [id, controllers, group] = line.split(':');
    if (group === undefined) continue;
    if (id === '0') out.set('', group);
    for (const c of controllers!.split(',')) if (c) out.set(c, group);
  }
  return out;
}

/**
 * Where this machine lets ScaleLab hold processes to a cpu quota. Linux only; `SCALELAB_CGROUP_ROOT`
 * names the directory outright. Otherwise cgroup v2 first, in a subtree this process may write
 * (its own group's, as systemd's Delegate= gives it; the root as root) whose cpu controller is on
 * or can be turned on for children; then the v1 cpu hierarchy, which needs root.
 */
export async function findCgroupBase(options: { root?: string; platform?: NodeJS.Platform } = {}): Promise<CgroupProbe> {
  const platform = options.platform ?? process.platform;
  if (platform !== 'linux') {
    const name = platform === 'darwin' ? 'macOS' : platform === 'win32' ? 'Windows' : platform;
    return { ok: false, why: `${name} has no cgroups for local processes; the docker runtime enforces limits` };
  }
  const given = options.root ?? process.env[CGROUP_ROOT_ENV];
  if (given) return checkGiven(given);
  const [table, own] = await Promise.all([readText('/proc/self/mounts'), readText('/proc/self/cgroup')]);
  const groups = ownGroups(own);
  const reasons: string[] = [];
  for (const m of mounts(table).filter((m) => m.type === 'cgroup2')) {
    const mine = path.resolve(m.dir, `.${groups.get('') ?? '/'}`);
    for (const dir of [...new Set([mine, m.dir])]) {
      const controllers = (await readText(path.join(dir, 'cgroup.controllers'))).split(/\s+/);
      if (!controllers.includes('cpu')) {
        reasons.push(`cgroup v2 at ${dir} has no cpu controller`);
        continue;
      }
      if (!(await writable(dir))) {
        reasons.push(`cgroup v2 at ${dir} is not writable: no delegated subtree`);
        continue;
      }
      // A group with processes of its own cannot hand the controller to children (v2's rule).
      const delegated = await delegateCpu(dir).then(
        () => undefined,
        (err: NodeJS.ErrnoException) => err.code ?? err.message,
      );
      if (delegated) {
        reasons.push(`cgroup v2 at ${dir} cannot give its children the cpu controller: ${delegated}`);
        continue;
      }
      return { ok: true, base: { version: 2, base: dir }, enforcedBy: enforcedBy(2) };
    }
  }
  const v1 = mounts(table).find((m) => m.type === 'cgroup' && m.options.includes('cpu'));
  if (v1) {
    const dir = path.resolve(v1.dir, `.${groups.get('cpu') ?? '/'}`);
    if (await writable(dir)) return { ok: true, base: { version: 1, base: dir }, enforcedBy: enforcedBy(1) };
    reasons.push(`the cgroup v1 cpu controller at ${dir} is not writable: it needs root`);
  }
  return { ok: false, why: reasons.length > 0 ? reasons.join('; ') : 'no cgroup cpu controller is mounted' };
}

/** Adds `+cpu` to a v2 group's subtree_control unless it is there: its children get cpu.max. */
async function delegateCpu(dir: string): Promise<void> {
  const file = path.join(dir, 'cgroup.subtree_control');
  if ((await readText(file)).split(/\s+/).includes('cpu')) return;
  await writeFile(file, '+cpu');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One stack's groups under a {@link CgroupBase}: `<base>/scalelab/<stack>/<instance>`.
 * Every method throws the file system's error; callers decide what a failure means.
 */
export class StackCgroups {
  readonly root: string;
  readonly dir: string;

  constructor(
    readonly base: CgroupBase,
    stack: string,
  ) {
    this.root = path.join(base.base, 'scalelab');
    this.dir = path.join(this.root, stack);
  }

  /** The group of one instance. */
  group(id: string): string {
    if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(id)) throw new RangeError(`not an instance id: "${id}"`);
    return path.join(this.dir, id);
  }

  /** Makes (or keeps) an instance's group with a quota of `millicores`, and moves `pid` into it. */
  async hold(id: string, pid: number, millicores: number): Promise<void> {
    const group = this.group(id);
    if (this.base.version === 2) {
      await delegateCpu(this.base.base);
      await mkdir(this.root, { recursive: true });
      await delegateCpu(this.root);
      await mkdir(this.dir, { recursive: true });
      await delegateCpu(this.dir);
    }
    await mkdir(group, { recursive: true });
    await this.setQuota(id, millicores);
    // cgroup.procs moves the whole process, every thread it has started so far.
    await writeFile(path.join(group, 'cgroup.procs'), String(pid));
  }

  /** Changes a group's quota in place (null: none): the processes in it are held to the new one at once. */
  async setQuota(id: string, millicores: number | null): Promise<void> {
    const group = this.group(id);
    const quota = millicores === null ? null : Math.round((millicores / 1000) * CFS_PERIOD_US);
    if (this.base.version === 2) {
      await writeFile(path.join(group, 'cpu.max'), `${quota ?? 'max'} ${CFS_PERIOD_US}`);
    } else {
      await writeFile(path.join(group, 'cpu.cfs_period_us'), String(CFS_PERIOD_US));
      await writeFile(path.join(group, 'cpu.cfs_quota_us'), String(quota ?? -1));
    }
  }

  /** The instances that have a group now. */
  async list(): Promise<string[]> {
    const entries = await readdir(this.dir, { withFileTypes: true }).catch(() => []);
    return entries.filter((e) => e.isDirectory()).map((e) => e.name);
  }

  /** A group's CFS counters; undefined when it does not exist. */
  async counters(id: string): Promise<CpuCounters | undefined> {
    const text = await readFile(path.join(this.group(id), 'cpu.stat'), 'utf8').catch(() => undefined);
    return text === undefined ? undefined : parseCpuStat(text);
  }

  /**
   * Removes an instance's group. A process that just exited can linger in it for a moment, so an
   * EBUSY is retried for up to a second; a missing group is no error.
   */
  async remove(id: string): Promise<void> {
    const group = this.group(id);
    for (let attempt = 0; ; attempt += 1) {
      try {
        await rmdir(group);
        return;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return;
        if (code !== 'EBUSY' || attempt >= 20) throw err;
        await sleep(50);
      }
    }
  }

  /** Removes the stack's folder, and ScaleLab's when no other stack has one. Groups left inside keep them. */
  async removeStack(): Promise<void> {
    for (const dir of [this.dir, this.root]) {
      try {
        await rmdir(dir);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') continue;
        // Another stack's groups, or a process still inside: leave it.
        if (code === 'EBUSY' || code === 'ENOTEMPTY') return;
        throw err;
      }
    }
  }
}

/**
 * Removes what is left of a stack's groups once its processes are gone (the watchdog, after it
 * stopped an abandoned stack): a group with a process still inside stays. Never throws.
 */
export async function removeStackGroups(stack: string): Promise<void> {
  const probe = await findCgroupBase().catch(() => undefined);
  if (!probe?.ok) return;
  const groups = new StackCgroups(probe.base, stack);
  for (const id of await groups.list()) await groups.remove(id).catch(() => undefined);
  await groups.removeStack().catch(() => undefined);
}

/** cpu.stat of v1 (nr_periods, nr_throttled, throttled_time in ns) or v2 (…, throttled_usec). */
export function parseCpuStat(text: string): CpuCounters {
  const fields = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined) fields.set(key, Number(value));
  }
  const seconds = fields.has('throttled_usec') ? (fields.get('throttled_usec') ?? 0) / 1e6 : (fields.get('throttled_time') ?? 0) / 1e9;
  return { periods: fields.get('nr_periods') ?? 0, throttledPeriods: fields.get('nr_throttled') ?? 0, throttledSeconds: seconds };
}
