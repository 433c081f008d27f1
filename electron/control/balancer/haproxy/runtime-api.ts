import { createConnection } from 'node:net';
import { NamedError } from '../../../../backend/named-error.js';

/** HAProxy's runtime API did not answer, or answered with an error. */
export class RuntimeApiError extends NamedError {}

/** The longest answer read: `show stat` of 20 slots is about 10 kB. */
const MAX_ANSWER_BYTES = 1024 * 1024;

/**
 * Sends one command (or several joined by `;`) to HAProxy's runtime API on its unix socket and
 * returns the answer. The socket is in non-interactive mode: HAProxy answers and closes.
 */
export function runtimeCommand(socket: string, command: string, timeoutMs = 2_000): Promise<string> {
  if (/[\r\n]/.test(command)) return Promise.reject(new RuntimeApiError('a runtime API command is one line'));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const conn = createConnection(socket);
    const timer = setTimeout(() => conn.destroy(new RuntimeApiError(`no answer to "${command}" within ${timeoutMs} ms`)), timeoutMs);
    conn.on('connect', () => conn.end(`${command}\n`));
    conn.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_ANSWER_BYTES) conn.destroy(new RuntimeApiError(`the answer to "${command}" is over ${MAX_ANSWER_BYTES} bytes`));
      else chunks.push(chunk);
    });
    conn.on('error', (err) => {
      clearTimeout(timer);
      reject(err instanceof RuntimeApiError ? err : new RuntimeApiError(`${socket}: ${err.message}`));
    });
    conn.on('close', (hadError) => {
      clearTimeout(timer);
      if (!hadError) resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

/** What `set server … addr` answers when it did change the address: information, not an error. */
const ADDR_CHANGED = /^(IP changed from|no need to change the addr)/;

/**
 * Runs commands that answer nothing on success (`set server … state`, or an address change's
 * notice); any other answer is HAProxy's error. Answers are separated by empty lines.
 */
export async function runtimeSet(socket: string, commands: string[]): Promise<void> {
  if (commands.length === 0) return;
  const answer = await runtimeCommand(socket, commands.join(';'));
  const problems = answer
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !ADDR_CHANGED.test(l));
  if (problems.length > 0) throw new RuntimeApiError(`"${commands.join(';')}": ${problems.join(' ').slice(0, 300)}`);
}

/** `show stat` as rows of named fields (the CSV's header line names them). */
export function parseStatCsv(text: string): Record<string, string>[] {
  const lines = text.split('\n');
  const header = lines.find((l) => l.startsWith('# '));
  if (!header) return [];
  const names = header.slice(2).split(',');
  const rows: Record<string, string>[] = [];
  for (const line of lines) {
    if (line === '' || line.startsWith('#')) continue;
    const values = line.split(',');
    const row: Record<string, string> = {};
    names.forEach((name, i) => {
      if (name) row[name] = values[i] ?? '';
    });
    rows.push(row);
  }
  return rows;
}

/** One slot as `show servers state` tells it: its address, port and whether it is in maintenance. */
export interface SlotState {
  name: string;
  addr: string;
  port: number;
  /** Administratively out (maintenance): not routable. */
  maint: boolean;
  /** Draining: no new requests. */
  drain: boolean;
}

/**
 * Parses `show servers state <backend>`: a version line, a `#` header naming the fields, then one
 * line of space-separated fields per server. srv_admin_state is a bit field: 0x01, 0x02 and 0x20
 * are maintenance (forced, inherited, by the resolver), 0x08 and 0x10 drain; 0x04 only says the
 * configuration started it disabled (it stays set after `state ready`).
 */
export function parseServersState(text: string): SlotState[] {
  const lines = text.split('\n');
  const header = lines.find((l) => l.startsWith('# '));
  if (!header) return [];
  const names = header.slice(2).trim().split(/\s+/);
  const at = (field: string) => names.indexOf(field);
  const [nameAt, addrAt, adminAt, portAt] = [at('srv_name'), at('srv_addr'), at('srv_admin_state'), at('srv_port')];
  if ([nameAt, addrAt, adminAt, portAt].some((i) => i < 0)) return [];
  const slots: SlotState[] = [];
  for (const line of lines) {
    if (line === '' || line.startsWith('#') || /^\d+$/.test(line.trim())) continue;
    const f = line.trim().split(/\s+/);
    const admin = Number(f[adminAt]);
    const port = Number(f[portAt]);
    if (!f[nameAt] || !Number.isInteger(admin) || !Number.isInteger(port)) continue;
    slots.push({ name: f[nameAt], addr: f[addrAt] ?? '', port, maint: (admin & 0x23) !== 0, drain: (admin & 0x18) !== 0 });
  }
  return slots;
}
