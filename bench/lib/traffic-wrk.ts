import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execWrk, killWrk, type WrkResult } from './wrk.js';

/**
 * wrk for the traffic benchmark: a full URL and no request script, so wrk sends one static
 * request (`GET /users/1`, what the generator sends too) at its cheapest; or, for a fixed
 * moderate rate, a tiny script whose `delay()` paces every connection.
 */

/** Options of {@link runPlainWrk}. */
export interface PlainWrkOptions {
  /** Full URL, path included. */
  url: string;
  durationS: number;
  threads: number;
  connections: number;
  /** A pacing script written by {@link writePacingScript}, and its mean delay in ms. */
  pacing?: { script: string; meanDelayMs: number };
}

/** Stops the wrk run in progress, if any (Ctrl-C). */
export const killPlainWrk = killWrk;

/** Runs `wrk --latency` and parses its report. */
export async function runPlainWrk(options: PlainWrkOptions): Promise<WrkResult> {
  const args = [`-t${options.threads}`, `-c${options.connections}`, `-d${options.durationS}s`, '--latency'];
  if (options.pacing) args.push('-s', options.pacing.script);
  args.push(options.url);
  if (options.pacing) args.push('--', options.pacing.meanDelayMs.toFixed(3));
  return execWrk(args);
}

// wrk calls delay() before each request on a connection and does not count it in the latency.
// A random delay (uniform in [0, 2 × mean], rounded to whole ms as wrk truncates it) keeps the
// connections from marching in step, so arrivals are spread out rather than in bursts of -c.
const PACING_LUA = `-- Paces each connection: waits a random delay (mean = args[1] ms) before each request.
function init(args)
  mean = tonumber(args[1]) or 10
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end

function delay()
  return math.floor(math.random() * 2 * mean + 0.5)
end
`;

/** Writes the pacing script into `dir` and returns its path. */
export async function writePacingScript(dir: string): Promise<string> {
  const file = path.join(dir, 'traffic-pacing.lua');
  await writeFile(file, PACING_LUA);
  return file;
}
