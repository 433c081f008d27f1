import { readdir, readFile } from 'node:fs/promises';

/**
 * CPU time from Linux's /proc, to show where a case's CPU went (server, PostgreSQL, Redis, wrk)
 * on a machine where the load generator and the stack share the same cores. Elsewhere every
 * figure is NaN and the report leaves the column empty.
 */

/** USER_HZ: the unit of /proc/<pid>/stat times; 100 on every mainstream Linux build. */
const TICKS_PER_SECOND = 100;

/** Process CPU seconds by group, machine-wide busy seconds, and when it was taken. */
export interface CpuSnapshot {
  at: number;
  groups: Record<string, number>;
  /** busy CPU seconds of the whole machine (all cores), from /proc/stat */
  machine: number;
}

interface ProcStat {
  ppid: number;
  /** utime + stime, plus cutime + cstime (children already reaped) when asked */
  ticks: number;
  childTicks: number;
}

async function procStat(pid: number | 'self'): Promise<ProcStat | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!text) return undefined;
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const n = (i: number) => Number(fields[i - 3]);
  return { ppid: n(4), ticks: n(14) + n(15), childTicks: n(16) + n(17) };
}

/** Every live process: pid → parent pid and CPU ticks. */
async function allProcesses(): Promise<Map<number, ProcStat>> {
  const table = new Map<number, ProcStat>();
  const entries = await readdir('/proc').catch(() => [] as string[]);
  await Promise.all(
    entries
      .filter((e) => /^\d+$/.test(e))
      .map(async (e) => {
        const stat = await procStat(Number(e));
        if (stat) table.set(Number(e), stat);
      }),
  );
  return table;
}

/** CPU seconds of `root` and all its descendants (PostgreSQL's backends, nginx's workers). */
function treeSeconds(table: Map<number, ProcStat>, root: number): number {
  let ticks = 0;
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.pop()!;
    const stat = table.get(pid);
    if (!stat) continue;
    ticks += stat.ticks;
    for (const [child, s] of table) if (s.ppid === pid) queue.push(child);
  }
  return ticks / TICKS_PER_SECOND;
}

async function machineBusySeconds(): Promise<number> {
  const text = await readFile('/proc/stat', 'utf8').catch(() => '');
  const values = (text.split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  if (values.length < 5) return Number.NaN;
  // user nice system idle iowait irq softirq steal …; guest time is already inside user.
  const busy = values.slice(0, 8).reduce((sum, v, i) => (i === 3 || i === 4 ? sum : sum + v), 0);
  return busy / TICKS_PER_SECOND;
}

/**
 * Takes a snapshot of the process trees in `roots`, and of the processes in `own` without their
 * children (a control plane whose replicas are its children); `wrk` is measured as this
 * process's reaped children, so take the second snapshot after wrk has exited.
 */
export async function cpuSnapshot(
  roots: Record<string, number | undefined>,
  own: Record<string, number | undefined> = {},
): Promise<CpuSnapshot> {
  const table = await allProcesses();
  const groups: Record<string, number> = {};
  for (const [name, pid] of Object.entries(roots))
    groups[name] = pid === undefined || !table.has(pid) ? Number.NaN : treeSeconds(table, pid);
  for (const [name, pid] of Object.entries(own))
    groups[name] = pid === undefined || !table.has(pid) ? Number.NaN : table.get(pid)!.ticks / TICKS_PER_SECOND;
  const self = await procStat('self');
  groups.wrk = self ? self.childTicks / TICKS_PER_SECOND : Number.NaN;
  return { at: performance.now(), groups, machine: await machineBusySeconds() };
}

/** Each group's CPU between two snapshots, in % of one core (200 = two cores busy). */
export function cpuPercent(before: CpuSnapshot, after: CpuSnapshot): Record<string, number> {
  const seconds = (after.at - before.at) / 1000;
  const percent = (a: number, b: number) => Math.round(((b - a) / seconds) * 100);
  const result: Record<string, number> = {};
  for (const name of Object.keys(after.groups)) result[name] = percent(before.groups[name] ?? Number.NaN, after.groups[name]!);
  result.machine = percent(before.machine, after.machine);
  // Busy time no process above accounts for: interrupts and softirqs (loopback TCP), other processes.
  const accounted = Object.values(result).reduce((sum, v) => sum + (Number.isNaN(v) ? 0 : v), 0) - result.machine;
  result.other = Math.max(0, result.machine - accounted);
  return result;
}
