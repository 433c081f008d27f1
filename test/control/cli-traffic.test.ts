import { describe, expect, it } from 'vitest';
import {
  generatorLimitLine,
  parseDuration,
  parseMix,
  secondLine,
  summaryJson,
  trafficSpec,
  TrafficUsageError,
} from '../../electron/cli-traffic.js';
import type { GeneratorHealth, TrafficSecond } from '../../electron/contract.js';

describe('scalelab traffic options', () => {
  it('reads the issue example as a spike from 200 to 2000 over 60 s with a 90/10 mix and Zipf 1.1', async () => {
    const spec = await trafficSpec({ profile: 'spike', rps: '200..2000', duration: '60s', mix: 'read=90,write=10', zipf: '1.1' });
    expect(spec).toEqual({
      profile: { kind: 'spike', base: 200, peak: 2000, atS: 20, forS: 10 },
      durationS: 60,
      mix: { read: 90, write: 10, list: 0, missing: 0, sendEmail: 0 },
      keys: { distribution: 'zipf', s: 1.1 },
      timeoutMs: undefined,
    });
  });

  it('treats --rps N alone, or --constant, as a constant profile', async () => {
    expect((await trafficSpec({ rps: '500' })).profile).toEqual({ kind: 'constant', rps: 500 });
    expect((await trafficSpec({ constant: true, rps: '100..300', uniform: true })).profile).toEqual({ kind: 'constant', rps: 300 });
    expect((await trafficSpec({ rps: '10', uniform: true })).keys).toEqual({ distribution: 'uniform' });
  });

  it('parses durations and refuses nonsense with a usage error', async () => {
    expect(parseDuration('90')).toBe(90);
    expect(parseDuration('2m')).toBe(120);
    expect(parseDuration('1500ms')).toBe(1.5);
    expect(() => parseDuration('soon')).toThrow(TrafficUsageError);
    expect(() => parseMix('read=90,teleport=10')).toThrow(/read, write, list, missing, send-email/);
    await expect(trafficSpec({ profile: 'warp' })).rejects.toThrow(TrafficUsageError);
    await expect(trafficSpec({ rps: '-5' })).rejects.toThrow(/--rps/);
    await expect(trafficSpec({ profile: 'replay' })).rejects.toThrow(/--replay FILE/);
  });

  it('prints the documented JSON summary shape', () => {
    const json = summaryJson({
      running: false,
      profile: 'constant',
      durationS: 3,
      offeredRps: 300,
      achievedRps: 299,
      requests: 899,
      p50Ms: 1,
      p95Ms: 4,
      p99Ms: 10,
      errors: { timeout: 0, refused: 1, http4xx: 0, http5xx: 2 },
      droppedByClient: 0,
      acknowledgedWrites: 90,
    });
    expect(Object.keys(json)).toEqual([
      'offeredRps',
      'achievedRps',
      'requests',
      'p50Ms',
      'p95Ms',
      'p99Ms',
      'errors',
      'droppedByClient',
      'acknowledgedWrites',
      'generator',
    ]);
    expect(Object.keys(json.errors)).toEqual(['timeout', 'refused', 'http4xx', 'http5xx']);
  });

  const healthy: GeneratorHealth = {
    threads: 1,
    busyCores: 0.12,
    busiestThread: 0.12,
    lagP99Ms: 1.2,
    lagMaxMs: 3,
    limitedBy: null,
    limitReason: null,
  };
  const second: TrafficSecond = {
    running: true,
    profile: 'constant',
    targetRps: 800,
    offeredRps: 800,
    achievedRps: 790,
    p50: 1,
    p95: 3,
    p99: 9,
    errorsPerSec: { timeout: 0, refused: 0, http4xx: 0, http5xx: 0 },
    droppedPerSec: 0,
    health: healthy,
  };

  it("shows the generator's cpu and lag on each second's line, and says when it is the bottleneck", () => {
    expect(secondLine(3, second)).toMatch(/dropped 0\/s  gen 0\.12 cpu lag 1\.2 ms$/);
    const late = {
      ...second,
      health: { ...healthy, busyCores: 0.99, lagP99Ms: 120, limitedBy: 'generator' as const, limitReason: 'lag p99 120 ms, 3 % dropped' },
    };
    const [line, limit] = secondLine(4, late).split('\n');
    expect(line).toContain('gen 0.99 cpu lag 120.0 ms');
    expect(limit).toBe(
      '! the load generator is the bottleneck this second (lag p99 120 ms, 3 % dropped): the client-observed figures understate the stack',
    );
    expect(generatorLimitLine(healthy, 'in this run')).toBeNull();
  });
});
