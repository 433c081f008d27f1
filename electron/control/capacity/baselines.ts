/**
 * Saved capacity searches, to compare later runs with ("this change cost 18 % at 4 replicas").
 * One JSON file per baseline under SCALELAB_HOME/baselines/capacity/, written whole (a temporary
 * file renamed over the old one), owner-only. A file is untrusted when read back: one that does
 * not parse into a baseline is reported with its path and what to do, never half-used.
 */
import { chmod, mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  BASELINE_NAME_PATTERN,
  type CapacityBaseline,
  type CapacityBaselineInfo,
  type CapacityStatus,
  type CurvePoint,
} from '../../capacity-spec.js';
import { StackStateError } from '../errors.js';

/** A baseline that is missing or unreadable. */
export class BaselineError extends StackStateError {}

const NAME = new RegExp(BASELINE_NAME_PATTERN);
/** Baseline files above this are not read (a real one, 12 counts of 24 steps, is under 200 kB). */
const MAX_FILE_BYTES = 4 * 1024 * 1024;

/** The folder the baselines of `home` live in. */
export function baselineDir(home: string): string {
  return path.join(home, 'baselines', 'capacity');
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isNumOrNull = (v: unknown) => v === null || isNum(v);
const isStrOrNull = (v: unknown) => v === null || typeof v === 'string';

function isPoint(p: unknown): p is CurvePoint {
  const o = p as Record<string, unknown> | null;
  return typeof o === 'object' && o !== null && Number.isInteger(o.replicas) && isNumOrNull(o.capacityRps) && isNumOrNull(o.efficiency);
}

/** Parses a baseline file's text; throws with the reason when it is not one. */
export function parseBaseline(text: string, expectedName: string): CapacityBaseline {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`not JSON (${(err as Error).message})`);
  }
  const o = value as Record<string, unknown> | null;
  if (typeof o !== 'object' || o === null) throw new Error('not an object');
  if (o.name !== expectedName) throw new Error(`its name is ${JSON.stringify(o.name)}, not "${expectedName}"`);
  if (!isNum(o.savedAt) || !isNum(o.stepS)) throw new Error('savedAt and stepS must be numbers');
  if (!isStrOrNull(o.stack) || !isStrOrNull(o.apiCpu)) throw new Error('stack and apiCpu must be strings or null');
  const slo = o.slo as Record<string, unknown> | null;
  if (typeof slo !== 'object' || slo === null || !isNum(slo.p99Ms) || !isNum(slo.errorPercent))
    throw new Error('slo must have p99Ms and errorPercent');
  if (!Array.isArray(o.curve) || o.curve.length > 64 || !o.curve.every(isPoint))
    throw new Error('curve must be a list of { replicas, capacityRps, efficiency }');
  if (!Array.isArray(o.results)) throw new Error('results must be a list');
  const fit = o.fit as Record<string, unknown> | null;
  if (fit !== null && (typeof fit !== 'object' || !['lambda', 'sigma', 'kappa', 'r2'].every((k) => isNum(fit[k]))))
    throw new Error('fit must be null or { lambda, sigma, kappa, r2 }');
  return value as CapacityBaseline;
}

function info(b: CapacityBaseline): CapacityBaselineInfo {
  return {
    name: b.name,
    savedAt: b.savedAt,
    stack: b.stack,
    apiCpu: b.apiCpu,
    points: b.curve.map((p) => ({ replicas: p.replicas, capacityRps: p.capacityRps })),
  };
}

/** The baselines of one SCALELAB_HOME. */
export class BaselineStore {
  /** `home` is read when a baseline is: the control plane's options are not set yet when it builds its desks. */
  constructor(private readonly homeOf: () => string) {}

  private get home(): string {
    return this.homeOf();
  }

  /** Saves a finished search as `name`, replacing one of that name. */
  async save(
    name: string,
    status: CapacityStatus,
    context: { stack: string | null; apiCpu: string | null },
  ): Promise<CapacityBaselineInfo> {
    if (!NAME.test(name))
      throw new BaselineError(
        `a baseline name is letters, digits, ".", "_" and "-", up to 64, starting with a letter or digit (got "${name.slice(0, 80)}")`,
      );
    if (status.state !== 'done' && status.state !== 'stopped')
      throw new BaselineError(
        `there is no finished capacity search to save (the last one is ${status.state}); run one first (scalelab capacity)`,
      );
    if (status.results.length === 0)
      throw new BaselineError('the last capacity search measured no replica count; there is nothing to save');
    const baseline: CapacityBaseline = {
      name,
      savedAt: Date.now(),
      ...context,
      slo: status.slo,
      stepS: status.stepS,
      curve: status.curve,
      fit: status.fit,
      results: status.results,
      startedAt: status.startedAt,
      endedAt: status.endedAt,
    };
    const dir = baselineDir(this.home);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700);
    const file = path.join(dir, `${name}.json`);
    const staging = `${file}.${process.pid}.tmp`;
    await writeFile(staging, `${JSON.stringify(baseline, null, 1)}\n`, { mode: 0o600 });
    await rename(staging, file);
    return info(baseline);
  }

  /** The baseline `name`; a missing or unreadable one throws with what to do. */
  async load(name: string): Promise<CapacityBaseline> {
    if (!NAME.test(name)) throw new BaselineError(`no baseline can be named "${name.slice(0, 80)}"`);
    const file = path.join(baselineDir(this.home), `${name}.json`);
    let text: string;
    try {
      const buffer = await readFile(file);
      if (buffer.length > MAX_FILE_BYTES)
        throw new BaselineError(`baseline "${name}" (${file}) is ${buffer.length} bytes, more than a baseline can be; save it again`);
      text = buffer.toString('utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      const known = (await this.list()).map((b) => b.name);
      throw new BaselineError(
        `no baseline named "${name}"; ${known.length > 0 ? `saved: ${known.join(', ')}` : 'none is saved yet'} (save one with scalelab capacity --save NAME)`,
      );
    }
    try {
      return parseBaseline(text, name);
    } catch (err) {
      throw new BaselineError(`baseline "${name}" (${file}) is unreadable: ${(err as Error).message}; save it again or delete the file`);
    }
  }

  /** Every readable baseline, newest first; unreadable files are left out. */
  async list(): Promise<CapacityBaselineInfo[]> {
    const names = await readdir(baselineDir(this.home)).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [] as string[];
      throw err;
    });
    const out: CapacityBaselineInfo[] = [];
    for (const file of names) {
      const name = file.endsWith('.json') ? file.slice(0, -5) : '';
      if (!NAME.test(name)) continue;
      try {
        out.push(info(await this.load(name)));
      } catch (err) {
        if (!(err instanceof BaselineError)) throw err;
      }
    }
    return out.sort((a, b) => b.savedAt - a.savedAt);
  }
}
