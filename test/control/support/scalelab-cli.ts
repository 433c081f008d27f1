import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The project root, where `electron/scalelab.mjs` (the package's bin) is. */
export const root = fileURLToPath(new URL('../../../', import.meta.url));

/** Runs `scalelab …` through the package's bin, as `npx scalelab` does, with SCALELAB_HOME=`home`. */
export async function runScalelab(
  home: string,
  args: string[],
  timeoutMs = 120_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['electron/scalelab.mjs', ...args], {
      cwd: root,
      env: { ...process.env, SCALELAB_HOME: home },
      timeout: timeoutMs,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
