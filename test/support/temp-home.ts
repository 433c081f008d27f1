/**
 * Temporary SCALELAB_HOMEs (and other temporary folders) for tests, removed with everything the
 * runtimes put elsewhere on their behalf: as root, PostgreSQL's data folders live under
 * /var/lib/scalelab/data (see postgresDataDir), named after the folder they belong to.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { postgresDataDir } from '../../electron/control/runtimes/local/postgres.js';

/** A fresh empty folder in the temp directory, named `<prefix>XXXXXX`. */
export function makeTempHome(prefix: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

/**
 * The folders outside `dir` that hold data of something under `dir`: PostgreSQL's data folders
 * (primary, read replica, a test's own) that postgresDataDir moved out of it. Empty when not root.
 */
export function strayDataOf(dir: string): string[] {
  const probe = postgresDataDir(path.join(dir, 'x'));
  if (probe === path.join(dir, 'x')) return [];
  const parent = path.dirname(probe);
  const prefix = path.basename(probe).slice(0, -1);
  if (!existsSync(parent)) return [];
  return readdirSync(parent)
    .filter((name) => name.startsWith(prefix))
    .map((name) => path.join(parent, name));
}

/**
 * Removes `dir` and every data folder of it kept elsewhere. Throws when something is still there
 * afterwards, so a test whose cleanup fails fails.
 */
export async function removeTempHome(dir: string | undefined): Promise<void> {
  if (!dir) return;
  for (const stray of strayDataOf(dir)) await rm(stray, { recursive: true, force: true, maxRetries: 3 });
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  const left = [dir, ...strayDataOf(dir)].filter((p) => existsSync(p));
  if (left.length > 0) throw new Error(`test cleanup left ${left.join(', ')}`);
}
