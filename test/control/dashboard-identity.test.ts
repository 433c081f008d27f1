import { chmod, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  dashboardIdentityPath,
  newDashboardToken,
  readDashboardIdentity,
  writeDashboardIdentity,
} from '../../electron/control/dashboard-identity.js';
import { removeTempHome } from '../support/temp-home.js';

let home: string;
beforeEach(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'scalelab-identity-'));
});
afterEach(async () => {
  await removeTempHome(home);
});

describe("the dashboard's port and token per SCALELAB_HOME", () => {
  it('are kept owner-only and read back for the next control plane', async () => {
    const identity = { port: 4751, token: newDashboardToken() };
    await writeDashboardIdentity(home, identity);
    expect((await stat(dashboardIdentityPath(home))).mode & 0o777).toBe(0o600);
    expect(await readDashboardIdentity(home)).toEqual(identity);
    // Written whole: no temp file is left beside it.
    expect(JSON.parse(await readFile(dashboardIdentityPath(home), 'utf8'))).toEqual(identity);
  });

  it('are not trusted from a file others can read, a torn file, or one with a foreign shape', async () => {
    const file = dashboardIdentityPath(home);
    await writeDashboardIdentity(home, { port: 4751, token: newDashboardToken() });
    await chmod(file, 0o644);
    expect(await readDashboardIdentity(home)).toBeUndefined();
    for (const text of [
      '{"port": 4751, "tok',
      '[]',
      '{"port": 70000, "token": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}',
      '{"port": 4751, "token": "short"}',
      '{"port": 4751, "token": "has spaces and quotes \\" in it, long enough to pass"}',
    ]) {
      await writeFile(file, text, { mode: 0o600 });
      expect(await readDashboardIdentity(home), text).toBeUndefined();
    }
    expect(await readDashboardIdentity(path.join(home, 'nowhere'))).toBeUndefined();
  });
});
