/**
 * The capacity search and the scaling curve against a synthetic server whose capacity is known by
 * construction (test/control/support/synthetic-capacity-server.ts): real HTTP, the real traffic
 * generator, real timers. Its law is Amdahl's (the USL with κ = 0): with n slots it sustains
 * n·1000 / (p + n·s) req/s, so λ = 1000 / (p + s) and σ = s / (p + s).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { CapacityStep } from '../../../electron/capacity-spec.js';
import { runCurve } from '../../../electron/control/capacity/curve.js';
import {
  judgeStep,
  runProbe,
  searchCapacity,
  type ProbeRunner,
  type ProbeSecond,
  type StepMeasurement,
} from '../../../electron/control/capacity/search.js';
import { directRun, trafficProbeRunner, trafficStepRunner } from '../../../electron/control/capacity/step-runner.js';
import type { TrafficSummary } from '../../../electron/traffic-spec.js';
import { startSyntheticServer, syntheticCapacity, type SyntheticServer } from '../support/synthetic-capacity-server.js';

// 9 ms in parallel, 1 ms serial per request: λ = 100 req/s, σ = 0.1.
const PARALLEL_MS = 9;
const SERIAL_MS = 1;
const SIGMA = SERIAL_MS / (PARALLEL_MS + SERIAL_MS);
// A round is 10–13 ms, so below capacity every answer comes within ~30 ms; 2 s at 5 % above
// capacity queues ~10 rounds (≥ 100 ms) by the step's end, so p99 < 60 ms splits the two.
const SLO = { p99Ms: 60, errorPercent: 0.1 };
// The bracket ends within 1 % of its upper end plus 1 req/s: under 2.5 % at 100 req/s.
const SEARCH = { minRps: 25, maxRps: 2_000, precision: 0.01, maxSteps: 16 };

let server: SyntheticServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A step runner that fires at whatever server is current, so a curve can swap it per replica count. */
function stepRunnerAtCurrent() {
  return trafficStepRunner({
    settleS: 0.4,
    timeoutMs: 1_000,
    run: (spec, signal) => directRun(server!.url, [1, 2, 3, 4, 5])(spec, signal),
  });
}

/** A probe runner that ramps at whatever server is current. */
function probeAtCurrent(): ProbeRunner {
  return trafficProbeRunner({
    settleS: 0.4,
    timeoutMs: 1_000,
    run: (spec, signal, onSecond) => directRun(server!.url, [1, 2, 3, 4, 5])(spec, signal, onSecond),
  });
}

function summary(patch: Partial<TrafficSummary>): TrafficSummary {
  const errors = { timeout: 0, refused: 0, http4xx: 0, http5xx: 0 };
  return {
    running: false,
    profile: 'constant',
    durationS: 2,
    offeredRps: 100,
    achievedRps: 100,
    requests: 200,
    p50Ms: 5,
    p95Ms: 9,
    p99Ms: 12,
    errors,
    droppedByClient: 0,
    acknowledgedWrites: 0,
    ...patch,
  };
}

describe('the capacity search against a server of known capacity', () => {
  it('recovers the capacity at 1, 2, 4 and 8 slots within 5 % and the contention σ within 0.04', { timeout: 300_000 }, async () => {
    const seen: string[] = [];
    const status = await runCurve({
      replicas: [1, 2, 4, 8],
      slo: SLO,
      stepS: 2,
      search: SEARCH,
      scale: async (n) => {
        await server?.close();
        server = await startSyntheticServer({ slots: n, parallelMs: PARALLEL_MS, serialMs: SERIAL_MS });
      },
      runStep: stepRunnerAtCurrent(),
      onStatus: (s) => seen.push(s.message),
    });
    expect(status.state, status.error ?? '').toBe('done');
    for (const result of status.results) {
      const known = syntheticCapacity({ slots: result.replicas, parallelMs: PARALLEL_MS, serialMs: SERIAL_MS });
      const steps = result.steps.map((s) => `${s.targetRps}:${s.verdict}`).join(' ');
      console.log(`slots ${result.replicas}: found ${result.capacityRps} req/s, known ${known.toFixed(1)}; steps ${steps}`);
      expect(result.outcome).toBe('found');
      expect(Math.abs((result.capacityRps ?? 0) - known) / known, steps).toBeLessThan(0.05);
      // Every step's figures are kept, and a pass always lies below a fail.
      expect(result.steps.length).toBeGreaterThanOrEqual(3);
      expect(Math.max(...result.steps.filter((s) => s.verdict === 'pass').map((s) => s.targetRps))).toBe(result.capacityRps);
    }
    // Each capacity comes out within ~3 % of the law, either side (the bisection's bracket plus the
    // knee's width: 2 s a few % above capacity queues less than the SLO's margin).
    // Simulated with such errors (400 draws), the fit's σ over 1, 2, 4, 8 stays within 0.025 of 0.1;
    // over 1, 2, 4 alone it strays up to 0.06, as three points fix three parameters exactly. 0.04
    // leaves room for timer jitter and still tells σ = 0.1 from no contention or from twice as much.
    expect(status.fit, status.fitError ?? '').not.toBeNull();
    console.log(
      `fit: λ ${status.fit!.lambda.toFixed(1)}, σ ${status.fit!.sigma.toFixed(3)}, κ ${status.fit!.kappa.toFixed(5)}, R² ${status.fit!.r2.toFixed(4)}`,
    );
    expect(Math.abs(status.fit!.sigma - SIGMA)).toBeLessThan(0.04);
    expect(Math.abs(status.fit!.lambda - 100) / 100).toBeLessThan(0.05);
    expect(status.fit!.r2).toBeGreaterThan(0.9);
    // Efficiency falls with n as contention grows: C(4) / (4·C(1)) ≈ 1 / (1 + 3σ) = 0.77.
    const e4 = status.curve.find((p) => p.replicas === 4)?.efficiency ?? 0;
    expect(e4).toBeGreaterThan(0.7);
    expect(e4).toBeLessThan(0.85);
    // Progress came per step, in words.
    expect(seen.some((m) => /^api 2 \(2 of 4\): step \d+ at \d+ req\/s (pass|fail)/.test(m))).toBe(true);
  });

  it('with a quick ramp first, recovers the same capacities in a few constant steps each', { timeout: 300_000 }, async () => {
    const status = await runCurve({
      replicas: [1, 2, 4],
      slo: SLO,
      stepS: 2,
      search: { ...SEARCH, precision: 0.02 },
      scale: async (n) => {
        await server?.close();
        server = await startSyntheticServer({ slots: n, parallelMs: PARALLEL_MS, serialMs: SERIAL_MS });
      },
      runStep: stepRunnerAtCurrent(),
      probe: probeAtCurrent(),
    });
    expect(status.state, status.error ?? '').toBe('done');
    for (const result of status.results) {
      const known = syntheticCapacity({ slots: result.replicas, parallelMs: PARALLEL_MS, serialMs: SERIAL_MS });
      const steps = result.steps.map((s) => `${s.targetRps}:${s.verdict}`).join(' ');
      console.log(
        `probe slots ${result.replicas}: ${JSON.stringify(result.probe)}; found ${result.capacityRps} req/s, known ${known.toFixed(1)}; steps ${steps}`,
      );
      // The probe missed above the knee (a ramp reaches a rate before its queue does), not far above it.
      expect(result.probe, steps).not.toBeNull();
      expect(result.probe!.missRps).toBeGreaterThan(known * 0.9);
      expect(result.probe!.missRps).toBeLessThan(known * 1.6);
      expect(result.outcome).toBe('found');
      expect(Math.abs((result.capacityRps ?? 0) - known) / known, steps).toBeLessThan(0.06);
      // A doubling ramp from 25 req/s takes 3–6 steps to bracket 100–300 req/s, then bisects.
      expect(result.steps.length, steps).toBeLessThanOrEqual(6);
    }
  });

  it('reports that the SLO cannot be met when the lowest rate already misses it', { timeout: 60_000 }, async () => {
    // One slot, 40 ms per request: 25 req/s at most, well below the lowest rate tried.
    server = await startSyntheticServer({ slots: 1, parallelMs: 39, serialMs: 1 });
    const result = await searchCapacity(stepRunnerAtCurrent(), { replicas: 1, slo: SLO, stepS: 2, minRps: 60, maxRps: 500 });
    expect(result.outcome).toBe('slo-not-met');
    expect(result.capacityRps).toBeNull();
    // A ramp step that misses is run once more before it counts: both missed.
    expect(result.steps).toHaveLength(2);
    expect(result.steps[0]).toMatchObject({ targetRps: 60, verdict: 'fail' });
    expect(result.steps[1]).toMatchObject({ targetRps: 60, verdict: 'fail' });
    expect(result.steps[0]!.reason).toMatch(/p99 [\d.]+ ms ≥ 60 ms/);
  });

  it('a stop mid-search ends it with what was found so far', { timeout: 60_000 }, async () => {
    server = await startSyntheticServer({ slots: 2, parallelMs: PARALLEL_MS, serialMs: SERIAL_MS });
    const abort = new AbortController();
    const steps: CapacityStep[] = [];
    const result = await searchCapacity(stepRunnerAtCurrent(), {
      replicas: 2,
      slo: SLO,
      stepS: 2,
      minRps: 25,
      signal: abort.signal,
      onStep: (step) => {
        steps.push(step);
        if (steps.length === 2) abort.abort();
      },
    });
    expect(result.outcome).toBe('stopped');
    expect(result.steps).toHaveLength(2);
    expect(result.capacityRps).toBe(50);
  });
});

describe('a step the generator could not offer', () => {
  it('is invalid, never capacity, and a search it stops says the generator was the limit', async () => {
    const dropped = judgeStep({ summary: summary({ droppedByClient: 12, requests: 188 }), telemetry: null }, SLO);
    expect(dropped.verdict).toBe('invalid');
    expect(dropped.reason).toMatch(/^generator: dropped 12/);
    const lagging = judgeStep(
      {
        summary: summary({
          health: {
            threads: 1,
            busyCores: 1,
            busiestThread: 1,
            lagP99Ms: 120,
            lagMaxMs: 300,
            limitedBy: 'generator',
            limitReason: 'lag p99 120 ms',
            limitedSeconds: 2,
          },
        }),
        telemetry: null,
      },
      SLO,
    );
    expect(lagging).toEqual({ verdict: 'invalid', reason: 'generator: lag p99 120 ms' });

    // A step runner whose generator drops above 300 req/s, while the stack (p99 10 ms) would hold more.
    const runStep = async (rps: number): Promise<StepMeasurement> => ({
      summary: summary({
        offeredRps: rps,
        achievedRps: Math.min(rps, 300),
        requests: 2 * Math.min(rps, 300),
        droppedByClient: rps > 300 ? 2 * (rps - 300) : 0,
        p99Ms: 10,
      }),
      telemetry: null,
    });
    const result = await searchCapacity(runStep, { replicas: 1, slo: SLO, stepS: 2, minRps: 100, maxRps: 5_000 });
    expect(result.outcome).toBe('generator-limited');
    expect(result.capacityRps).toBeLessThanOrEqual(300);
    for (const step of result.steps.filter((s) => s.targetRps > 300)) expect(step.verdict).toBe('invalid');
  });

  it('is run once more, so one hiccup of the generator does not end the search', async () => {
    let calls = 0;
    // Holds 400 req/s (p99 10 ms) and fails above; the first step at 200 comes back with drops.
    const runStep = async (rps: number): Promise<StepMeasurement> => {
      calls += 1;
      const hiccup = rps === 200 && calls === 2;
      return {
        summary: summary({ offeredRps: rps, requests: 2 * rps, droppedByClient: hiccup ? 30 : 0, p99Ms: rps <= 400 ? 10 : 90 }),
        telemetry: null,
      };
    };
    const result = await searchCapacity(runStep, { replicas: 1, slo: SLO, stepS: 2, minRps: 100, maxRps: 5_000, precision: 0.05 });
    expect(result.steps.slice(0, 3).map((s) => `${s.targetRps}:${s.verdict}`)).toEqual(['100:pass', '200:invalid', '200:pass']);
    expect(result.outcome).toBe('found');
    expect(result.capacityRps).toBeGreaterThanOrEqual(380);
    expect(result.capacityRps).toBeLessThanOrEqual(400);
  });
});

describe('a ramp step that misses', () => {
  it('is run once more, so one stall far below the knee does not halve the capacity', async () => {
    let calls = 0;
    // Holds 400 req/s (p99 10 ms); the first step at 200 stalls once (p99 300 ms).
    const runStep = async (rps: number): Promise<StepMeasurement> => {
      calls += 1;
      const stall = rps === 200 && calls === 2;
      return { summary: summary({ offeredRps: rps, requests: 2 * rps, p99Ms: stall ? 300 : rps <= 400 ? 10 : 90 }), telemetry: null };
    };
    const result = await searchCapacity(runStep, { replicas: 1, slo: SLO, stepS: 2, minRps: 100, maxRps: 5_000, precision: 0.05 });
    expect(result.steps.slice(0, 3).map((s) => `${s.targetRps}:${s.verdict}`)).toEqual(['100:pass', '200:fail', '200:pass']);
    expect(result.outcome).toBe('found');
    expect(result.capacityRps).toBeGreaterThanOrEqual(380);
    // Bisection misses are taken as they are: no step of the bisection is run twice.
    const bisect = result.steps.filter((s) => s.phase === 'bisect').map((s) => s.targetRps);
    expect(new Set(bisect).size).toBe(bisect.length);
  });
});

/** A probe runner that replays seconds computed from the rate: no server, exact control. */
function scriptedProbe(second: (rps: number, index: number) => Partial<ProbeSecond>): ProbeRunner & { rates: number[] } {
  const runner = async (rates: number[], signal: AbortSignal, onSecond: (s: ProbeSecond) => void) => {
    runner.rates = rates;
    for (const [i, rps] of rates.entries()) {
      if (signal.aborted) return;
      onSecond({ targetRps: rps, requests: Math.round(rps), p99Ms: 10, errorPercent: 0, generatorLimited: false, ...second(rps, i) });
    }
  };
  runner.rates = [] as number[];
  return runner;
}

describe('the quick ramp before the constant steps', () => {
  const slo = { p99Ms: 50, errorPercent: 0.1 };
  const never = new AbortController().signal;

  it('ends at three missed seconds in a row, not at one stall, and not in its first seconds', async () => {
    // Misses from 300 req/s; one stalled second at ~100; the first two seconds (cold) miss too.
    const probe = scriptedProbe((rps, i) => ({ p99Ms: i < 2 || (rps > 95 && rps < 110) || rps >= 300 ? 400 : 10 }));
    const found = await runProbe(probe, 50, 5_000, slo, never);
    expect(probe.rates[0]).toBe(50);
    expect(probe.rates[1]).toBeCloseTo(60, 5);
    expect(found).not.toBeNull();
    expect(found!.missRps).toBeGreaterThanOrEqual(300);
    expect(found!.missRps).toBeLessThan(300 * 1.2);
    expect(found!.lastPassRps).toBeLessThan(300);
    // It stopped on the third missed second: nothing was offered after it.
    expect(found!.seconds).toBe(probe.rates.findIndex((r) => r >= 300) + 3);
  });

  it('counts errors as misses, and gives up when the generator was the limit two seconds in a row', async () => {
    const errors = await runProbe(
      scriptedProbe((rps) => ({ errorPercent: rps > 200 ? 5 : 0 })),
      50,
      5_000,
      slo,
      never,
    );
    expect(errors!.missRps).toBeGreaterThan(200);
    const limited = await runProbe(
      scriptedProbe((rps) => ({ generatorLimited: rps > 200 })),
      50,
      5_000,
      slo,
      never,
    );
    expect(limited).toBeNull();
    // Never missing up to the highest rate: no estimate.
    expect(
      await runProbe(
        scriptedProbe(() => ({})),
        50,
        400,
        slo,
        never,
      ),
    ).toBeNull();
  });

  it('seeds the constant steps below its miss, and a probe that missed early is tried and passed', async () => {
    // The stack holds 400 req/s; the probe stalled from ~150 for three seconds (149, 179, 215 req/s).
    const probe = scriptedProbe((rps) => ({ p99Ms: rps > 140 && rps < 260 ? 300 : rps > 400 ? 300 : 10 }));
    const runStep = async (rps: number): Promise<StepMeasurement> => ({
      summary: summary({ offeredRps: rps, requests: 2 * rps, p99Ms: rps <= 400 ? 10 : 90 }),
      telemetry: null,
    });
    const result = await searchCapacity(runStep, { replicas: 1, slo, stepS: 2, minRps: 50, maxRps: 5_000, precision: 0.05, probe });
    const steps = result.steps.map((s) => `${s.targetRps}:${s.verdict}`);
    expect(result.probe?.missRps).toBeLessThan(200);
    // The first constant step is below the miss; every step up to it passes; the miss itself is
    // tried, passes, and the ramp goes on to the real knee.
    expect(result.steps[0]!.targetRps).toBeLessThan(result.probe!.missRps);
    expect(steps).toContain(`${Math.round(result.probe!.missRps)}:pass`);
    expect(result.outcome).toBe('found');
    expect(result.capacityRps, steps.join(' ')).toBeGreaterThanOrEqual(380);
    expect(result.capacityRps).toBeLessThanOrEqual(400);
  });
});
