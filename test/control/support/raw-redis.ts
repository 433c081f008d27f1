import { connect } from 'node:net';

/** Sends one raw (inline) command line to Redis on 127.0.0.1:`port`, as any local process could, and returns the first reply. */
export function rawRedisCommand(port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(3_000, () => socket.destroy(new Error('no reply')));
    socket.once('connect', () => socket.write(`${line}\r\n`));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString());
    });
    socket.once('error', reject);
  });
}
