import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Value } from 'typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_RPS as CONTRACT_MAX_RPS, TrafficSpecSchema, type TrafficProfile, type TrafficSecond } from '../../electron/contract.js';
import { ControlPlane } from '../../electron/control/control-plane.js';
import { generatorNotice } from '../../renderer/features/traffic/generator-notice.js';
import { PREVIEW_SECONDS, profileRate, profileSeries } from '../../renderer/features/traffic/profile-shape.js';
import { sliderPosition, sliderRate } from '../../renderer/features/traffic/rate-scale.js';
import { createAppStore } from '../../renderer/store/app-store.js';
import {
  DEFAULT_DRAFT,
  MAX_RPS,
  PROFILE_KINDS,
  UPDATE_DEBOUNCE_MS,
  draftProblem,
  mixNote,
  mixTotal,
  parseRates,
  specOf,
  type TrafficDraft,
} from '../../renderer/store/traffic-slice.js';
import type { Bridge } from '../../renderer/store/types.js';
import { removeTempHome } from '../support/temp-home.js';

// The slice talks to a real control plane in-process, through a bridge that records each command.
let home: string;
let controlPlane: ControlPlane;

beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'scalelab-traffic-'));
  controlPlane = new ControlPlane({ home });
});
afterAll(async () => {
  await controlPlane.close();
  await removeTempHome(home);
});

function recordingBridge(): { bridge: Bridge; calls: { command: string; payload: unknown }[] } {
  const calls: { command: string; payload: unknown }[] = [];
  const bridge: Bridge = {
    invoke: (command, payload) => {
      calls.push({ command, payload });
      return controlPlane.handle(command, payload) as never;
    },
    on: (event, listener) => controlPlane.on(event, listener),
  };
  return { bridge, calls };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function second(running: boolean, targetRps = 100): TrafficSecond {
  const errorsPerSec = { timeout: 0, refused: 0, http4xx: 0, http5xx: 0 };
  return {
    running,
    profile: 'constant',
    targetRps,
    offeredRps: targetRps,
    achievedRps: targetRps,
    p50: 1,
    p95: 2,
    p99: 3,
    errorsPerSec,
    droppedPerSec: 0,
  };
}

const rates = (profile: TrafficProfile, times: number[]) => times.map((t) => profileRate(profile, t));

describe('generatorNotice', () => {
  const healthy = { threads: 2, busyCores: 0.34, busiestThread: 0.2, lagP99Ms: 1.25, lagMaxMs: 4, limitedBy: null, limitReason: null };
  it("words the generator's cpu, lag and threads, with no warning while it keeps up", () => {
    expect(generatorNotice(healthy, 'now')).toEqual({ figures: 'generator: 0.34 cpu · lag p99 1.3 ms · 2 threads', limit: null });
  });

  it('warns that the figures understate the stack when the generator is the limit', () => {
    const limited = { ...healthy, threads: 1, lagP99Ms: 120, limitedBy: 'generator' as const, limitReason: 'lag p99 120 ms, 3 % dropped' };
    expect(generatorNotice(limited, 'in this run')).toEqual({
      figures: 'generator: 0.34 cpu · lag p99 120 ms · 1 thread',
      limit: 'The load generator is the bottleneck in this run (lag p99 120 ms, 3 % dropped): these figures understate the stack.',
    });
  });

  it('says nothing of a recording that has no health', () => {
    expect(generatorNotice(undefined, 'now')).toBeNull();
  });
});

describe('profileRate', () => {
  it('constant holds its rate at every time', () => {
    expect(rates({ kind: 'constant', rps: 250 }, [0, 1.5, 3600])).toEqual([250, 250, 250]);
  });

  it('ramp climbs linearly over overS, then holds at to (up or down)', () => {
    expect(rates({ kind: 'ramp', from: 100, to: 500, overS: 40 }, [0, 10, 20, 40, 400])).toEqual([100, 200, 300, 500, 500]);
    expect(rates({ kind: 'ramp', from: 500, to: 100, overS: 4 }, [0, 1, 4, 5])).toEqual([500, 400, 100, 100]);
  });

  it('step starts at from, climbs one equal step every everyS and stays at to after the last', () => {
    const step: TrafficProfile = { kind: 'step', from: 100, to: 500, steps: 4, everyS: 10 };
    expect(rates(step, [0, 9.99, 10, 25, 30, 40, 41, 1000])).toEqual([100, 100, 200, 300, 400, 500, 500, 500]);
  });

  it('spike is base before atS, peak for forS seconds, base again after', () => {
    const spike: TrafficProfile = { kind: 'spike', base: 50, peak: 900, atS: 30, forS: 5 };
    expect(rates(spike, [0, 29.9, 30, 34.9, 35, 100])).toEqual([50, 50, 900, 900, 50, 50]);
  });

  it('sine starts at min, peaks at max half a period later and is back at min after one', () => {
    const sine: TrafficProfile = { kind: 'sine', min: 100, max: 300, periodS: 60 };
    expect(profileRate(sine, 0)).toBeCloseTo(100);
    expect(profileRate(sine, 15)).toBeCloseTo(200);
    expect(profileRate(sine, 30)).toBeCloseTo(300);
    expect(profileRate(sine, 60)).toBeCloseTo(100);
    for (let t = 0; t < 120; t += 0.7) {
      expect(profileRate(sine, t)).toBeGreaterThanOrEqual(100 - 1e-9);
      expect(profileRate(sine, t)).toBeLessThanOrEqual(300 + 1e-9);
    }
  });

  it('replay plays one rate per second, then 0 once the recording is over', () => {
    expect(rates({ kind: 'replay', rates: [10, 20, 30] }, [0, 0.9, 1, 2.5, 3, 60])).toEqual([10, 10, 20, 30, 0, 0]);
  });

  it('replay with loop starts over after the last second', () => {
    expect(rates({ kind: 'replay', rates: [10, 20, 30], loop: true }, [2, 3, 4, 5, 6, 3002])).toEqual([30, 10, 20, 30, 10, 30]);
  });

  it('the preview spans the run, or two minutes when it runs until stopped', () => {
    const points = profileSeries({ kind: 'ramp', from: 0, to: 100, overS: 30 }, 30, 30);
    expect(points).toHaveLength(31);
    expect(points.at(-1)).toEqual({ t: 30, rps: 100 });
    expect(profileSeries({ kind: 'constant', rps: 1 }, 0).at(-1)!.t).toBe(PREVIEW_SECONDS);
  });
});

describe('traffic draft', () => {
  const withKind = (kind: TrafficDraft['kind']): TrafficDraft => ({ ...DEFAULT_DRAFT, kind });

  it('turns every profile of the form into a spec the contract accepts', () => {
    for (const kind of PROFILE_KINDS) {
      const spec = specOf(withKind(kind));
      expect([...Value.Errors(TrafficSpecSchema, spec)], kind).toEqual([]);
      expect(spec.profile.kind).toBe(kind);
    }
  });

  it('leaves the duration out when the run goes until stopped, and s out of uniform keys', () => {
    expect(specOf(DEFAULT_DRAFT)).not.toHaveProperty('durationS');
    expect(specOf({ ...DEFAULT_DRAFT, durationS: 90 }).durationS).toBe(90);
    expect(specOf(DEFAULT_DRAFT).keys).toEqual({ distribution: 'zipf', s: 1.1 });
    expect(specOf({ ...DEFAULT_DRAFT, keys: { distribution: 'uniform', s: 2 } }).keys).toEqual({ distribution: 'uniform' });
    expect(specOf(DEFAULT_DRAFT).timeoutMs).toBe(2000);
  });

  it('reads replay rates separated by commas or spaces, and names the one that is not a rate', () => {
    expect(parseRates('100, 200,300  400\n5')).toEqual({ rates: [100, 200, 300, 400, 5] });
    expect(parseRates(' , ')).toEqual({ problem: 'replay needs at least one rate' });
    expect(parseRates('100, fast, 300')).toEqual({ problem: 'replay: "fast" is not a rate (a number ≥ 0)' });
    expect(parseRates('-5')).toMatchObject({ problem: expect.stringContaining('"-5"') });
  });

  it('says what stops a draft from being a run', () => {
    expect(draftProblem(DEFAULT_DRAFT)).toBeNull();
    expect(draftProblem({ ...DEFAULT_DRAFT, kind: 'replay', replay: { rates: 'abc', loop: false } })).toContain('"abc"');
    // A bad replay text does not matter while another profile is picked.
    expect(draftProblem({ ...DEFAULT_DRAFT, kind: 'ramp', replay: { rates: 'abc', loop: false } })).toBeNull();
    expect(draftProblem({ ...DEFAULT_DRAFT, mix: { read: 0, write: 0, list: 0, missing: 0, sendEmail: 0 } })).toContain('mix');
  });

  it('sums the mix and says it is normalised when it is not 100%', () => {
    expect(mixTotal(DEFAULT_DRAFT.mix)).toBe(100);
    expect(mixNote(DEFAULT_DRAFT.mix)).toBe('sum 100%');
    expect(mixNote({ read: 50, write: 25, list: 0, missing: 0, sendEmail: 0 })).toBe('sum 75%, normalised to 100%');
    expect(mixNote({ read: 0, write: 0, list: 0, missing: 0, sendEmail: 0 })).toContain('pick at least one');
  });

  it('mirrors the contract’s highest rate', () => {
    expect(MAX_RPS).toBe(CONTRACT_MAX_RPS);
  });

  it('maps the slider with fine steps at low rates and round figures, both ways', () => {
    expect(sliderRate(0)).toBe(0);
    expect(sliderRate(100)).toBe(50);
    expect(sliderRate(1000)).toBe(5000);
    expect(sliderRate(500)).toBe(1250);
    for (const rps of [0, 50, 200, 1250, 5000]) expect(sliderRate(sliderPosition(rps))).toBe(rps);
    expect(sliderPosition(40_000)).toBe(1000);
  });
});

describe('traffic slice, against a real control plane', () => {
  it('the rate slider before a run sets the constant rate, picks the constant profile and sends nothing', async () => {
    const { bridge, calls } = recordingBridge();
    const { store } = createAppStore(bridge);
    store.getState().editTraffic({ kind: 'ramp' });
    store.getState().setTrafficRate(750);
    await sleep(UPDATE_DEBOUNCE_MS + 50);
    expect(store.getState().trafficDraft.kind).toBe('constant');
    expect(store.getState().trafficDraft.constant.rps).toBe(750);
    // The other profiles keep their own figures.
    expect(store.getState().trafficDraft.ramp).toEqual(DEFAULT_DRAFT.ramp);
    expect(calls).toEqual([]);
  });

  it('firing traffic with no stack running shows the control plane’s refusal and stays idle', async () => {
    const { bridge, calls } = recordingBridge();
    const { store } = createAppStore(bridge);
    store.getState().editTraffic({ kind: 'spike', durationS: 60 });
    await store.getState().startTraffic();
    expect(calls.map((c) => c.command)).toEqual(['traffic:start']);
    const { error, trafficRunning, trafficBusy } = store.getState();
    // The spec passed the control plane's validation: the refusal is about the state, not the payload.
    expect(error).toMatchObject({ name: 'StackStateError', message: expect.stringContaining('no stack is running') });
    expect(trafficRunning).toBe(false);
    expect(trafficBusy).toBeNull();
  });

  it('refuses a draft that is not a run before asking the control plane', async () => {
    const { bridge, calls } = recordingBridge();
    const { store } = createAppStore(bridge);
    store.getState().editTraffic({ kind: 'replay', replay: { rates: '1, two', loop: false } });
    await store.getState().startTraffic();
    expect(calls).toEqual([]);
    expect(store.getState().error).toEqual({ name: 'TrafficSpecError', message: 'replay: "two" is not a rate (a number ≥ 0)' });
  });

  it('during a run, slider moves within the debounce reach the generator as one traffic:update with the last rate', async () => {
    const { bridge, calls } = recordingBridge();
    const { store } = createAppStore(bridge);
    store.getState().syncTraffic(second(true));
    expect(store.getState().trafficRunning).toBe(true);
    for (const rps of [300, 420, 610, 800]) store.getState().setTrafficRate(rps);
    expect(store.getState().trafficRate).toBe(800);
    expect(calls).toEqual([]);
    await sleep(UPDATE_DEBOUNCE_MS + 100);
    expect(calls).toEqual([{ command: 'traffic:update', payload: { rps: 800 } }]);
    // The slider does not touch the form: the next run starts from the profile again.
    expect(store.getState().trafficDraft.constant.rps).toBe(DEFAULT_DRAFT.constant.rps);
  });

  it('during a run, a new mix or key skew goes to the generator too', async () => {
    const { bridge, calls } = recordingBridge();
    const { store } = createAppStore(bridge);
    store.getState().syncTraffic(second(true));
    store.getState().editTraffic({ mix: { ...DEFAULT_DRAFT.mix, write: 40 } });
    store.getState().editTraffic({ keys: { distribution: 'uniform', s: 1.1 } });
    await store.getState().flushTrafficUpdate();
    expect(calls).toEqual([
      { command: 'traffic:update', payload: { mix: { ...DEFAULT_DRAFT.mix, write: 40 }, keys: { distribution: 'uniform' } } },
    ]);
  });

  it('stopping drops a rate change still waiting for its debounce', async () => {
    const { bridge, calls } = recordingBridge();
    const { store } = createAppStore(bridge);
    store.getState().syncTraffic(second(true));
    store.getState().setTrafficRate(900);
    await store.getState().stopTraffic();
    await sleep(UPDATE_DEBOUNCE_MS + 100);
    expect(calls.map((c) => c.command)).toEqual(['traffic:stop']);
    expect(store.getState().trafficBusy).toBeNull();
  });

  it('follows a run seen in the samples (started from the CLI), and goes idle without a banner when it ends', async () => {
    const { bridge, calls } = recordingBridge();
    const { store } = createAppStore(bridge);
    store.getState().syncTraffic(null);
    expect(store.getState().trafficRunning).toBe(false);
    store.getState().syncTraffic(second(true));
    expect(store.getState().trafficRunning).toBe(true);
    store.getState().syncTraffic(second(false));
    expect(store.getState().trafficRunning).toBe(false);
    // It asks for the finished run's summary; a refusal (nothing to stop) is not an error to show.
    expect(calls.map((c) => c.command)).toEqual(['traffic:stop']);
    await sleep(50);
    expect(store.getState().error).toBeNull();
  });
});
