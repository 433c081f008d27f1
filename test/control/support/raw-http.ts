import { connect } from 'node:net';

/** What a server wrote back on a raw connection: its first status (0 when none) and the bytes. */
export interface RawAnswer {
  status: number;
  text: string;
}

/**
 * Sends `bytes` as they are on a fresh TCP connection (no client library to tidy them up) and
 * collects the answer until the server closes, `idleMs` pass without data after a complete
 * answer, or `timeoutMs` pass.
 */
export function rawRequest(
  port: number,
  bytes: string | Buffer,
  options: { timeoutMs?: number; idleMs?: number } = {},
): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let idle: NodeJS.Timeout | undefined;
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    const finish = () => {
      clearTimeout(idle);
      clearTimeout(deadline);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      // A 100 Continue may come first: the final status is the last status line.
      const statuses = [...text.matchAll(/^HTTP\/1\.[01] (\d{3})/gm)].map((m) => Number(m[1]));
      resolve({ status: statuses.filter((s) => s >= 200).at(0) ?? statuses.at(-1) ?? 0, text });
    };
    const deadline = setTimeout(finish, options.timeoutMs ?? 5_000);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      clearTimeout(idle);
      idle = setTimeout(finish, options.idleMs ?? 150);
    });
    socket.on('error', finish);
    socket.on('close', finish);
  });
}
