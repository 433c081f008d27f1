import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { root } from './support/scalelab-cli.js';

const run = promisify(execFile);

describe('the README figures', () => {
  it('match the results files they are written from (npm run docs:figures)', async () => {
    const result = await run(process.execPath, ['scripts/readme-figures.mjs', '--check'], { cwd: root }).then(
      (r) => ({ code: 0, out: r.stdout + r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
    );
    expect(result.out).toContain('match the results files');
    expect(result.code).toBe(0);
  });
});
