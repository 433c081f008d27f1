/**
 * An HTTP server on 127.0.0.1 whose capacity is known by construction, for the capacity search.
 *
 * It serves in rounds, like a bulk-synchronous or group-commit server: a round takes up to
 * `slots` waiting requests, runs their parallel part together (`parallelMs`), then passes them
 * one by one through a mutex (`serialMs` each); the next round starts when the mutex is free.
 * A full round of N requests takes p + N·s, so the most it sustains is N / (p + N·s) =
 * (N / S) / (1 + σ(N − 1)) with S = p + s and σ = s / S: Amdahl's law, the USL with κ = 0. Below
 * that rate every request is answered within two rounds; above it the queue grows without
 * bound, so the SLO's knee sits at the law's value.
 *
 * The rounds are scheduled on a virtual clock (times computed, answers sent by timers), so timer
 * jitter delays answers by a millisecond or so but never changes the capacity.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Options of {@link startSyntheticServer}. */
export interface SyntheticServerOptions {
  slots: number;
  parallelMs: number;
  serialMs: number;
  /** Never answer requests (other than /healthz): a server the generator piles up on. */
  stall?: boolean;
}

/** The law's value: requests/s the server sustains with `slots`. */
export function syntheticCapacity(o: SyntheticServerOptions): number {
  return (o.slots * 1000) / (o.parallelMs + o.slots * o.serialMs);
}

export interface SyntheticServer {
  url: string;
  close(): Promise<void>;
}

export async function startSyntheticServer(options: SyntheticServerOptions): Promise<SyntheticServer> {
  const waiting: (() => void)[] = [];
  /** When the current round's mutex is free (ms, performance clock): the next round may start. */
  let freeAt = 0;
  let timer: NodeJS.Timeout | undefined;
  const held = new Set<() => void>();

  // Starts a round when one can start, with up to `slots` waiting requests.
  const schedule = () => {
    if (timer || waiting.length === 0) return;
    const now = performance.now();
    if (now < freeAt) {
      timer = setTimeout(() => {
        timer = undefined;
        schedule();
      }, freeAt - now);
      return;
    }
    const start = Math.max(now, freeAt);
    const batch = waiting.splice(0, options.slots);
    batch.forEach((answer, i) => {
      const doneAt = start + options.parallelMs + (i + 1) * options.serialMs;
      setTimeout(answer, doneAt - performance.now());
    });
    freeAt = start + options.parallelMs + batch.length * options.serialMs;
    schedule();
  };

  const server: Server = createServer((req, res) => {
    const answer = () => {
      held.delete(answer);
      if (res.writableEnded) return;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"id":1}');
    };
    if (req.url === '/healthz') return answer();
    if (options.stall) {
      held.add(answer);
      return;
    }
    waiting.push(answer);
    schedule();
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      if (timer) clearTimeout(timer);
      held.clear();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
