import { spawn, type ChildProcess } from 'node:child_process';
import { NamedError } from '../../backend/named-error.js';

/** Options of {@link runWrk}. */
export interface WrkOptions {
  /** Base URL, e.g. http://127.0.0.1:3000 (the Lua script builds the path). */
  url: string;
  /** Lua script, relative to `cwd`. */
  script: string;
  /** Arguments passed to the script's init(args), after `--`. */
  scriptArgs?: string[];
  durationS: number;
  /** @defaultValue 2 */
  threads?: number;
  /** @defaultValue 64 */
  connections?: number;
  /** Folder wrk runs in, so `script` stays a short, reproducible path. */
  cwd: string;
}

/** What one wrk run measured. Latencies in milliseconds. */
export interface WrkResult {
  command: string;
  requests: number;
  durationS: number;
  rps: number;
  latencyMs: { avg: number; max: number; p50: number; p75: number; p90: number; p99: number };
  socketErrors: { connect: number; read: number; write: number; timeout: number };
  /** wrk's "Non-2xx or 3xx responses" */
  non2xx3xx: number;
  /** Printed by scripts that count statuses themselves (get-missing-id.lua). */
  statuses?: { expected: number; other: number };
}

/** Thrown when wrk fails or prints something this parser does not understand. */
export class WrkError extends NamedError {}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function toMs(value: string, unit: string): number {
  const factor = UNIT_MS[unit];
  if (factor === undefined) throw new WrkError(`unknown time unit "${unit}"`);
  return Number.parseFloat(value) * factor;
}

function match(text: string, re: RegExp, what: string): RegExpMatchArray {
  const m = text.match(re);
  if (!m) throw new WrkError(`wrk output has no ${what}:\n${text}`);
  return m;
}

/** Parses `wrk --latency` output (wrk 4.x). */
export function parseWrk(text: string, command = ''): WrkResult {
  const percentile = (p: number) => {
    const m = match(text, new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m|h)\\s*$`, 'm'), `${p}% latency line`);
    return toMs(m[1]!, m[2]!);
  };
  const latency = match(text, /^\s+Latency\s+([\d.]+)(us|ms|s|m|h)\s+\S+\s+([\d.]+)(us|ms|s|m|h)/m, 'Latency stats line');
  const total = match(text, /(\d+) requests in ([\d.]+)(us|ms|s|m|h)/, 'request count');
  const socket = text.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  const non = text.match(/Non-2xx or 3xx responses: (\d+)/);
  const statuses = text.match(/^status 404=(\d+) other=(\d+)$/m);
  return {
    command,
    requests: Number(total[1]),
    durationS: toMs(total[2]!, total[3]!) / 1000,
    rps: Number.parseFloat(match(text, /Requests\/sec:\s+([\d.]+)/, 'Requests/sec')[1]!),
    latencyMs: {
      avg: toMs(latency[1]!, latency[2]!),
      max: toMs(latency[3]!, latency[4]!),
      p50: percentile(50),
      p75: percentile(75),
      p90: percentile(90),
      p99: percentile(99),
    },
    socketErrors: {
      connect: Number(socket?.[1] ?? 0),
      read: Number(socket?.[2] ?? 0),
      write: Number(socket?.[3] ?? 0),
      timeout: Number(socket?.[4] ?? 0),
    },
    non2xx3xx: Number(non?.[1] ?? 0),
    ...(statuses ? { statuses: { expected: Number(statuses[1]), other: Number(statuses[2]) } } : {}),
  };
}

let running: ChildProcess | undefined;

/** Stops the wrk run in progress, if any (Ctrl-C). */
export function killWrk(): void {
  running?.kill('SIGTERM');
}

/** Runs wrk with `--latency` and parses its report. */
export async function runWrk(options: WrkOptions): Promise<WrkResult> {
  const args = [
    `-t${options.threads ?? 2}`,
    `-c${options.connections ?? 64}`,
    `-d${options.durationS}s`,
    '--latency',
    '-s',
    options.script,
    options.url,
    ...(options.scriptArgs?.length ? ['--', ...options.scriptArgs] : []),
  ];
  return execWrk(args, options.cwd);
}

/** Runs wrk with `args` (killable with {@link killWrk}) and parses its report. */
export async function execWrk(args: string[], cwd?: string): Promise<WrkResult> {
  const command = `wrk ${args.join(' ')}`;
  const output = await new Promise<string>((resolve, reject) => {
    let out = '';
    const child = spawn('wrk', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    running = child;
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', (err) => reject(new WrkError(`could not run wrk: ${err.message} (install it: apt-get install wrk)`)));
    child.once('exit', (code, signal) => {
      running = undefined;
      if (code === 0) resolve(out);
      else reject(new WrkError(`${command} failed (${signal ?? `exit ${code}`}):\n${out}`));
    });
  });
  return parseWrk(output, command);
}
