/**
 * Saved capacity baselines on a real file system: round trip, owner-only files, names that cannot
 * escape the folder, and files that do not parse reported with their path instead of half-used.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CapacityResult, CapacityStatus } from '../../../electron/contract.js';
import { baselineDir, BaselineError, BaselineStore } from '../../../electron/control/capacity/baselines.js';
import { curveOf, idleStatus } from '../../../electron/control/capacity/curve.js';

const result = (replicas: number, capacityRps: number): CapacityResult => ({
  replicas,
  capacityRps,
  outcome: 'found',
  upperRps: capacityRps + 5,
  steps: [],
  limit: null,
  probe: null,
});
const finished = (capacities: number[]): CapacityStatus => {
  const results = capacities.map((c, i) => result(2 ** i, c));
  return {
    ...idleStatus(
      { p99Ms: 50, errorPercent: 0.1 },
      10,
      results.map((r) => r.replicas),
    ),
    state: 'done',
    results,
    ...curveOf(results),
    startedAt: 1,
    endedAt: 2,
  };
};
const context = { stack: 'default', apiCpu: '100m' };

let home: string;
let store: BaselineStore;
beforeEach(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'scalelab-baselines-'));
  store = new BaselineStore(() => home);
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('capacity baselines', () => {
  it('saves a finished search, reads it back whole, and lists the newest first', async () => {
    const first = await store.save('before', finished([30, 58, 115]), context);
    expect(first).toMatchObject({
      name: 'before',
      stack: 'default',
      apiCpu: '100m',
      points: [
        { replicas: 1, capacityRps: 30 },
        { replicas: 2, capacityRps: 58 },
        { replicas: 4, capacityRps: 115 },
      ],
    });
    await new Promise((r) => setTimeout(r, 5));
    await store.save('after', finished([25, 50, 90]), { stack: 'default', apiCpu: '100m' });
    const loaded = await store.load('before');
    expect(loaded.curve.map((p) => p.capacityRps)).toEqual([30, 58, 115]);
    expect(loaded.fit?.lambda).toBeGreaterThan(0);
    expect(loaded.slo).toEqual({ p99Ms: 50, errorPercent: 0.1 });
    expect((await store.list()).map((b) => b.name)).toEqual(['after', 'before']);
    // Saving under a name again replaces it.
    await store.save('before', finished([40, 80]), context);
    expect((await store.load('before')).curve.map((p) => p.capacityRps)).toEqual([40, 80]);
  });

  it('writes owner-only files in an owner-only folder, and nothing beside them', async () => {
    await store.save('before', finished([30, 58]), context);
    const dir = baselineDir(home);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(path.join(dir, 'before.json'))).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(path.join(dir, 'before.json'), 'utf8'))).toMatchObject({ name: 'before' });
  });

  it('refuses names that are not plain file names, and searches that did not finish', async () => {
    for (const name of ['../../escape', 'a/b', '.hidden', '', 'x'.repeat(65), 'semi;colon']) {
      await expect(store.save(name, finished([30, 58]), context)).rejects.toThrow(/a baseline name is letters, digits/);
    }
    await expect(store.save('running', { ...finished([30]), state: 'running' }, context)).rejects.toThrow(
      /no finished capacity search to save \(the last one is running\)/,
    );
    await expect(store.save('empty', { ...finished([]), results: [] }, context)).rejects.toThrow(/measured no replica count/);
    await expect(store.load('../../etc/passwd')).rejects.toThrow(BaselineError);
  });

  it('says which baselines exist when asked for a missing one', async () => {
    await expect(store.load('nope')).rejects.toThrow(
      /no baseline named "nope"; none is saved yet \(save one with scalelab capacity --save NAME\)/,
    );
    await store.save('before', finished([30, 58]), context);
    await expect(store.load('nope')).rejects.toThrow(/no baseline named "nope"; saved: before/);
  });

  it('reports a file that is not a baseline with its path, and leaves it out of the list', async () => {
    await store.save('good', finished([30, 58]), context);
    const dir = baselineDir(home);
    await writeFile(path.join(dir, 'torn.json'), '{"name": "torn", "savedAt": 1');
    await writeFile(
      path.join(dir, 'wrong.json'),
      JSON.stringify({
        name: 'wrong',
        savedAt: 1,
        stepS: 10,
        stack: null,
        apiCpu: null,
        slo: { p99Ms: 50, errorPercent: 0.1 },
        curve: [{ replicas: 'one' }],
        fit: null,
        results: [],
      }),
    );
    await writeFile(path.join(dir, 'renamed.json'), JSON.stringify({ ...(await store.load('good')), name: 'other' }));
    await expect(store.load('torn')).rejects.toThrow(
      new RegExp(`baseline "torn" \\(${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/torn.json\\) is unreadable: not JSON`),
    );
    await expect(store.load('wrong')).rejects.toThrow(/is unreadable: curve must be a list/);
    await expect(store.load('renamed')).rejects.toThrow(/its name is "other", not "renamed"/);
    expect((await store.list()).map((b) => b.name)).toEqual(['good']);
  });
});
