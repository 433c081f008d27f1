import type {
  Keys,
  Mix,
  TrafficProfile,
  TrafficSecond,
  TrafficSpec,
  TrafficSummary,
  TrafficUpdate,
  WireError,
} from '../../electron/contract.js';
import type { Bridge, GetState, SetState } from './types.js';

/** The profiles, in the order the picker lists them. */
export const PROFILE_KINDS = ['constant', 'ramp', 'step', 'spike', 'sine', 'replay'] as const satisfies readonly TrafficProfile['kind'][];
export type ProfileKind = (typeof PROFILE_KINDS)[number];

/** The request kinds of the mix, in the order the form lists them. */
export const MIX_KINDS = ['read', 'write', 'list', 'missing', 'sendEmail'] as const satisfies readonly (keyof Mix)[];

/** The contract's MAX_RPS (the renderer imports the contract's types only; a test keeps them equal). */
export const MAX_RPS = 50_000;
/** The rate slider's range; the number box beside it takes up to the contract's MAX_RPS. */
export const SLIDER_MAX_RPS = 5000;
/** Slider moves within this long of each other go to the generator as one `traffic:update`. */
export const UPDATE_DEBOUNCE_MS = 200;
/**
 * Samples may still say "not running" this long after a start (one was on its way): only after
 * it does a stopped generator mean the run ended on its own.
 */
const START_GRACE_MS = 3000;

/**
 * The traffic form. Every profile keeps its own parameters, so switching the picker back and
 * forth loses nothing; {@link specOf} turns the chosen one into a contract `TrafficSpec`.
 */
export interface TrafficDraft {
  kind: ProfileKind;
  constant: { rps: number };
  ramp: { from: number; to: number; overS: number };
  step: { from: number; to: number; steps: number; everyS: number };
  spike: { base: number; peak: number; atS: number; forS: number };
  sine: { min: number; max: number; periodS: number };
  /** Comma-separated rates per second, as typed. */
  replay: { rates: string; loop: boolean };
  /** Seconds; null runs until stopped. */
  durationS: number | null;
  /** Percent per request kind; normalised by the generator when they do not add to 100. */
  mix: Mix;
  keys: { distribution: Keys['distribution']; s: number };
  timeoutMs: number;
}

export const DEFAULT_DRAFT: TrafficDraft = {
  kind: 'constant',
  constant: { rps: 200 },
  ramp: { from: 50, to: 1000, overS: 60 },
  step: { from: 100, to: 1000, steps: 4, everyS: 20 },
  spike: { base: 200, peak: 2000, atS: 30, forS: 10 },
  sine: { min: 100, max: 800, periodS: 60 },
  replay: { rates: '100, 200, 400, 800, 400, 200', loop: true },
  durationS: null,
  mix: { read: 80, write: 10, list: 5, missing: 5, sendEmail: 0 },
  keys: { distribution: 'zipf', s: 1.1 },
  timeoutMs: 2000,
};

/** A replay's rates from the text box, or what is wrong with it. */
export function parseRates(text: string): { rates: number[] } | { problem: string } {
  const parts = text.split(/[\s,;]+/).filter((p) => p !== '');
  if (parts.length === 0) return { problem: 'replay needs at least one rate' };
  const rates: number[] = [];
  for (const part of parts) {
    const rate = Number(part);
    if (!Number.isFinite(rate) || rate < 0) return { problem: `replay: "${part.slice(0, 20)}" is not a rate (a number ≥ 0)` };
    rates.push(rate);
  }
  return { rates };
}

/** The profile the draft describes (a replay whose text does not parse replays nothing). */
export function profileOf(draft: TrafficDraft): TrafficProfile {
  switch (draft.kind) {
    case 'constant':
      return { kind: 'constant', ...draft.constant };
    case 'ramp':
      return { kind: 'ramp', ...draft.ramp };
    case 'step':
      return { kind: 'step', ...draft.step };
    case 'spike':
      return { kind: 'spike', ...draft.spike };
    case 'sine':
      return { kind: 'sine', ...draft.sine };
    case 'replay': {
      const parsed = parseRates(draft.replay.rates);
      return { kind: 'replay', rates: 'rates' in parsed ? parsed.rates : [0], loop: draft.replay.loop };
    }
  }
}

/** The mix's percentages added up (the generator normalises them to 100). */
export function mixTotal(mix: Mix): number {
  return MIX_KINDS.reduce((sum, kind) => sum + mix[kind], 0);
}

/** What the mix's sum line says: the total, and what the generator does when it is not 100. */
export function mixNote(mix: Mix): string {
  const total = mixTotal(mix);
  if (total === 100) return 'sum 100%';
  if (total <= 0) return 'sum 0%: pick at least one kind';
  return `sum ${Number(total.toFixed(1))}%, normalised to 100%`;
}

function keysOf(draft: TrafficDraft): Keys {
  return draft.keys.distribution === 'zipf' ? { distribution: 'zipf', s: draft.keys.s } : { distribution: 'uniform' };
}

/** What stops the draft from being a valid run, phrased for the person filling it in; null when it is one. */
export function draftProblem(draft: TrafficDraft): string | null {
  if (draft.kind === 'replay') {
    const parsed = parseRates(draft.replay.rates);
    if ('problem' in parsed) return parsed.problem;
  }
  if (mixTotal(draft.mix) <= 0) return 'the mix needs at least one request kind above 0%';
  return null;
}

/** The `traffic:start` payload for the draft. */
export function specOf(draft: TrafficDraft): TrafficSpec {
  return {
    profile: profileOf(draft),
    ...(draft.durationS === null ? {} : { durationS: draft.durationS }),
    mix: { ...draft.mix },
    keys: keysOf(draft),
    timeoutMs: draft.timeoutMs,
  };
}

export interface TrafficSlice {
  trafficDraft: TrafficDraft;
  /** A run is going (ours, or one the CLI started: the samples tell). */
  trafficRunning: boolean;
  /** The traffic command in flight, if any. */
  trafficBusy: 'traffic:start' | 'traffic:stop' | null;
  /** The rate the slider set during this run; null while the run follows its profile. */
  trafficRate: number | null;
  /** The summary of the last run, from `traffic:stop` (or its end); null while one runs. */
  lastTrafficSummary: TrafficSummary | null;
  /** Changes the form; while a run goes, a new mix or keys reach the generator too. */
  editTraffic(patch: Partial<TrafficDraft>): void;
  /** The rate slider: live (debounced `traffic:update`) during a run, else the constant profile's rate. */
  setTrafficRate(rps: number): void;
  startTraffic(): Promise<void>;
  stopTraffic(): Promise<void>;
  /** Sends a pending `traffic:update` now instead of after the debounce. */
  flushTrafficUpdate(): Promise<void>;
  /** Follows the generator's state from a sample (a run ending on its own, or started elsewhere). */
  syncTraffic(generator: TrafficSecond | null): void;
}

/** The traffic form, the run's state and summary, and the commands that start, steer and stop it. */
export function createTrafficSlice(bridge: Bridge) {
  return (set: SetState, get: GetState): TrafficSlice => {
    let pending: TrafficUpdate = {};
    let timer: ReturnType<typeof setTimeout> | undefined;
    let startedAt = 0;

    const fail = (error: WireError) => set({ error });
    const queueUpdate = (patch: TrafficUpdate) => {
      pending = { ...pending, ...patch };
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => void get().flushTrafficUpdate(), UPDATE_DEBOUNCE_MS);
    };
    const dropUpdate = () => {
      if (timer) clearTimeout(timer);
      timer = undefined;
      pending = {};
    };
    /** A run ended without our `traffic:stop`: its summary is still worth showing, if the generator has it. */
    const collectSummary = async () => {
      const result = await bridge.invoke('traffic:stop', {});
      if (result.ok) set({ lastTrafficSummary: result.value });
    };

    return {
      trafficDraft: DEFAULT_DRAFT,
      trafficRunning: false,
      trafficBusy: null,
      trafficRate: null,
      lastTrafficSummary: null,
      editTraffic(patch) {
        const draft = { ...get().trafficDraft, ...patch };
        set({ trafficDraft: draft });
        if (get().trafficRunning && (patch.mix || patch.keys) && mixTotal(draft.mix) > 0)
          queueUpdate({ mix: { ...draft.mix }, keys: keysOf(draft) });
      },
      setTrafficRate(rps) {
        if (get().trafficRunning) {
          set({ trafficRate: rps });
          queueUpdate({ rps });
        } else {
          set((state) => ({ trafficDraft: { ...state.trafficDraft, kind: 'constant', constant: { rps } } }));
        }
      },
      async startTraffic() {
        const draft = get().trafficDraft;
        const problem = draftProblem(draft);
        if (problem) return fail({ name: 'TrafficSpecError', message: problem });
        set({ trafficBusy: 'traffic:start', error: null });
        try {
          const result = await bridge.invoke('traffic:start', specOf(draft));
          if (!result.ok) return fail(result.error);
          startedAt = Date.now();
          set({ trafficRunning: true, trafficRate: null, lastTrafficSummary: null });
        } finally {
          set({ trafficBusy: null });
        }
      },
      async stopTraffic() {
        dropUpdate();
        set({ trafficBusy: 'traffic:stop' });
        try {
          const result = await bridge.invoke('traffic:stop', {});
          if (!result.ok) return fail(result.error);
          set({ trafficRunning: false, trafficRate: null, lastTrafficSummary: result.value });
        } finally {
          set({ trafficBusy: null });
        }
      },
      async flushTrafficUpdate() {
        const update = pending;
        dropUpdate();
        if (Object.keys(update).length === 0 || !get().trafficRunning) return;
        const result = await bridge.invoke('traffic:update', update);
        if (!result.ok) fail(result.error);
      },
      syncTraffic(generator) {
        const { trafficRunning, trafficBusy } = get();
        if (trafficBusy) return;
        if (generator?.running && !trafficRunning) set({ trafficRunning: true, lastTrafficSummary: null });
        else if (!generator?.running && trafficRunning && Date.now() - startedAt > START_GRACE_MS) {
          dropUpdate();
          set({ trafficRunning: false, trafficRate: null });
          void collectSummary();
        }
      },
    };
  };
}
