import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** SCALELAB_HOME, or ~/.scalelab. */
export function scalelabHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.SCALELAB_HOME ?? path.join(os.homedir(), '.scalelab');
}

/** Where the running control plane answers: `SCALELAB_HOME/control.json`, mode 0600. */
export interface ControlFile {
  pid: number;
  /** http://127.0.0.1:<port> */
  url: string;
  /** Per-launch token every HTTP and WebSocket request must carry. */
  token: string;
  startedAt: number;
}

export function controlFilePath(home: string): string {
  return path.join(home, 'control.json');
}

export async function readControlFile(home: string): Promise<ControlFile | undefined> {
  try {
    return JSON.parse(await readFile(controlFilePath(home), 'utf8')) as ControlFile;
  } catch {
    return undefined;
  }
}

/** Written only readable by its owner: the token in it is the key to the whole stack. */
export async function writeControlFile(home: string, control: ControlFile): Promise<void> {
  const file = controlFilePath(home);
  await mkdir(home, { recursive: true, mode: 0o700 });
  await writeFile(file, JSON.stringify(control, null, 2), { mode: 0o600 });
  await chmod(file, 0o600);
}

/** Removes the file if it still describes this process. */
export async function removeControlFile(home: string, pid: number): Promise<void> {
  const current = await readControlFile(home);
  if (current?.pid === pid) await rm(controlFilePath(home), { force: true });
}
