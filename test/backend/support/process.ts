import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { spawnBackend, type BackendProgram } from '../../../electron/control/runtimes/local/backend-process.js';
import { freePort } from '../../../electron/control/runtimes/local/ports.js';
import { eventually } from './api.js';

/** A real api or worker process, as the local runtime starts it. */
export interface BackendChild {
  child: ChildProcess;
  logFile: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  log(): Promise<string>;
}

export function startBackend(program: BackendProgram, dir: string, env: Record<string, string>): BackendChild {
  const logFile = path.join(dir, `${program}-${Date.now()}-${Math.random().toString(36).slice(2, 7)}.log`);
  const child = spawnBackend(program, { env: { LOG_LEVEL: 'info', ...env }, logFile });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, logFile, exited, log: () => readFile(logFile, 'utf8').catch(() => '') };
}

/** Starts an api process on a free port and waits for /readyz. */
export async function startApiProcess(dir: string, env: Record<string, string>): Promise<BackendChild & { url: string }> {
  const port = await freePort();
  const api = startBackend('api', dir, { PORT: String(port), ...env });
  const url = `http://127.0.0.1:${port}`;
  await eventually('the api process is ready', async () => (await fetch(`${url}/readyz`)).ok, 30_000).catch(async (err: Error) => {
    throw new Error(`${err.message}\n${await api.log()}`);
  });
  return { ...api, url };
}
