/**
 * A test renderer for the subset of Helm templates charts/scalelab uses; `helm template` is the
 * reference where it exists. No cluster and no helm binary run on the build machines, so the chart
 * tests render with this instead.
 *
 * Supported: `{{ }}` with `{{-`/`-}}` trimming and comments; `.`, `.Values.x.y`, `.Release.*`,
 * `.Chart.*`, `$`, `$var` (`:=` and `=`), `(sub expressions).field`; pipelines; `define`, `include`,
 * `if`/`else if`/`else`, `with`, `range` (lists and maps), `end`; the functions in {@link FUNCTIONS}.
 * Anything else (another keyword or function, printing a map or a missing value, a field of nil)
 * throws a {@link TemplateError}, so a chart using something new fails its test instead of
 * rendering wrong.
 */
import { randomInt } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { NamedError } from '../../../backend/named-error.js';

/** The template uses something this renderer does not support, or fails as Helm would. */
export class TemplateError extends NamedError {}

type Dict = Record<string, unknown>;
const raise = (message: string): never => {
  throw new TemplateError(message);
};
type Operand =
  | { t: 'dot'; path: string[] }
  | { t: 'var'; name: string; path: string[] }
  | { t: 'lit'; value: unknown }
  | { t: 'fn'; name: string }
  | { t: 'sub'; pipe: Pipe; path: string[] };
interface Pipe {
  decl?: { names: string[]; assign: boolean };
  cmds: Operand[][];
}
type Node = { k: 'text'; text: string } | { k: 'out'; pipe: Pipe } | { k: 'if' | 'with' | 'range'; pipe: Pipe; body: Node[]; else: Node[] };
interface Scope {
  dot: unknown;
  vars: Array<Map<string, unknown>>;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Go template truth: false, 0, nil, "" and empty lists and maps are false. */
function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  return typeof v !== 'object' || Object.keys(v).length > 0;
}

/** Sprig's strval: how a value reads as a string. */
function str(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') throw new TemplateError(`cannot use ${JSON.stringify(v)} as a string (use toYaml)`);
  return String(v);
}

/** Go's url.QueryEscape. */
function queryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

function printf(format: string, ...args: unknown[]): string {
  let i = 0;
  return format.replace(/%([%sdvq])/g, (_m, verb: string) => {
    if (verb === '%') return '%';
    if (i >= args.length) throw new TemplateError(`printf "${format}": missing argument`);
    const arg = args[i++];
    if (verb === 'd' && !Number.isInteger(arg)) throw new TemplateError(`printf %d of ${JSON.stringify(arg)} (use | int)`);
    return verb === 'q' ? JSON.stringify(str(arg)) : str(arg);
  });
}

const indent = (n: number, s: unknown): string => ' '.repeat(n) + str(s).replace(/\n/g, `\n${' '.repeat(n)}`);

/** Go refuses to compare values of different kinds. */
const compare = (name: string, a: unknown, b: unknown): unknown =>
  typeof a !== typeof b && a != null && b != null && raise(`${name}: incompatible types ${typeof a} and ${typeof b}`);

const toInt = (v: unknown): number => Math.trunc(Number(typeof v === 'string' ? Number.parseInt(v, 10) : (v ?? 0))) || 0;

/** The functions templates may call (`include` is handled by the renderer). */
export const FUNCTIONS: Record<string, (...args: unknown[]) => unknown> = {
  toYaml: (v) => YAML.stringify(v, { sortMapEntries: true, lineWidth: 0 }).replace(/\n$/, ''),
  quote: (...args) =>
    args
      .filter((a) => a != null)
      .map((a) => JSON.stringify(str(a)))
      .join(' '),
  default: (...args) => (args.length > 1 && truthy(args[1]) ? args[1] : args[0]),
  required: (msg, v) => (v === null || v === undefined || v === '' ? raise(str(msg)) : v),
  fail: (msg) => raise(str(msg)),
  b64enc: (v) => Buffer.from(str(v)).toString('base64'),
  b64dec: (v) => Buffer.from(str(v), 'base64').toString('utf8'),
  randAlphaNum: (n) => Array.from({ length: toInt(n) }, () => ALNUM[randomInt(ALNUM.length)]).join(''),
  // Helm's `helm template` (no cluster) finds nothing: an empty map.
  lookup: () => ({}),
  trunc: (n, v) => {
    const s = str(v);
    const k = toInt(n);
    return k >= 0 ? s.slice(0, k) : s.slice(Math.max(0, s.length + k));
  },
  trimSuffix: (suffix, v) => (str(v).endsWith(str(suffix)) && str(suffix) !== '' ? str(v).slice(0, -str(suffix).length) : str(v)),
  printf: (format, ...args) => printf(str(format), ...args),
  replace: (from, to, v) => str(v).split(str(from)).join(str(to)),
  urlquery: (...args) => queryEscape(args.map(str).join('')),
  toString: (v: unknown) => str(v),
  int: toInt,
  indent: (n, v) => indent(toInt(n), v),
  nindent: (n, v) => `\n${indent(toInt(n), v)}`,
  not: (v) => !truthy(v),
  eq: (a, ...bs) => bs.some((b) => (compare('eq', a, b), a === b)),
  ne: (a, b) => (compare('ne', a, b), a !== b),
  gt: (a, b) => (compare('gt', a, b), (a as number) > (b as number)),
  lt: (a, b) => (compare('lt', a, b), (a as number) < (b as number)),
  list: (...args) => args,
  index: (coll, ...keys) =>
    keys.reduce((c, key) => {
      if (c === null || c === undefined || typeof c !== 'object')
        throw new TemplateError(`index of ${JSON.stringify(key)} in a non-collection`);
      return (c as Dict)[str(key)] ?? null;
    }, coll),
};

// ---------------------------------------------------------------------------------------------
// Parsing

const TOKEN =
  /\s+|(:=|[()|,=])|("(?:\\.|[^"\\])*"|`[^`]*`)|(-?\d+(?:\.\d+)?)(?![\w.])|((?:\.[A-Za-z_]\w*)+|\.)|(\$\w*(?:\.[A-Za-z_]\w*)*)|([A-Za-z_]\w*)/y;
const KINDS = ['punct', 'str', 'num', 'field', 'var', 'ident'] as const;
interface Token {
  kind: (typeof KINDS)[number];
  text: string;
  start: number;
  end: number;
}

function tokenize(src: string, where: string): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < src.length) {
    const start = TOKEN.lastIndex;
    const m = TOKEN.exec(src);
    if (!m) throw new TemplateError(`${where}: cannot parse "${src.slice(start)}"`);
    const i = KINDS.findIndex((_, j) => m[j + 1] !== undefined);
    if (i >= 0) tokens.push({ kind: KINDS[i]!, text: m[0], start, end: TOKEN.lastIndex });
  }
  return tokens;
}

const chain = (text: string): string[] => text.split('.').filter(Boolean);

function parsePipe(tokens: Token[], where: string): Pipe {
  let pos = 0;
  const pipe = (stop: string): Pipe => {
    const p: Pipe = { cmds: [] };
    const names: string[] = [];
    let look = pos;
    while (tokens[look]?.kind === 'var' && !tokens[look]!.text.includes('.')) {
      names.push(tokens[look]!.text);
      if (tokens[look + 1]?.text === ',') look += 2;
      else break;
    }
    const op = tokens[look + 1]?.text;
    if (names.length && (op === ':=' || op === '=')) {
      p.decl = { names, assign: op === '=' };
      pos = look + 2;
    }
    let cmd: Operand[] = [];
    for (;;) {
      const tok = tokens[pos];
      if (!tok || tok.text === stop) {
        if (stop === ')' && !tok) throw new TemplateError(`${where}: unclosed (`);
        pos++;
        break;
      }
      pos++;
      if (tok.text === '|') [p.cmds, cmd] = [[...p.cmds, cmd], []];
      else if (tok.text === '(') {
        const sub = pipe(')');
        const next = tokens[pos];
        const path = next?.kind === 'field' && next.start === tokens[pos - 1]!.end ? (pos++, chain(next.text)) : [];
        cmd.push({ t: 'sub', pipe: sub, path });
      } else if (tok.kind === 'str') cmd.push({ t: 'lit', value: tok.text.startsWith('`') ? tok.text.slice(1, -1) : JSON.parse(tok.text) });
      else if (tok.kind === 'num') cmd.push({ t: 'lit', value: Number(tok.text) });
      else if (tok.kind === 'field') cmd.push({ t: 'dot', path: chain(tok.text) });
      else if (tok.kind === 'var') {
        const [name, ...path] = tok.text.split('.');
        cmd.push({ t: 'var', name: name!, path });
      } else if (tok.kind === 'ident' && ['true', 'false', 'nil'].includes(tok.text))
        cmd.push({ t: 'lit', value: tok.text === 'nil' ? null : tok.text === 'true' });
      else if (tok.kind === 'ident' && (tok.text in FUNCTIONS || tok.text === 'include' || tok.text === 'and' || tok.text === 'or'))
        cmd.push({ t: 'fn', name: tok.text });
      else throw new TemplateError(`${where}: unsupported "${tok.text}"`);
    }
    if (!cmd.length) throw new TemplateError(`${where}: empty command`);
    p.cmds.push(cmd);
    return p;
  };
  return pipe('\u0000');
}

interface Item {
  text?: string;
  action?: string;
  where: string;
}

/** Splits a template into text and actions, applying the trim markers and dropping comments. */
function scan(src: string, file: string): Item[] {
  const items: Item[] = [];
  let at = 0;
  let trimNext = false;
  while (at <= src.length) {
    const open = src.indexOf('{{', at);
    let text = src.slice(at, open < 0 ? src.length : open);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (open < 0) {
      items.push({ text, where: file });
      break;
    }
    const where = `${file}:${src.slice(0, open).split('\n').length}`;
    const close = src.indexOf('}}', open + 2);
    if (close < 0) throw new TemplateError(`${where}: unclosed {{`);
    let inner = src.slice(open + 2, close);
    if (/^-\s/.test(inner)) text = text.replace(/\s+$/, '');
    trimNext = /\s-$/.test(inner);
    inner = inner.replace(/^-\s/, '').replace(/\s-$/, '').trim();
    items.push({ text, where });
    if (inner.startsWith('/*')) {
      if (!inner.endsWith('*/')) throw new TemplateError(`${where}: a comment must end with */`);
    } else items.push({ action: inner, where });
    at = close + 2;
  }
  return items;
}

/** Parses items into nodes up to `end`/`else`; stores `define` blocks in `defines`. */
function parseNodes(
  items: Item[],
  state: { i: number },
  defines: Map<string, Node[]>,
  inBlock: boolean,
): { nodes: Node[]; stop: string; rest?: Token[]; where: string } {
  const nodes: Node[] = [];
  while (state.i < items.length) {
    const item = items[state.i++]!;
    if (item.text !== undefined) {
      if (item.text) nodes.push({ k: 'text', text: item.text });
      continue;
    }
    const tokens = tokenize(item.action!, item.where);
    const head = tokens[0]?.kind === 'ident' ? tokens[0].text : '';
    if (head === 'end' || head === 'else') {
      if (!inBlock) throw new TemplateError(`${item.where}: unexpected ${head}`);
      return { nodes, stop: head, rest: tokens.slice(1), where: item.where };
    }
    if (head === 'define') {
      const name = tokens[1]?.kind === 'str' ? (JSON.parse(tokens[1].text) as string) : undefined;
      if (!name || tokens.length !== 2) throw new TemplateError(`${item.where}: define takes one quoted name`);
      const body = parseNodes(items, state, defines, true);
      if (body.stop !== 'end') throw new TemplateError(`${item.where}: define "${name}" has an else`);
      defines.set(name, body.nodes);
    } else if (head === 'if' || head === 'with' || head === 'range')
      nodes.push(parseBlock(head, tokens.slice(1), items, state, defines, item.where));
    else if (['template', 'block', 'break', 'continue', 'tpl'].includes(head))
      throw new TemplateError(`${item.where}: "${head}" is not supported by this renderer`);
    else nodes.push({ k: 'out', pipe: parsePipe(tokens, item.where) });
  }
  if (inBlock) throw new TemplateError('missing {{ end }}');
  return { nodes, stop: 'eof', where: '' };
}

function parseBlock(
  k: 'if' | 'with' | 'range',
  tokens: Token[],
  items: Item[],
  state: { i: number },
  defines: Map<string, Node[]>,
  where: string,
): Node {
  const node: Node = { k, pipe: parsePipe(tokens, where), body: [], else: [] };
  const body = parseNodes(items, state, defines, true);
  node.body = body.nodes;
  if (body.stop === 'else') {
    if (body.rest?.[0]?.text === 'if' && k === 'if') {
      // `else if` is an if nested in the else branch that shares this block's end.
      node.else = [parseBlock('if', body.rest.slice(1), items, state, defines, body.where)];
      return node;
    }
    if (body.rest?.length) throw new TemplateError(`${body.where}: only "else" and "else if" are supported`);
    const rest = parseNodes(items, state, defines, true);
    if (rest.stop !== 'end') throw new TemplateError(`${rest.where}: a second else`);
    node.else = rest.nodes;
  }
  return node;
}

// ---------------------------------------------------------------------------------------------
// Execution

class Renderer {
  constructor(private readonly defines: Map<string, Node[]>) {}

  run(nodes: Node[], scope: Scope): string {
    let out = '';
    for (const node of nodes) {
      if (node.k === 'text') out += node.text;
      else if (node.k === 'out') {
        const value = this.pipe(node.pipe, scope);
        if (node.pipe.decl) continue;
        if (value === null || value === undefined) throw new TemplateError('a template prints a missing value (nil)');
        out += str(value);
      } else out += this.block(node, scope);
    }
    return out;
  }

  private block(node: Extract<Node, { k: 'if' | 'with' | 'range' }>, outer: Scope): string {
    const scope: Scope = { dot: outer.dot, vars: [...outer.vars, new Map()] };
    const names = node.pipe.decl?.names ?? [];
    const value = this.pipe(node.k === 'range' ? { cmds: node.pipe.cmds } : node.pipe, scope);
    if (!truthy(value)) return this.run(node.else, scope);
    if (node.k === 'if') return this.run(node.body, scope);
    if (node.k === 'with') return this.run(node.body, { ...scope, dot: value });
    if (typeof value !== 'object') throw new TemplateError(`range over ${typeof value} is not supported`);
    const entries: Array<[unknown, unknown]> = Array.isArray(value)
      ? value.map((v, i) => [i, v])
      : Object.keys(value as Dict)
          .sort()
          .map((key) => [key, (value as Dict)[key]]);
    return entries
      .map(([key, v]) => {
        const vars = new Map<string, unknown>(
          names.length === 2
            ? [
                [names[0]!, key],
                [names[1]!, v],
              ]
            : names.length === 1
              ? [[names[0]!, v]]
              : [],
        );
        return this.run(node.body, { dot: v, vars: [...scope.vars, vars] });
      })
      .join('');
  }

  private pipe(pipe: Pipe, scope: Scope): unknown {
    let value: unknown;
    pipe.cmds.forEach((cmd, i) => {
      value = this.command(cmd, scope, i > 0, value);
    });
    if (pipe.decl) {
      const [name] = pipe.decl.names;
      if (pipe.decl.names.length !== 1) throw new TemplateError('only range declares two variables');
      const owner = pipe.decl.assign ? [...scope.vars].reverse().find((vars) => vars.has(name!)) : scope.vars.at(-1);
      if (!owner) throw new TemplateError(`undefined variable ${name}`);
      owner.set(name!, value);
    }
    return value;
  }

  private command(cmd: Operand[], scope: Scope, piped: boolean, input: unknown): unknown {
    const [head, ...rest] = cmd;
    if (!head) throw new TemplateError('empty command');
    if (head.t !== 'fn') {
      if (rest.length || piped) throw new TemplateError('only a function can take arguments or a piped value');
      return this.operand(head, scope);
    }
    const lazy = rest.map((op) => () => this.operand(op, scope));
    if (piped) lazy.push(() => input);
    if (head.name === 'and' || head.name === 'or') {
      let last: unknown;
      for (const arg of lazy) {
        last = arg();
        if (truthy(last) === (head.name === 'or')) return last;
      }
      return last;
    }
    const args = lazy.map((arg) => arg());
    if (head.name === 'include') {
      const body = this.defines.get(str(args[0]));
      if (!body) throw new TemplateError(`include: no template "${str(args[0])}"`);
      return this.run(body, { dot: args[1], vars: [new Map([['$', args[1]]])] });
    }
    return FUNCTIONS[head.name]!(...args);
  }

  private operand(op: Operand, scope: Scope): unknown {
    if (op.t === 'lit') return op.value;
    if (op.t === 'fn') return this.command([op], scope, false, undefined);
    let base: unknown;
    if (op.t === 'dot') base = scope.dot;
    else if (op.t === 'sub') base = this.pipe(op.pipe, scope);
    else {
      const owner = [...scope.vars].reverse().find((vars) => vars.has(op.name));
      if (!owner) throw new TemplateError(`undefined variable ${op.name}`);
      base = owner.get(op.name);
    }
    return op.path.reduce((v, key) => {
      if (v === null || v === undefined) throw new TemplateError(`nil pointer evaluating .${key}`);
      if (typeof v !== 'object' || Array.isArray(v)) throw new TemplateError(`can't evaluate field ${key} in ${typeof v}`);
      return Object.hasOwn(v, key) ? (v as Dict)[key] : null;
    }, base);
  }
}

// ---------------------------------------------------------------------------------------------
// Charts

/** Helm's coalescing: maps merge, anything else replaces, null deletes. */
export function mergeValues(base: Dict, over: Dict): Dict {
  const out: Dict = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === null) delete out[key];
    else if (isDict(value) && isDict(out[key])) out[key] = mergeValues(out[key] as Dict, value);
    else out[key] = value;
  }
  return out;
}

const isDict = (v: unknown): v is Dict => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Options of {@link renderChart}. */
export interface RenderOptions {
  /** `.Release.Name` (also the stack name of charts/scalelab). @defaultValue 'default' */
  releaseName?: string;
  /** `.Release.Namespace`. @defaultValue 'default' */
  namespace?: string;
  /** Merged over the chart's values.yaml (as `--set`/`-f` would be); not checked against values.schema.json here. */
  values?: Dict;
}

/** The output of {@link renderChart}. */
export interface RenderedChart {
  /** Each template's output (by path under the chart, e.g. `templates/secret.yaml`) that is not blank. */
  files: Record<string, string>;
  /** Every manifest, as `helm template` prints them (with `# Source:` comments). */
  manifests: string;
  notes: string;
  values: Dict;
}

function templateFiles(dir: string, rel = 'templates'): string[] {
  return readdirSync(path.join(dir, rel), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? templateFiles(dir, `${rel}/${e.name}`) : [`${rel}/${e.name}`]))
    .sort();
}

/** Renders a chart directory as `helm template <release> <dir> -n <namespace>` would. */
export function renderChart(chartDir: string, options: RenderOptions = {}): RenderedChart {
  const chart = YAML.parse(readFileSync(path.join(chartDir, 'Chart.yaml'), 'utf8')) as Dict;
  const values = mergeValues(YAML.parse(readFileSync(path.join(chartDir, 'values.yaml'), 'utf8')) as Dict, options.values ?? {});
  const releaseName = options.releaseName ?? 'default';
  const root = {
    Values: values,
    Release: {
      Name: releaseName,
      Namespace: options.namespace ?? 'default',
      Service: 'Helm',
      IsInstall: true,
      IsUpgrade: false,
      Revision: 1,
    },
    Chart: Object.fromEntries(Object.entries(chart).map(([k, v]) => [k.charAt(0).toUpperCase() + k.slice(1), v])),
  };
  const defines = new Map<string, Node[]>();
  // Every file is parsed first, so each sees every define (as Helm does).
  const parsed = templateFiles(chartDir).map((file) => ({
    file,
    nodes: parseNodes(scan(readFileSync(path.join(chartDir, file), 'utf8'), file), { i: 0 }, defines, false).nodes,
  }));
  const renderer = new Renderer(defines);
  const files: Record<string, string> = {};
  let notes = '';
  for (const { file, nodes } of parsed) {
    const base = path.basename(file);
    if (base.startsWith('_')) continue;
    const out = renderer.run(nodes, { dot: root, vars: [new Map([['$', root]])] });
    if (base === 'NOTES.txt') notes = out;
    else if (out.trim()) files[file] = out;
  }
  const manifests = Object.entries(files)
    .flatMap(([file, out]) =>
      out
        .split(/^---[ \t]*$/m)
        .filter((doc) => doc.trim())
        .map((doc) => `---\n# Source: ${String(chart.name)}/${file}\n${doc.replace(/^\n+/, '')}\n`),
    )
    .join('');
  return { files, manifests, notes, values };
}
