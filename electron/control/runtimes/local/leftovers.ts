import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** pids of a stack's processes, by role, as recorded in its state folder. */
export type ProcessRecord = Record<string, number | undefined>;

/** What each role's command line contains, so a reused pid is never mistaken for ours. */
const MARKERS: Record<string, string> = {
  api: 'backend/api/server',
  worker: 'backend/worker/main',
  redis: 'redis-server',
  postgres: 'postgres',
};

/** Stop order: the service first, its data stores last. */
const ORDER = ['api', 'worker', 'redis', 'postgres'];

async function commandOf(pid: number): Promise<string | undefined> {
  try {
    return (await run('ps', ['-p', String(pid), '-o', 'command='])).stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Writes the record (pids only, no secrets). */
export async function recordProcesses(file: string, record: ProcessRecord): Promise<void> {
  await writeFile(file, JSON.stringify(record, null, 2));
}

/** Processes from the record that are alive and still ours, in stop order. */
async function ownLiveProcesses(file: string): Promise<{ role: string; pid: number }[]> {
  let record: ProcessRecord;
  try {
    record = JSON.parse(await readFile(file, 'utf8')) as ProcessRecord;
  } catch {
    return [];
  }
  const live: { role: string; pid: number }[] = [];
  for (const role of ORDER) {
    const pid = record[role];
    if (pid && alive(pid) && (await commandOf(pid))?.includes(MARKERS[role]!)) live.push({ role, pid });
  }
  return live;
}

/** Roles from the record whose process is alive and still ours. */
export async function liveProcesses(file: string): Promise<string[]> {
  return (await ownLiveProcesses(file)).map((p) => p.role);
}

/**
 * Stops processes a previous run left behind (its terminal was closed, it was killed), so a new
 * run never fights an orphan over a port or a data folder. Only pids whose command line still
 * matches their role are touched. Returns the roles it stopped.
 */
export async function reapLeftovers(file: string): Promise<string[]> {
  const stopped: string[] = [];
  for (const { role, pid } of await ownLiveProcesses(file)) {
    // SIGINT is PostgreSQL's fast shutdown; everything else drains on SIGTERM.
    process.kill(pid, role === 'postgres' ? 'SIGINT' : 'SIGTERM');
    const deadline = Date.now() + 15_000;
    while (alive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    if (alive(pid)) process.kill(pid, 'SIGKILL');
    stopped.push(role);
  }
  return stopped;
}
