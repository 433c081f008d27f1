import { Readable } from 'node:stream';
import { NamedError } from '../../../../backend/named-error.js';

/**
 * Just enough of the tar format to move a container's folder into another container through the
 * engine's archive API: reads the archive GET /containers/{id}/archive sends (ustar, with the PAX
 * and GNU long-name records Go's archive/tar may add), drops entries, moves the rest under another
 * top folder, and writes ustar back (with a PAX record where a name is too long) for PUT /archive.
 * File contents stream through: a 1 GiB relation segment is never held in memory.
 */

/** The archive is not a tar archive this reader understands, or it ended early. */
export class TarFormatError extends NamedError {}

const BLOCK = 512;
/** Entry types: regular file, hard link, symlink, directory. */
export type TarEntryType = 'file' | 'link' | 'symlink' | 'directory' | 'other';

/** One entry as {@link RebaseOptions.keep} sees it. */
export interface TarEntry {
  /** Its path under the archive's top folder ('' for the top folder itself), without a trailing slash. */
  path: string;
  type: TarEntryType;
  size: number;
  uid: number;
  gid: number;
}

/** Options of {@link rebaseTar}. */
export interface RebaseOptions {
  /** The top folder of the output, e.g. `pgdata`: `data/base/1/112` becomes `pgdata/base/1/112`. */
  to: string;
  /** Whether an entry goes through. @defaultValue every entry does */
  keep?: (entry: TarEntry) => boolean;
  /** Sees every entry that went through, e.g. to count bytes or to learn the files' owner. */
  onEntry?: (entry: TarEntry) => void;
}

const TYPES: Record<string, TarEntryType> = { '0': 'file', '\0': 'file', '7': 'file', '1': 'link', '2': 'symlink', '5': 'directory' };

function text(block: Buffer, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? length : end).toString('utf8');
}

/** A numeric field: octal text, or base-256 when its first byte has the high bit (GNU, for large values). */
function numeric(block: Buffer, offset: number, length: number): number {
  if (block[offset]! & 0x80) {
    let value = block[offset]! & 0x7f;
    for (let i = 1; i < length; i++) value = value * 256 + block[offset + i]!;
    return value;
  }
  const digits = text(block, offset, length).trim();
  return digits ? Number.parseInt(digits, 8) : 0;
}

function checksumOk(block: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return sum === numeric(block, 148, 8);
}

function writeOctal(block: Buffer, offset: number, length: number, value: number): void {
  block.write(`${value.toString(8).padStart(length - 1, '0')}\0`, offset, length, 'ascii');
}

function sealChecksum(block: Buffer): Buffer {
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += block[i]!;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return block;
}

/** One PAX record, `<length> key=value\n`, where the length counts itself. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(body) + 1;
  while (String(length).length + Buffer.byteLength(body) !== length) length += 1;
  return `${length}${body}`;
}

/** A PAX extended header (type x) carrying `records` for the entry that follows it. */
function paxHeader(records: Record<string, string>): Buffer[] {
  const body = Buffer.from(
    Object.entries(records)
      .map(([k, v]) => paxRecord(k, v))
      .join(''),
    'utf8',
  );
  const header = Buffer.alloc(BLOCK);
  header.write('PaxHeader', 0, 100, 'utf8');
  writeOctal(header, 100, 8, 0o644);
  writeOctal(header, 108, 8, 0);
  writeOctal(header, 116, 8, 0);
  writeOctal(header, 124, 12, body.length);
  writeOctal(header, 136, 12, 0);
  header.write('x', 156, 1, 'ascii');
  header.write('ustar\0', 257, 6, 'ascii');
  header.write('00', 263, 2, 'ascii');
  return [sealChecksum(header), body, Buffer.alloc((BLOCK - (body.length % BLOCK)) % BLOCK)];
}

/** Writes a name into a ustar field (cut to fit); true when it did not fit and needs a PAX record. */
function setField(header: Buffer, offset: number, value: string): boolean {
  const bytes = Buffer.from(value, 'utf8');
  header.fill(0, offset, offset + 100);
  bytes.subarray(0, 100).copy(header, offset);
  return bytes.length > 100;
}

/**
 * The blocks that name an entry: its ustar header with `name` (and `linkname`) set and the prefix
 * field cleared, after a PAX header when either is longer than ustar holds.
 */
function named(header: Buffer, name: string, linkname?: string): Buffer[] {
  const records: Record<string, string> = {};
  if (setField(header, 0, name)) records.path = name;
  if (linkname !== undefined && setField(header, 157, linkname)) records.linkpath = linkname;
  header.fill(0, 345, 500);
  return [...(Object.keys(records).length ? paxHeader(records) : []), sealChecksum(header)];
}

/** PAX records (`<len> key=value\n`…): only `path` and `linkpath` matter here. */
function paxRecords(body: Buffer): Record<string, string> {
  const records: Record<string, string> = {};
  let at = 0;
  while (at < body.length && body[at] !== 0) {
    const space = body.indexOf(0x20, at);
    const length = Number.parseInt(body.subarray(at, space).toString('ascii'), 10);
    if (!(length > 0) || space === -1) throw new TarFormatError('a PAX header record is malformed');
    const record = body.subarray(space + 1, at + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    records[record.slice(0, eq)] = record.slice(eq + 1);
    at += length;
  }
  return records;
}

/** Reads exact byte counts from a stream of chunks. */
class ByteReader {
  private buffered: Buffer[] = [];
  private size = 0;
  private done = false;

  constructor(private readonly source: AsyncIterator<Buffer>) {}

  private async fill(n: number): Promise<boolean> {
    while (this.size < n && !this.done) {
      const next = await this.source.next();
      if (next.done) this.done = true;
      else {
        const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
        this.buffered.push(chunk);
        this.size += chunk.length;
      }
    }
    return this.size >= n;
  }

  /** Exactly `n` bytes, or undefined at the end of the stream. */
  async read(n: number): Promise<Buffer | undefined> {
    if (!(await this.fill(n))) return this.size === 0 ? undefined : this.fail(n);
    const all = this.buffered.length === 1 ? this.buffered[0]! : Buffer.concat(this.buffered);
    this.buffered = all.length > n ? [all.subarray(n)] : [];
    this.size -= n;
    return all.subarray(0, n);
  }

  /** The next `n` bytes as they arrive (passed on, or dropped by not using them). */
  async *take(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.size === 0 && !(await this.fill(1))) this.fail(left);
      const head = this.buffered.shift()!;
      const part = head.subarray(0, Math.min(left, head.length));
      if (part.length < head.length) this.buffered.unshift(head.subarray(part.length));
      this.size -= part.length;
      left -= part.length;
      yield part;
    }
  }

  /** Reads the rest of the stream (the end marker's padding), so its connection is released. */
  async drain(): Promise<void> {
    this.buffered = [];
    this.size = 0;
    while (!this.done) if ((await this.source.next()).done) this.done = true;
  }

  /** Stops reading: a stream given up on is destroyed rather than left open. */
  async close(): Promise<void> {
    if (!this.done) await this.source.return?.();
  }

  private fail(n: number): never {
    throw new TarFormatError(
      `the archive ended early (${n} more bytes expected); the engine stops an archive when a file changes size while it is read`,
    );
  }
}

async function* rebaseEntries(source: AsyncIterable<Buffer>, options: RebaseOptions): AsyncGenerator<Buffer> {
  const reader = new ByteReader(source[Symbol.asyncIterator]());
  try {
    yield* entries(reader, options);
    await reader.drain();
  } finally {
    await reader.close();
  }
  yield Buffer.alloc(BLOCK * 2);
}

async function* entries(reader: ByteReader, options: RebaseOptions): AsyncGenerator<Buffer> {
  let long: { path?: string; linkpath?: string } = {};
  let top: string | undefined;
  for (;;) {
    const header = await reader.read(BLOCK);
    if (!header) throw new TarFormatError('the archive has no end marker');
    if (header.every((b) => b === 0)) break;
    if (!checksumOk(header)) throw new TarFormatError('a tar header has a bad checksum');
    const flag = String.fromCharCode(header[156]!);
    const size = numeric(header, 124, 12);
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      const parts: Buffer[] = [];
      for await (const part of reader.take(padded)) parts.push(part);
      const body = Buffer.concat(parts).subarray(0, size);
      if (flag === 'x') long = { ...long, ...paxRecords(body) };
      if (flag === 'L') long.path = text(body, 0, body.length);
      if (flag === 'K') long.linkpath = text(body, 0, body.length);
      continue;
    }
    const prefix = text(header, 257, 6).startsWith('ustar') ? text(header, 345, 155) : '';
    const name = (long.path ?? (prefix ? `${prefix}/${text(header, 0, 100)}` : text(header, 0, 100))).replace(/\/+$/, '');
    const linkpath = long.linkpath ?? text(header, 157, 100);
    long = {};
    top ??= name.split('/')[0]!;
    const rel = name === top ? '' : name.startsWith(`${top}/`) ? name.slice(top.length + 1) : undefined;
    if (rel === undefined) throw new TarFormatError(`the entry "${name}" is outside the archive's top folder "${top}"`);
    const entry: TarEntry = { path: rel, type: TYPES[flag] ?? 'other', size, uid: numeric(header, 108, 8), gid: numeric(header, 116, 8) };
    if (options.keep && !options.keep(entry)) {
      for await (const skipped of reader.take(padded)) void skipped;
      continue;
    }
    // A hard link names another entry of the archive, which moved too; a symlink's target stays as it is.
    const inside = linkpath === top || linkpath.startsWith(`${top}/`);
    const link =
      entry.type === 'link' && inside
        ? `${options.to}${linkpath.slice(top.length)}`
        : entry.type === 'link' || entry.type === 'symlink'
          ? linkpath
          : undefined;
    options.onEntry?.(entry);
    for (const block of named(Buffer.from(header), `${options.to}${rel ? `/${rel}` : ''}${entry.type === 'directory' ? '/' : ''}`, link))
      yield block;
    yield* reader.take(padded);
  }
}

/** `source` (a tar archive of one folder) with its entries filtered and moved under `options.to`. */
export function rebaseTar(source: NodeJS.ReadableStream, options: RebaseOptions): Readable {
  return Readable.from(rebaseEntries(source as AsyncIterable<Buffer>, options), { objectMode: false });
}

/** A tar archive of small files, e.g. backup_label and standby.signal written into a volume. */
export function tarOfFiles(files: { name: string; content: string; mode: number; uid: number; gid: number }[]): Buffer {
  const blocks: Buffer[] = [];
  const mtime = Math.floor(Date.now() / 1000);
  for (const file of files) {
    const body = Buffer.from(file.content, 'utf8');
    const header = Buffer.alloc(BLOCK);
    writeOctal(header, 100, 8, file.mode);
    writeOctal(header, 108, 8, file.uid);
    writeOctal(header, 116, 8, file.gid);
    writeOctal(header, 124, 12, body.length);
    writeOctal(header, 136, 12, mtime);
    header.write('0', 156, 1, 'ascii');
    header.write('ustar\0', 257, 6, 'ascii');
    header.write('00', 263, 2, 'ascii');
    blocks.push(...named(header, file.name), body, Buffer.alloc((BLOCK - (body.length % BLOCK)) % BLOCK));
  }
  blocks.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(blocks);
}
