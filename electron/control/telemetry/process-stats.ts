import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';

/** CPU and memory of one process. */
export interface ProcessUsage {
  /** % of one core since the previous reading (100 = one core busy); the lifetime average on the first. */
  cpu: number | null;
  rssBytes: number | null;
}

/** Options of {@link ProcessStats}. */
export interface ProcessStatsOptions {
  /**
   * Where to read: `/proc` (Linux) or `ps` (elsewhere, and where /proc is missing).
   * @defaultValue 'proc' on Linux when /proc/self/stat is readable, else 'ps'
   */
  method?: 'proc' | 'ps';
  /** Longest a `ps` or `getconf` call may take. @defaultValue 700 */
  timeoutMs?: number;
}

interface ProcReading {
  /** utime + stime, clock ticks */
  ticks: number;
  /** start time after boot, clock ticks: tells a reused pid from the process seen before */
  startTicks: number;
  /** ms since epoch */
  t: number;
}

function run(command: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    // `ps -p` exits 1 when some pid is gone while still printing the others: keep its stdout.
    execFile(command, args, { timeout: timeoutMs, encoding: 'utf8' }, (_err, stdout) => resolve(stdout ?? ''));
  });
}

async function getconf(name: string, fallback: number, timeoutMs: number): Promise<number> {
  const value = Number.parseInt((await run('getconf', [name], timeoutMs)).trim(), 10);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

/** Fields of /proc/<pid>/stat after the command name, which may itself hold spaces and parentheses. */
function statFields(text: string): string[] | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  // fields[0] is field 3 of proc(5), `state`.
  return text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
}

/**
 * CPU % and RSS of processes by pid. CPU is delta-based: the ticks a process used between two
 * readings over the wall time between them, as `top` shows it, not `ps`'s lifetime average.
 */
export class ProcessStats {
  private readonly method: 'proc' | 'ps';
  private readonly timeoutMs: number;
  private readonly previous = new Map<number, ProcReading>();
  private constants: Promise<{ clockTicks: number; pageSize: number }> | undefined;

  constructor(options: ProcessStatsOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 700;
    this.method = options.method ?? (process.platform === 'linux' ? 'proc' : 'ps');
  }

  /** Usage of each pid that could be read; pids that are gone are missing from the map. */
  async read(pids: number[]): Promise<Map<number, ProcessUsage>> {
    const unique = [...new Set(pids.filter((p) => Number.isInteger(p) && p > 0))];
    for (const pid of this.previous.keys()) if (!unique.includes(pid)) this.previous.delete(pid);
    if (unique.length === 0) return new Map();
    if (this.method === 'proc') {
      const fromProc = await this.readProc(unique).catch(() => undefined);
      if (fromProc) return fromProc;
    }
    return this.readPs(unique);
  }

  private async readProc(pids: number[]): Promise<Map<number, ProcessUsage> | undefined> {
    this.constants ??= Promise.all([getconf('CLK_TCK', 100, this.timeoutMs), getconf('PAGESIZE', 4096, this.timeoutMs)]).then(
      ([clockTicks, pageSize]) => ({ clockTicks, pageSize }),
    );
    const { clockTicks, pageSize } = await this.constants;
    // Throws where /proc is missing, which sends the caller to `ps`.
    const uptimeSeconds = Number.parseFloat(await readFile('/proc/uptime', 'utf8'));
    const out = new Map<number, ProcessUsage>();
    await Promise.all(
      pids.map(async (pid) => {
        const [stat, statm] = await Promise.all([readFile(`/proc/${pid}/stat`, 'utf8'), readFile(`/proc/${pid}/statm`, 'utf8')]).catch(
          () => [undefined, undefined],
        );
        const fields = stat === undefined ? undefined : statFields(stat);
        if (!fields || statm === undefined) {
          this.previous.delete(pid);
          return;
        }
        const t = Date.now();
        // proc(5): utime is field 14, stime 15, starttime 22; fields[0] is field 3.
        const ticks = Number(fields[11]) + Number(fields[12]);
        const startTicks = Number(fields[19]);
        const residentPages = Number(statm.trim().split(/\s+/)[1]);
        const rssBytes = Number.isFinite(residentPages) ? residentPages * pageSize : null;
        const prev = this.previous.get(pid);
        let cpu: number | null = null;
        if (Number.isFinite(ticks)) {
          if (prev && prev.startTicks === startTicks && t > prev.t) {
            cpu = ((ticks - prev.ticks) / clockTicks / ((t - prev.t) / 1000)) * 100;
          } else {
            const aliveSeconds = uptimeSeconds - startTicks / clockTicks;
            cpu = aliveSeconds > 0 ? (ticks / clockTicks / aliveSeconds) * 100 : null;
          }
          this.previous.set(pid, { ticks, startTicks, t });
        }
        out.set(pid, { cpu: cpu === null ? null : Math.max(0, round(cpu)), rssBytes });
      }),
    );
    return out;
  }

  /** `ps` everywhere else: its %cpu is the platform's own (a decaying average on macOS). */
  private async readPs(pids: number[]): Promise<Map<number, ProcessUsage>> {
    const stdout = await run('ps', ['-o', 'pid=,%cpu=,rss=', '-p', pids.join(',')], this.timeoutMs);
    const out = new Map<number, ProcessUsage>();
    for (const line of stdout.split('\n')) {
      const [pid, cpu, rssKib] = line.trim().split(/\s+/).map(Number);
      if (pid === undefined || !pids.includes(pid)) continue;
      out.set(pid, {
        cpu: Number.isFinite(cpu) ? (cpu as number) : null,
        rssBytes: Number.isFinite(rssKib) ? (rssKib as number) * 1024 : null,
      });
    }
    return out;
  }
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
