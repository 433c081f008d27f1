import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ScenarioSummary } from '../../contract.js';
import { projectRoot } from '../runtimes/docker/images.js';
import { parseScenario } from './scenario-file.js';
import { NamedError } from '../../../backend/named-error.js';

/** The built-in scenarios, in the order the player lists them. */
export const BUILTIN_IDS = [
  'black-friday',
  'cache-outage',
  'thundering-herd',
  'rolling-chaos',
  'queue-backlog',
  'replica-and-stream',
] as const;

/** No built-in scenario has that id. */
export class UnknownScenarioError extends NamedError {
  constructor(id: string) {
    super(`there is no built-in scenario "${id}"; the built-ins are ${BUILTIN_IDS.join(', ')}`);
  }
}

/** Where the built-ins' YAML files are (in the source tree, also when the control plane runs from dist/). */
export function builtinDir(): string {
  return path.join(projectRoot(), 'electron', 'control', 'scenarios', 'builtin');
}

/** A built-in's YAML text and file name. */
export async function readBuiltin(id: string): Promise<{ source: string; fileName: string }> {
  if (!(BUILTIN_IDS as readonly string[]).includes(id)) throw new UnknownScenarioError(id);
  const fileName = `${id}.yaml`;
  return { source: await readFile(path.join(builtinDir(), fileName), 'utf8'), fileName };
}

/** Every built-in with its name, description and length. */
export async function listBuiltins(): Promise<ScenarioSummary[]> {
  return Promise.all(
    BUILTIN_IDS.map(async (id) => {
      const { source, fileName } = await readBuiltin(id);
      const scenario = parseScenario(source, fileName);
      return { id, name: scenario.name, description: scenario.description ?? '', durationS: scenario.durationS };
    }),
  );
}
