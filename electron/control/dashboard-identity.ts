/**
 * The dashboard's port and token, kept per SCALELAB_HOME (`dashboard.json`, mode 0600 in the 0700
 * home) so that the next control plane for the same home answers where the last one did, with the
 * same token: an open tab (and its HttpOnly cookie) reconnects after `scalelab down` / `up` or a
 * restart without a new URL. The token never leaves owner-only files, as before; a file that is
 * torn, foreign or loosened is ignored (and replaced), never trusted.
 */
import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface DashboardIdentity {
  port: number;
  token: string;
}

const TOKEN = /^[A-Za-z0-9_-]{32,128}$/;

export function dashboardIdentityPath(home: string): string {
  return path.join(home, 'dashboard.json');
}

/** A fresh token: 24 random bytes, base64url. */
export function newDashboardToken(): string {
  return randomBytes(24).toString('base64url');
}

/** The identity the last control plane for `home` used, or undefined when there is none to trust. */
export async function readDashboardIdentity(home: string): Promise<DashboardIdentity | undefined> {
  const file = dashboardIdentityPath(home);
  try {
    const info = await lstat(file);
    // Only a plain file of ours that nobody else can read or write.
    if (!info.isFile() || (info.mode & 0o077) !== 0 || (typeof process.getuid === 'function' && info.uid !== process.getuid()))
      return undefined;
    const parsed = JSON.parse(await readFile(file, 'utf8')) as unknown;
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { port, token } = parsed as Record<string, unknown>;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) return undefined;
    if (typeof token !== 'string' || !TOKEN.test(token)) return undefined;
    return { port, token };
  } catch {
    return undefined;
  }
}

/** Keeps the identity for the next control plane: owner-only, written to a temp file and renamed. */
export async function writeDashboardIdentity(home: string, identity: DashboardIdentity): Promise<void> {
  const file = dashboardIdentityPath(home);
  await mkdir(home, { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify(identity, null, 2), { mode: 0o600 });
  await chmod(temp, 0o600);
  await rename(temp, file);
}
