import { open, stat } from 'node:fs/promises';
import { watch } from 'node:fs';

/** Most bytes read from the end of a log for a tail. */
const TAIL_BYTES = 1 << 20;

/** The last `lines` lines of a log file (empty when it does not exist yet). */
export async function tailFile(file: string, lines: number): Promise<string[]> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch {
    return [];
  }
  try {
    const { size } = await handle.stat();
    const start = Math.max(0, size - TAIL_BYTES);
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    const all = buffer.toString('utf8').split('\n');
    if (all.at(-1) === '') all.pop();
    // A tail that starts mid-file starts mid-line: drop the partial one.
    if (start > 0) all.shift();
    return all.slice(-lines);
  } finally {
    await handle.close();
  }
}

/**
 * Calls `onLine` for every line appended to `file` from now on (like `tail -f`, surviving the
 * file being truncated). Returns stop.
 */
export function followFile(file: string, onLine: (line: string) => void): () => void {
  let position = -1;
  let partial = '';
  let reading = false;
  let again = false;
  let stopped = false;
  const read = async () => {
    if (reading) {
      again = true;
      return;
    }
    reading = true;
    try {
      do {
        again = false;
        const size = await stat(file).then(
          (s) => s.size,
          () => 0,
        );
        if (position < 0 || size < position) position = position < 0 ? size : 0;
        if (size === position) continue;
        const handle = await open(file, 'r');
        try {
          const buffer = Buffer.alloc(Math.min(size - position, TAIL_BYTES));
          const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
          position += bytesRead;
          const text = partial + buffer.subarray(0, bytesRead).toString('utf8');
          const lines = text.split('\n');
          partial = lines.pop() ?? '';
          for (const line of lines) if (!stopped) onLine(line);
        } finally {
          await handle.close();
        }
      } while (again && !stopped);
    } catch {
      // The file went away; the next change reads it again.
    } finally {
      reading = false;
    }
  };
  void read();
  // fs.watch misses appends on some filesystems; a slow poll backs it up.
  let watcher: ReturnType<typeof watch> | undefined;
  try {
    watcher = watch(file, () => void read());
  } catch {
    watcher = undefined;
  }
  const timer = setInterval(() => void read(), 500);
  return () => {
    stopped = true;
    watcher?.close();
    clearInterval(timer);
  };
}
