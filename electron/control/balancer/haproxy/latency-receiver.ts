import { createSocket, type Socket } from 'node:dgram';
import type * as hdr from 'hdr-histogram-js';
import type { Percentiles } from '../../../contract.js';
import { histogram, percentiles } from '../stats.js';

/** Latency of one interval: overall and by slot server name (`r1` …). */
export interface LatencyInterval {
  overall: Percentiles;
  bySlot: Map<string, Percentiles>;
  /** Lines that were accepted, and lines dropped (no secret, malformed). */
  lines: number;
  dropped: number;
}

/** A log line: `<secret> <weight> <server|<NOSRV>> <status> <micros>`. */
const LINE = /^(\S+) (\d{1,3}) (\S{1,32}) (-?\d{1,3}) (\d{1,12})\n?$/;

/**
 * Receives HAProxy's per-request log lines on a UDP port of 127.0.0.1 and keeps weighted latency
 * histograms. A line counts only when it starts with the stack's secret, so nothing else on the
 * machine can write into the figures; HAProxy's own notices ("Server api/r1 is UP") have no
 * secret and are dropped. Each line carries its sampling weight (1, 4, 16, 64): a line that
 * stands for 16 requests is recorded 16 times, so percentiles stay those of all requests.
 */
export class LatencyReceiver {
  private socket: Socket | undefined;
  private overall = histogram();
  private readonly bySlot = new Map<string, hdr.Histogram>();
  private lines = 0;
  private dropped = 0;

  constructor(private readonly secret: string) {}

  /** Binds 127.0.0.1:`port` (0 picks one); resolves with the port. */
  async listen(port: number): Promise<number> {
    const socket = createSocket({ type: 'udp4' });
    socket.on('message', (message) => this.receive(message));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, '127.0.0.1', () => {
        socket.off('error', reject);
        resolve();
      });
    });
    // A receive error must not end the control plane; the next line is independent of it.
    socket.on('error', () => undefined);
    this.socket = socket;
    return socket.address().port;
  }

  /** Figures since the previous call, then starts a new interval. */
  take(): LatencyInterval {
    const bySlot = new Map<string, Percentiles>();
    for (const [slot, h] of this.bySlot) {
      bySlot.set(slot, percentiles(h));
      h.destroy();
    }
    const interval = { overall: percentiles(this.overall), bySlot, lines: this.lines, dropped: this.dropped };
    this.overall.reset();
    this.bySlot.clear();
    this.lines = 0;
    this.dropped = 0;
    return interval;
  }

  async close(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
    this.overall.destroy();
    for (const h of this.bySlot.values()) h.destroy();
    this.bySlot.clear();
  }

  /** Records one datagram; anything that is not a well-formed line with the secret is counted and dropped. */
  private receive(message: Buffer): void {
    const m = message.length <= 256 ? LINE.exec(message.toString('latin1')) : null;
    const weight = Number(m?.[2]);
    if (!m || m[1] !== this.secret || weight < 1 || weight > 64) {
      this.dropped += 1;
      return;
    }
    const micros = Math.max(1, Number(m[5] ?? 1));
    this.lines += 1;
    this.overall.recordValueWithCount(micros, weight);
    const slot = m[3];
    if (slot === undefined || slot === '<NOSRV>') return;
    let h = this.bySlot.get(slot);
    if (!h) {
      h = histogram();
      this.bySlot.set(slot, h);
    }
    h.recordValueWithCount(micros, weight);
  }
}
