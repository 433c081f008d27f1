import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Self time of one function, or of one package/area. */
export interface SelfTimeEntry {
  name: string;
  ms: number;
  /** share of the busy (not idle) sampled time */
  percent: number;
}

/** Where a profile's self time went. */
export interface ProfileSummary {
  totalMs: number;
  /** time the event loop waited for I/O, not in the tables */
  idleMs: number;
  /** by function: `area file:line functionName` */
  functions: SelfTimeEntry[];
  /** by area: a package in node_modules, node: internals, the project's own folders, (gc)… */
  areas: SelfTimeEntry[];
}

/** `node_modules/fastify/lib/route.js` → `fastify`; project files keep their path from the repo root. */
function area(url: string, repoRoot: string): string {
  if (!url) return '(native)';
  if (url.startsWith('node:')) return 'node: internals';
  const file = url.replace(/^file:\/\//, '');
  const nm = file.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = file.slice(nm + '/node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  const relative = file.startsWith(repoRoot) ? file.slice(repoRoot.length).replace(/^\//, '') : file;
  return relative.split('/').slice(0, -1).join('/') || relative;
}

function shortFile(url: string, repoRoot: string): string {
  const file = url.replace(/^file:\/\//, '');
  const nm = file.lastIndexOf('/node_modules/');
  if (nm >= 0) return file.slice(nm + '/node_modules/'.length);
  return file.startsWith(repoRoot) ? file.slice(repoRoot.length).replace(/^\//, '') : file;
}

function top(map: Map<string, number>, totalMs: number, limit: number): SelfTimeEntry[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, ms]) => ({ name, ms: Math.round(ms), percent: Math.round((ms / totalMs) * 1000) / 10 }));
}

/**
 * Aggregates a V8 .cpuprofile (node --cpu-prof) by self time: each sample's time delta goes to
 * the function on top of the stack. Same-named functions at different lines stay apart.
 */
export async function summarizeCpuProfile(file: string, repoRoot: string, limit = 15): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  let totalMs = 0;
  let idleMs = 0;
  // timeDeltas[i] is the time before sample i; attributing timeDeltas[i + 1] to sample i is
  // what Chrome DevTools does.
  for (let i = 0; i < profile.samples.length; i++) {
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const node = byId.get(profile.samples[i]!);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    totalMs += ms;
    if (functionName === '(idle)') {
      idleMs += ms;
      continue;
    }
    // Native functions (writev, writeUtf8String…) have no url: they are C++ bindings or builtins.
    const where = url ? `${shortFile(url, repoRoot)}:${lineNumber + 1}` : functionName.startsWith('(') ? '' : '(native)';
    const name = `${where} ${functionName || '(anonymous)'}`.trim();
    const bucket = url ? area(url, repoRoot) : functionName.startsWith('(') ? functionName : '(native)';
    byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
    byArea.set(bucket, (byArea.get(bucket) ?? 0) + ms);
  }
  const busyMs = totalMs - idleMs;
  return {
    totalMs: Math.round(totalMs),
    idleMs: Math.round(idleMs),
    functions: top(byFunction, busyMs, limit),
    areas: top(byArea, busyMs, limit),
  };
}

/** The summary as two markdown tables. */
export function profileMarkdown(summary: ProfileSummary): string {
  const table = (title: string, rows: SelfTimeEntry[]) =>
    [`| ${title} | self ms | % of busy |`, '|---|---:|---:|', ...rows.map((r) => `| \`${r.name}\` | ${r.ms} | ${r.percent} |`)].join('\n');
  return `${table('function (self time)', summary.functions)}\n\n${table('area (self time)', summary.areas)}\n`;
}
