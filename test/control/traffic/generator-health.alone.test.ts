/**
 * The load generator's own health and rate, alone: its test of scheduling lag (the median second
 * fires within 10 ms of schedule) and of the rates it holds (3000 req/s from one thread, answered
 * by a server in the same process) measure this process's timers and cores, so they run in the
 * `alone` project after everything else, not beside a suite that keeps both cores busy (where
 * 3000 req/s once lagged 182 ms and timed out).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrafficSecond } from '../../../electron/contract.js';
import { MAX_LAG_P99_MS } from '../../../electron/control/traffic/generator-health.js';
import { TrafficRun } from '../../../electron/control/traffic/traffic-run.js';

let server: Server;
let target: string;

beforeAll(async () => {
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"id":1}');
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  target = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const reads = { read: 100, write: 0, list: 0, missing: 0, sendEmail: 0 };

describe('the generator rate', () => {
  for (const rps of [200, 1000, 3000]) {
    it(`achieves ${rps} requests/s within 2 %`, async () => {
      const run = new TrafficRun({
        target,
        spec: { profile: { kind: 'constant', rps }, durationS: 4, mix: reads, keys: { distribution: 'uniform' } },
        keys: [1],
      });
      await run.start();
      const summary = await run.done;
      expect(Math.abs(summary.offeredRps - rps) / rps, JSON.stringify(summary)).toBeLessThan(0.02);
      expect(Math.abs(summary.achievedRps - rps) / rps, JSON.stringify(summary)).toBeLessThan(0.02);
      expect(summary.droppedByClient).toBe(0);
      expect(summary.errors).toEqual({ timeout: 0, refused: 0, http4xx: 0, http5xx: 0 });
      expect(summary.p50Ms).toBeGreaterThan(0);
    });
  }
});

describe('the generator at a low rate', () => {
  it('reports its own health at a low rate: threads, busy share, a small lag, and not the limit', async () => {
    const seconds: TrafficSecond[] = [];
    const run = new TrafficRun({
      target,
      spec: { profile: { kind: 'constant', rps: 300 }, durationS: 4, mix: reads },
      keys: [1],
      onSecond: (s) => seconds.push(s),
    });
    await run.start();
    const summary = await run.done;
    expect(seconds.length).toBeGreaterThanOrEqual(3);
    for (const s of seconds) {
      const h = s.health!;
      expect(h.threads).toBe(1);
      expect(h.busiestThread).toBeGreaterThan(0);
      expect(h.busiestThread).toBeLessThanOrEqual(1);
      expect(h.busyCores).toBeCloseTo(h.busiestThread, 5);
      expect(h.lagMaxMs!).toBeGreaterThanOrEqual(h.lagP99Ms!);
    }
    const lags = seconds.map((s) => s.health!.lagP99Ms!).sort((a, b) => a - b);
    // The median second fires on time (a 1 ms timer); a shared machine may steal one second.
    expect(lags[Math.floor(lags.length / 2)]!, JSON.stringify(lags)).toBeLessThan(10);
    expect(seconds.filter((s) => s.health!.limitedBy !== null).length, JSON.stringify(seconds.map((s) => s.health))).toBeLessThanOrEqual(1);
    expect(summary.health!.limitedSeconds).toBeLessThanOrEqual(1);
    expect(summary.health!.limitedBy).toBeNull();
    expect(summary.health!.lagP99Ms!).toBeLessThan(MAX_LAG_P99_MS);
  });
});
