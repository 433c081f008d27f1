import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import path from 'node:path';
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
 * How to run one of this project's Node entry points (path from the project root, without
 * extension), the way this module itself runs: compiled JavaScript when this module is the
 * build under dist/ (`npm run build`), else the TypeScript source through tsx.
 */
export function nodeEntryCommand(entry: string, flags: string[] = []): { command: string; args: string[]; cwd: string } {
  const root = new URL('../../../../', import.meta.url);
  const cwd = fileURLToPath(root);
  const js = fileURLToPath(new URL(`${entry}.js`, root));
  if (existsSync(js)) return { command: process.execPath, args: [...flags, js], cwd };
  const ts = fileURLToPath(new URL(`${entry}.ts`, root));
  return { command: process.execPath, args: [...flags, '--import', 'tsx', ts], cwd };
}

/**
 * How to run a backend program (see {@link nodeEntryCommand}). From dist/, or with
 * SCALELAB_BACKEND=dist (benchmarks run from source but measure the build users run), its
 * single-file bundle (scripts/bundle.mjs) when present: it starts in half the time.
 */
export function backendCommand(program: BackendProgram): { command: string; args: string[]; cwd: string } {
  const root = fileURLToPath(new URL('../../../../', import.meta.url));
  const fromDist = path.basename(root) === 'dist';
  if (fromDist || process.env.SCALELAB_BACKEND === 'dist') {
    const project = fromDist ? path.dirname(root) : root;
    const bundle = path.join(project, 'dist', `${ENTRIES[program]}.bundle.mjs`);
    if (existsSync(bundle)) return { command: process.execPath, args: [...NODE_FLAGS, bundle], cwd: project };
  }
  return nodeEntryCommand(ENTRIES[program], NODE_FLAGS);
}

/**
 * In the Electron main process `process.execPath` is Electron itself: this makes it run a
 * script as plain Node, as the replicas and the watchdog need.
 */
export function asNode(): Record<string, string> {
  return process.versions.electron ? { ELECTRON_RUN_AS_NODE: '1' } : {};
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
  const base: Record<string, string> = { NODE_ENV: 'production', ...asNode() };
  for (const name of ['PATH', 'HOME', 'TZ', 'LANG']) {
    const value = process.env[name];
    if (value !== undefined) base[name] = value;
  }
  try {
    // Its own process group: a Ctrl-C meant for the control plane does not reach it, so the
    // control plane stops replicas in order (balancer first, then drain).
    return spawn(command, args, { cwd, stdio: ['ignore', log, log], env: { ...base, ...options.env }, detached: true });
  } finally {
    closeSync(log);
  }
}
