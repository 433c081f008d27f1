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
 * jitter delays answers by a millisecond or so but never changes the capacity: a round that a late
 * timer finds due starts when it was due, with the requests that had arrived by then.
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
  /** Requests not yet in a round, with when each arrived (ms, performance clock). */
  const waiting: { answer: () => void; at: number }[] = [];
  /** When the current round's mutex is free (ms, performance clock): the next round may start. */
  let freeAt = 0;
  let timer: NodeJS.Timeout | undefined;
  const held = new Set<() => void>();

  // Starts the rounds that are due. A round starts at the virtual time its first request could be
  // taken (the later of its arrival and the mutex coming free), never when a late timer fired, and
  // takes only requests that had arrived by then; so a late timer delays answers, not capacity.
  const schedule = () => {
    if (timer) return;
    for (;;) {
      const first = waiting[0];
      if (!first) return;
      const start = Math.max(first.at, freeAt);
      const now = performance.now();
      if (start > now) {
        timer = setTimeout(() => {
          timer = undefined;
          schedule();
        }, start - now);
        return;
      }
      let taken = 0;
      while (taken < options.slots && taken < waiting.length && waiting[taken]!.at <= start) taken += 1;
      const batch = waiting.splice(0, taken);
      batch.forEach(({ answer }, i) => {
        const doneAt = start + options.parallelMs + (i + 1) * options.serialMs;
        setTimeout(answer, Math.max(0, doneAt - now));
      });
      freeAt = start + options.parallelMs + batch.length * options.serialMs;
    }
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
    waiting.push({ answer, at: performance.now() });
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
