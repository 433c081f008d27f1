import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AssertionResult, ScenarioStatus } from './contract.js';
import { parseAssertion } from './contract.js';
import type { ControlClient } from './control/client.js';
import { BUILTIN_IDS, readBuiltin } from './control/scenarios/builtin.js';
import { parseScenario } from './control/scenarios/scenario-file.js';

/** A mistake in the scenario command's arguments (exit code 2). */
export class ScenarioUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Options of `scalelab scenario`, as parsed by the CLI. */
export interface ScenarioArgs {
  report?: string;
  assert?: string[];
}

const USAGE = `usage: scalelab scenario run <file|builtin> [--report out.html] [--assert EXPR …] [--json]
       scalelab scenario list | validate <file|builtin>
built-ins: ${BUILTIN_IDS.join(', ')}`;

const ENDED = new Set(['passed', 'failed', 'aborted']);

/** A file path, or a built-in's id when no such file exists. */
async function source(what: string): Promise<{ source: string; fileName: string; builtin?: string }> {
  if (existsSync(what)) return { source: await readFile(what, 'utf8'), fileName: path.basename(what) };
  if ((BUILTIN_IDS as readonly string[]).includes(what)) return { ...(await readBuiltin(what)), builtin: what };
  throw new ScenarioUsageError(`"${what}" is neither a file nor a built-in scenario (${BUILTIN_IDS.join(', ')})`);
}

function mark(state: AssertionResult['state']): string {
  return { held: '✔ held  ', failed: '✘ failed', passing: '… passing', failing: '… failing', pending: '… pending' }[state];
}

function assertionLines(status: ScenarioStatus): string[] {
  return status.assertions.map(
    (a) =>
      `  ${mark(a.state)}  ${a.assertion.label ? `${a.assertion.label}: ` : ''}${a.text}  →  ${a.value ?? '–'}${a.detail ? `  (${a.detail})` : ''}`,
  );
}

/** Writes the report (HTML) and its samples (JSON beside it, same name). Returns both paths. */
async function writeReport(client: ControlClient, file: string, status: ScenarioStatus): Promise<[string, string]> {
  const report = await client.call('report:export', { from: status.startedAt ?? undefined, to: status.endedAt ?? undefined });
  const html = path.resolve(file);
  const json = html.replace(/\.html?$/i, '') + '.json';
  await writeFile(html, report.html);
  await writeFile(json, report.json);
  return [html, json];
}

/** `scalelab scenario run`: plays a scenario to its end; exit code 0 only when every assertion held. */
async function run(client: ControlClient, what: string, args: ScenarioArgs, json: boolean): Promise<number> {
  for (const text of args.assert ?? []) {
    try {
      parseAssertion(text);
    } catch (err) {
      throw new ScenarioUsageError(`--assert ${(err as Error).message}`);
    }
  }
  const file = await source(what);
  const loaded = await client.call(
    'scenario:load',
    file.builtin ? { builtin: file.builtin, assert: args.assert } : { source: file.source, fileName: file.fileName, assert: args.assert },
  );
  const started = Date.now();
  const say = (line: string) => !json && console.log(`[${String(Math.round((Date.now() - started) / 1000)).padStart(4)} s] ${line}`);
  if (!json)
    console.log(`Scenario "${loaded.name}": ${loaded.durationS} s, ${loaded.steps.length} steps, ${loaded.assertions.length} assertions`);
  const done = new Set<number>();
  let last: ScenarioStatus = loaded;
  const ended = new Promise<ScenarioStatus>((resolve) => {
    const off = client.on('scenario', (status) => {
      last = status;
      for (const step of status.steps) {
        if (step.state === 'pending' || done.has(step.index)) continue;
        done.add(step.index);
        say(
          `step ${step.index + 1}/${status.steps.length} at ${step.at} s: ${step.text}${step.state === 'failed' ? `  ✘ ${step.error}` : ''}`,
        );
      }
      if (ENDED.has(status.state)) {
        off();
        resolve(status);
      }
    });
  });
  const onInt = () => void client.call('scenario:reset', {}).finally(() => process.exit(130));
  process.once('SIGINT', onInt);
  try {
    const playing = await client.call('scenario:play', {});
    if (ENDED.has(playing.state)) last = playing;
    else {
      say(`stack "${playing.spec?.name ?? ''}" is up; playing`);
      last = await ended;
    }
  } finally {
    process.off('SIGINT', onInt);
  }
  const files = args.report ? await writeReport(client, args.report, last) : undefined;
  if (json) {
    console.log(
      JSON.stringify(
        {
          state: last.state,
          passed: last.state === 'passed',
          error: last.error,
          assertions: last.assertions,
          steps: last.steps,
          report: files ? { html: files[0], json: files[1] } : null,
        },
        null,
        2,
      ),
    );
  } else {
    console.log(`\n${last.state.toUpperCase()}: "${last.name}"${last.error ? ` (${last.error})` : ''}`);
    for (const line of assertionLines(last)) console.log(line);
    if (files) console.log(`\nReport  ${files[0]}\nSamples ${files[1]}`);
  }
  return last.state === 'passed' ? 0 : 1;
}

/** Runs `scalelab scenario …`; returns the exit code. */
export async function runScenario(
  connect: () => Promise<ControlClient>,
  rest: string[],
  args: ScenarioArgs,
  json: boolean,
): Promise<number> {
  const [verb, what] = rest;
  if (verb === 'validate') {
    if (!what) throw new ScenarioUsageError(USAGE);
    const file = await source(what);
    // Validated here, without a control plane: a CI step can check files before running them.
    const scenario = parseScenario(file.source, file.fileName);
    if (json)
      console.log(
        JSON.stringify({ valid: true, name: scenario.name, durationS: scenario.durationS, steps: scenario.steps.length }, null, 2),
      );
    else
      console.log(
        `${file.fileName}: valid ("${scenario.name}", ${scenario.durationS} s, ${scenario.steps.length} steps, ${scenario.assertions?.length ?? 0} assertions)`,
      );
    return 0;
  }
  if (verb !== 'run' && verb !== 'list') throw new ScenarioUsageError(USAGE);
  if (verb === 'run' && !what) throw new ScenarioUsageError(USAGE);
  const client = await connect();
  try {
    if (verb === 'list') {
      const list = await client.call('scenario:list', {});
      if (json) console.log(JSON.stringify(list, null, 2));
      else {
        const width = Math.max(...list.map((s) => s.id.length));
        for (const s of list) console.log(`${s.id.padEnd(width)}  ${String(s.durationS).padStart(4)} s  ${s.name}: ${s.description}`);
      }
      return 0;
    }
    return await run(client, what!, args, json);
  } finally {
    client.close();
  }
}
