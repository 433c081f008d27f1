/**
 * A parser for the Prometheus text exposition format (version 0.0.4), enough to read what
 * prom-client serves: HELP/TYPE lines, escaped label values, histograms and summaries, NaN/±Inf.
 */
import { NamedError } from '../../../backend/named-error.js';

/** Metric types of the text format. */
export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

/** One series value: a line of the exposition. */
export interface MetricSample {
  /** The line's own name, e.g. `http_request_duration_seconds_bucket`. */
  name: string;
  labels: Record<string, string>;
  value: number;
  /** ms since epoch, when the line carries one. */
  timestamp?: number;
}

/** The lines belonging to one metric: a histogram's family holds its _bucket, _sum and _count. */
export interface MetricFamily {
  name: string;
  type: MetricType;
  help?: string;
  samples: MetricSample[];
}

/** Thrown on a line that is not valid text format; says which line and why. */
export class PrometheusParseError extends NamedError {
  constructor(
    readonly line: number,
    reason: string,
  ) {
    super(`Prometheus text, line ${line}: ${reason}`);
  }
}

const TYPES = new Set<MetricType>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
/** Suffixes whose lines belong to the family named without them. */
const SUFFIXES: Record<string, MetricType[]> = {
  _bucket: ['histogram'],
  _sum: ['histogram', 'summary'],
  _count: ['histogram', 'summary'],
  _total: ['counter'],
  _created: ['counter', 'histogram', 'summary'],
};
const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

/** Parses a sample value: a float, `NaN`, `+Inf`, `-Inf` (Go's ParseFloat spellings). */
export function parseValue(text: string): number {
  switch (text.toLowerCase()) {
    case 'nan':
      return Number.NaN;
    case '+inf':
    case 'inf':
      return Number.POSITIVE_INFINITY;
    case '-inf':
      return Number.NEGATIVE_INFINITY;
  }
  // Number('') is 0 and Number('0x10') is 16: neither is a Prometheus value.
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) throw new SyntaxError(`"${text}" is not a number`);
  return Number(text);
}

function unescapeHelp(text: string): string {
  return text.replace(/\\(\\|n)/g, (_, c: string) => (c === 'n' ? '\n' : '\\'));
}

/** Reads `{name="value",…}` starting at `at` (the `{`); returns the labels and the index after `}`. */
function parseLabels(line: string, at: number, lineNo: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = at + 1;
  const skipSpaces = () => {
    while (line[i] === ' ' || line[i] === '\t') i++;
  };
  for (;;) {
    skipSpaces();
    if (line[i] === '}') return { labels, end: i + 1 };
    const name = LABEL_NAME.exec(line.slice(i))?.[0];
    if (!name) throw new PrometheusParseError(lineNo, `bad label name at column ${i + 1}`);
    i += name.length;
    skipSpaces();
    if (line[i] !== '=') throw new PrometheusParseError(lineNo, `expected = after label ${name}`);
    i++;
    skipSpaces();
    if (line[i] !== '"') throw new PrometheusParseError(lineNo, `expected " to open the value of label ${name}`);
    i++;
    let value = '';
    for (;;) {
      const c = line[i];
      if (c === undefined) throw new PrometheusParseError(lineNo, `unterminated value of label ${name}`);
      if (c === '"') break;
      if (c === '\\') {
        const next = line[i + 1];
        if (next === 'n') value += '\n';
        else if (next === '\\' || next === '"') value += next;
        else throw new PrometheusParseError(lineNo, `bad escape \\${next ?? ''} in label ${name}`);
        i += 2;
      } else {
        value += c;
        i++;
      }
    }
    i++;
    if (Object.prototype.hasOwnProperty.call(labels, name)) throw new PrometheusParseError(lineNo, `label ${name} repeated`);
    labels[name] = value;
    skipSpaces();
    if (line[i] === ',') i++;
    else if (line[i] !== '}') throw new PrometheusParseError(lineNo, `expected , or } after label ${name}`);
  }
}

function parseSample(line: string, lineNo: number): MetricSample {
  const name = NAME.exec(line)?.[0];
  if (!name) throw new PrometheusParseError(lineNo, 'expected a metric name');
  let rest = line.slice(name.length);
  let labels: Record<string, string> = {};
  if (rest.startsWith('{')) {
    const parsed = parseLabels(rest, 0, lineNo);
    labels = parsed.labels;
    rest = rest.slice(parsed.end);
  }
  const fields = rest.trim().split(/[ \t]+/);
  if (fields.length < 1 || fields.length > 2 || fields[0] === '')
    throw new PrometheusParseError(lineNo, 'expected a value and an optional timestamp');
  let value: number;
  try {
    value = parseValue(fields[0]!);
  } catch (err) {
    throw new PrometheusParseError(lineNo, (err as Error).message);
  }
  const sample: MetricSample = { name, labels, value };
  if (fields[1] !== undefined) {
    if (!/^-?\d+$/.test(fields[1])) throw new PrometheusParseError(lineNo, `bad timestamp "${fields[1]}"`);
    sample.timestamp = Number(fields[1]);
  }
  return sample;
}

/** The family a line belongs to: its own name, or its name without a suffix its type allows. */
function familyOf(families: Map<string, MetricFamily>, name: string): MetricFamily {
  const own = families.get(name);
  if (own) return own;
  for (const [suffix, types] of Object.entries(SUFFIXES)) {
    if (!name.endsWith(suffix)) continue;
    const base = families.get(name.slice(0, -suffix.length));
    if (base && types.includes(base.type)) return base;
  }
  const created: MetricFamily = { name, type: 'untyped', samples: [] };
  families.set(name, created);
  return created;
}

/**
 * Parses a /metrics body into families by name, in order of appearance.
 * @throws PrometheusParseError on the first malformed line.
 */
export function parsePrometheusText(text: string): Map<string, MetricFamily> {
  const families = new Map<string, MetricFamily>();
  const declare = (name: string) => {
    let family = families.get(name);
    if (!family) {
      family = { name, type: 'untyped', samples: [] };
      families.set(name, family);
    }
    return family;
  };
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!.replace(/\r$/, '').trim();
    const lineNo = index + 1;
    if (line === '') continue;
    if (line.startsWith('#')) {
      const match = /^#\s*(HELP|TYPE)\s+([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\s(.*))?$/.exec(line);
      if (!match) continue; // any other comment, `# EOF` included
      const family = declare(match[2]!);
      if (match[1] === 'HELP') {
        family.help = unescapeHelp(match[3] ?? '');
      } else {
        const type = (match[3] ?? '').trim() as MetricType;
        if (!TYPES.has(type)) throw new PrometheusParseError(lineNo, `unknown type "${type}" of ${match[2]}`);
        family.type = type;
      }
      continue;
    }
    const sample = parseSample(line, lineNo);
    familyOf(families, sample.name).samples.push(sample);
  }
  return families;
}

/** Every sample of every family, flattened. */
export function allSamples(families: Map<string, MetricFamily>): MetricSample[] {
  return [...families.values()].flatMap((f) => f.samples);
}

/**
 * Sum of the lines named `name` whose labels include `match`; undefined when none exists, so a
 * missing series can be told apart from a zero one.
 */
export function sumSeries(families: Map<string, MetricFamily>, name: string, match: Record<string, string> = {}): number | undefined {
  let total: number | undefined;
  for (const family of families.values()) {
    for (const sample of family.samples) {
      if (sample.name !== name) continue;
      if (!Object.entries(match).every(([k, v]) => sample.labels[k] === v)) continue;
      total = (total ?? 0) + sample.value;
    }
  }
  return total;
}
