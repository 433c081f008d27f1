import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { isAlive } from './adopted-process.js';

const run = promisify(execFile);

/** A process a stack recorded: its role (`api`, `worker`, `redis`, `postgres`, `postgres-replica`, `watchdog`) and pid. */
export interface RecordedProcess {
  role: string;
  pid: number;
}

/** What each role's command line contains, so a reused pid is never mistaken for ours. */
const MARKERS: Record<string, string> = {
  api: 'backend/api/server',
  worker: 'backend/worker/main',
  redis: 'redis-server',
  postgres: 'postgres',
  'postgres-replica': 'postgres',
  watchdog: 'runtimes/local/watchdog',
  balancer: 'balancer/balancer-process',
  // HAProxy started with the stack's own configuration file (haproxy-launcher.ts HAPROXY_CONFIG).
  haproxy: 'scalelab-balancer.cfg',
  // A control plane: `scalelab serve` (electron/cli) or the Electron main process.
  control: 'electron/',
};

/**
 * Stop order: the watchdog and the service first, its data stores last (the replica before its
 * primary). The service's processes (balancer included) stop together; the balancer is listed last.
 */
const ORDER = ['watchdog', 'api', 'worker', 'balancer', 'haproxy', 'redis', 'postgres-replica', 'postgres'];

const isStore = (role: string) => role === 'redis' || role.startsWith('postgres');

async function commandOf(pid: number): Promise<string | undefined> {
  try {
    return (await run('ps', ['-p', String(pid), '-o', 'command='])).stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

/** True when `pid` is alive and its command line still matches `role`. */
export async function isOurs(role: string, pid: number): Promise<boolean> {
  const marker = MARKERS[role];
  return marker !== undefined && isAlive(pid) && ((await commandOf(pid))?.includes(marker) ?? false);
}

/** The recorded processes that are alive and still ours, in stop order. */
export async function liveProcesses(recorded: RecordedProcess[]): Promise<RecordedProcess[]> {
  const sorted = [...recorded].sort((a, b) => ORDER.indexOf(a.role) - ORDER.indexOf(b.role));
  const live: RecordedProcess[] = [];
  for (const entry of sorted) if (await isOurs(entry.role, entry.pid)) live.push(entry);
  return live;
}

/**
 * Stops recorded processes that are still alive (a previous control plane was killed, a terminal
 * closed), so nothing fights an orphan over a port or a data folder. Only pids whose command
 * line still matches their role are touched. Returns what it stopped.
 */
export async function reapProcesses(recorded: RecordedProcess[]): Promise<RecordedProcess[]> {
  const live = await liveProcesses(recorded);
  const stopOne = async ({ role, pid }: RecordedProcess) => {
    try {
      process.kill(pid, 'SIGCONT');
      // SIGINT is PostgreSQL's fast shutdown; everything else drains on SIGTERM.
      process.kill(pid, role.startsWith('postgres') ? 'SIGINT' : 'SIGTERM');
    } catch {
      return;
    }
    const deadline = Date.now() + 15_000;
    while (isAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  };
  // The service's processes together, then the stores one by one.
  await Promise.all(live.filter((p) => !isStore(p.role)).map(stopOne));
  for (const entry of live.filter((p) => isStore(p.role))) await stopOne(entry);
  return live;
}
