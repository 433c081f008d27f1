import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The service's two programs. */
export type BackendProgram = 'api' | 'worker';

const ENTRIES: Record<BackendProgram, string> = { api: 'backend/api/server', worker: 'backend/worker/main' };

/**
 * A larger young generation: a busy replica allocates a few objects per request, and with V8's
 * default 16 MiB semi-space it spends a quarter of its time in scavenges (see bench/results).
 */
export const NODE_FLAGS = ['--max-semi-space-size=64'];

/**
 * How to run a backend program: the compiled JavaScript next to this module when it exists
 * (`npm run build`), else the TypeScript source through tsx (tests and development).
 */
export function backendCommand(program: BackendProgram): { command: string; args: string[]; cwd: string } {
  const root = new URL('../../../../', import.meta.url);
  const cwd = fileURLToPath(root);
  const js = fileURLToPath(new URL(`${ENTRIES[program]}.js`, root));
  if (existsSync(js)) return { command: process.execPath, args: [...NODE_FLAGS, js], cwd };
  const ts = fileURLToPath(new URL(`${ENTRIES[program]}.ts`, root));
  return { command: process.execPath, args: [...NODE_FLAGS, '--import', 'tsx', ts], cwd };
}

/** Options of {@link spawnBackend}. */
export interface SpawnBackendOptions {
  /** Environment of the service (PORT, DATABASE_URL, …), added to a minimal base. */
  env: Record<string, string>;
  /** File receiving stdout and stderr. */
  logFile: string;
}

/**
 * Starts an api or worker process. Its environment is built from scratch plus PATH and HOME,
 * so the control plane's own secrets never leak into the stack.
 */
export function spawnBackend(program: BackendProgram, options: SpawnBackendOptions): ChildProcess {
  const { command, args, cwd } = backendCommand(program);
  const log = openSync(options.logFile, 'a');
  const base: Record<string, string> = { NODE_ENV: 'production' };
  for (const name of ['PATH', 'HOME', 'TZ', 'LANG']) {
    const value = process.env[name];
    if (value !== undefined) base[name] = value;
  }
  try {
    return spawn(command, args, { cwd, stdio: ['ignore', log, log], env: { ...base, ...options.env } });
  } finally {
    closeSync(log);
  }
}
