import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import {
  AssertionObjectSchema,
  AssertionSyntaxError,
  parseAssertion,
  SCENARIO_SOURCE_MAX_CHARS,
  ScenarioSchema,
  STEP_KINDS,
  STEP_SCHEMAS,
  type Scenario,
} from '../../contract.js';
import { NamedError } from '../../../backend/named-error.js';

/** A scenario file that does not parse or does not fit the schema; the message names line and field. */
export class ScenarioFileError extends NamedError {
  constructor(
    message: string,
    /** Each problem as `file:line:column: field: what is wrong`. */
    readonly problems: string[],
  ) {
    super(message);
  }
}

/** Problems reported at most. */
const MAX_PROBLEMS = 8;

/** The list limits the schema states (steps ≤ 500, assertions ≤ 100), read from it so they cannot drift. */
const LIST_LIMITS = (['steps', 'assertions'] as const).map((key) => ({
  key,
  max: (ScenarioSchema.properties[key] as { maxItems?: number }).maxItems ?? Infinity,
}));

type Path = (string | number)[];

function pathOf(instancePath: string): Path {
  return instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

function fieldName(path: Path): string {
  return (
    path.reduce<string>((out, part) => (typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${part}` : part), '') || '(the file)'
  );
}

/** Where a field is in the source: the deepest node of `path` that exists. */
function where(doc: Document, lines: LineCounter, path: Path): { line: number; col: number } {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth), true);
    if (isNode(node) && node.range) return lines.linePos(node.range[0]);
  }
  return { line: 1, col: 1 };
}

/** For a union whose members each fix one property to a constant (`action: kill`), that property. */
function discriminator(variants: TSchema[]): string | undefined {
  const first = variants[0] as { properties?: Record<string, { const?: unknown }> } | undefined;
  return Object.keys(first?.properties ?? {}).find((key) =>
    variants.every((v) => (v as { properties?: Record<string, { const?: unknown }> }).properties?.[key]?.const !== undefined),
  );
}

/**
 * Problems of `value` against `schema`, one message per field. A union of tagged objects is judged
 * against the member its tag names (or says which tags exist), not against every member at once.
 */
function schemaProblems(schema: TSchema, value: unknown, base: Path): { path: Path; message: string }[] {
  const s = schema as { anyOf?: TSchema[]; properties?: Record<string, TSchema> };
  if (s.anyOf) {
    const key = discriminator(s.anyOf);
    if (key && typeof value === 'object' && value !== null) {
      const tag = (value as Record<string, unknown>)[key];
      const member = s.anyOf.find((v) => (v as { properties: Record<string, { const?: unknown }> }).properties[key]!.const === tag);
      if (!member) {
        const tags = s.anyOf.map((v) => (v as { properties: Record<string, { const?: unknown }> }).properties[key]!.const);
        return [
          { path: [...base, key], message: `must be one of ${tags.join(', ')}${tag === undefined ? '' : ` (not ${JSON.stringify(tag)})`}` },
        ];
      }
      return schemaProblems(member, value, base);
    }
  }
  if (s.properties && typeof value === 'object' && value !== null && !Array.isArray(value)) {
    // Nested tagged unions (a chaos step's action) get the same treatment; the rest of the object is judged as usual.
    const unions = Object.entries(s.properties)
      .filter(([key, child]) => (child as { anyOf?: unknown }).anyOf && key in value)
      .map(([key]) => key);
    if (unions.length > 0) {
      const nested = unions.flatMap((key) => schemaProblems(s.properties![key]!, (value as Record<string, unknown>)[key], [...base, key]));
      const rest = [...Value.Errors(schema, value)].filter(
        (e) => !unions.some((key) => e.instancePath === `/${key}` || e.instancePath.startsWith(`/${key}/`)),
      );
      return [...dedupe(rest.map((e) => ({ path: [...base, ...pathOf(e.instancePath)], message: e.message }))), ...nested];
    }
  }
  return dedupe([...Value.Errors(schema, value)].map((e) => ({ path: [...base, ...pathOf(e.instancePath)], message: e.message })));
}

function dedupe(problems: { path: Path; message: string }[]): { path: Path; message: string }[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path.join('.')} ${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Parses a scenario (YAML, or JSON, which is YAML) and checks it against the schema. Steps and
 * assertions are checked one by one against their own kind, so an error says "steps[3].chaos.forSeconds
 * must be <= 600" rather than "must match a schema in anyOf". Throws {@link ScenarioFileError}.
 */
export function parseScenario(source: string, fileName = 'scenario.yaml'): Scenario {
  if (source.length > SCENARIO_SOURCE_MAX_CHARS) {
    const limits = LIST_LIMITS.map(({ key, max }) => `${max} ${key}`).join(' and ');
    const problem = `${fileName}: is ${source.length} characters; a scenario is at most ${SCENARIO_SOURCE_MAX_CHARS} (at most ${limits} fit in far less)`;
    throw new ScenarioFileError(`${fileName} is not a valid scenario:\n  ${problem}`, [problem]);
  }
  const lines = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const problems = doc.errors.slice(0, MAX_PROBLEMS).map((e) => {
      const pos = e.linePos?.[0] ?? { line: 1, col: 1 };
      return `${fileName}:${pos.line}:${pos.col}: ${e.message.split('\n')[0]}`;
    });
    throw new ScenarioFileError(`${fileName} is not valid YAML or JSON:\n  ${problems.join('\n  ')}`, problems);
  }
  const data: unknown = doc.toJS();
  const found: { path: Path; message: string }[] = [];
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    found.push({ path: [], message: 'must be a mapping with name, durationS and steps' });
  } else {
    const record = data as Record<string, unknown>;
    // The lists' lengths first: the item checks below skip the lists' own schema, and a list past
    // its limit is refused as a whole, without judging 20,000 items one by one.
    const tooLong = new Set<string>();
    for (const { key, max } of LIST_LIMITS) {
      const list = record[key];
      if (Array.isArray(list) && list.length > max) {
        found.push({ path: [key], message: `must have at most ${max} items (the schema's limit); this file has ${list.length}` });
        tooLong.add(key);
      }
    }
    const items = (key: string): unknown[] | undefined =>
      Array.isArray(record[key]) ? (tooLong.has(key) ? [] : (record[key] as unknown[])) : undefined;
    const steps = items('steps');
    const assertions = items('assertions');
    // The whole file without its list items, then each step and assertion against its own kind.
    found.push(
      ...schemaProblems(
        ScenarioSchema,
        {
          ...record,
          steps: Array.isArray(record.steps) ? [] : record.steps,
          assertions: Array.isArray(record.assertions) ? [] : record.assertions,
        },
        [],
      ),
    );
    if (steps) {
      steps.forEach((step: unknown, i) => {
        const kinds = typeof step === 'object' && step !== null ? STEP_KINDS.filter((k: string) => k in step) : [];
        if (kinds.length !== 1) {
          found.push({
            path: ['steps', i],
            message: `a step has "at" and exactly one of ${STEP_KINDS.join(', ')}${kinds.length > 1 ? ` (this one has ${kinds.join(' and ')})` : ''}`,
          });
          return;
        }
        found.push(...schemaProblems(STEP_SCHEMAS[kinds[0]!], step, ['steps', i]));
      });
    }
    if (assertions) {
      assertions.forEach((assertion: unknown, i) => {
        if (typeof assertion !== 'string') {
          found.push(...schemaProblems(AssertionObjectSchema, assertion, ['assertions', i]));
          return;
        }
        try {
          parseAssertion(assertion);
        } catch (err) {
          if (err instanceof AssertionSyntaxError) found.push({ path: ['assertions', i], message: (err as Error).message });
          else throw err;
        }
      });
    }
    const duration = typeof record.durationS === 'number' ? record.durationS : undefined;
    if (duration !== undefined && steps) {
      steps.forEach((step: unknown, i) => {
        const at = (step as { at?: unknown } | null)?.at;
        if (typeof at === 'number' && at > duration)
          found.push({ path: ['steps', i, 'at'], message: `is after the scenario's end (durationS ${duration})` });
      });
    }
  }
  if (found.length > 0) {
    const problems = found.slice(0, MAX_PROBLEMS).map(({ path, message }) => {
      const pos = where(doc, lines, path);
      return `${fileName}:${pos.line}:${pos.col}: ${fieldName(path)} ${message}`;
    });
    const more = found.length > MAX_PROBLEMS ? `\n  … and ${found.length - MAX_PROBLEMS} more` : '';
    throw new ScenarioFileError(`${fileName} is not a valid scenario:\n  ${problems.join('\n  ')}${more}`, problems);
  }
  const scenario = data as Scenario;
  // Steps run in time order, whatever order the file lists them in.
  return { ...scenario, steps: [...scenario.steps].sort((a, b) => a.at - b.at) };
}
