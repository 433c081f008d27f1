import type { AssertionState, AssertMetric, ScenarioState, ScenarioStatus, StepKind, StepStatus } from '../../../electron/contract.js';
import { FINISHED_STATES, type ScenarioCommand } from '../../store/scenario-slice.js';

/** Seconds as `m:ss` (minutes keep counting past 59: scenarios last an hour at most). */
export function formatClock(seconds: number): string {
  const s = Math.max(0, Math.floor(Number.isFinite(seconds) ? seconds : 0));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** `1:23 / 5:00`. */
export function clockText(status: Pick<ScenarioStatus, 'elapsedS' | 'durationS'> | null): string {
  return `${formatClock(status?.elapsedS ?? 0)} / ${formatClock(status?.durationS ?? 0)}`;
}

/** Elapsed over duration, within 0–1. */
export function progressFraction(status: Pick<ScenarioStatus, 'elapsedS' | 'durationS'> | null): number {
  if (!status || !(status.durationS > 0)) return 0;
  return Math.min(1, Math.max(0, status.elapsedS / status.durationS));
}

/** One player button: whether it can be pressed, its words, and why not (or what it does). */
export interface PlayerButton {
  enabled: boolean;
  label: string;
  title: string;
}

/** The player's four buttons for a status, with a command in flight or not. */
export interface PlayerButtons {
  play: PlayerButton;
  pause: PlayerButton;
  step: PlayerButton;
  reset: PlayerButton;
}

/** Whether the scenario reached an end (passed, failed or aborted). */
export function isFinished(state: ScenarioState | undefined): boolean {
  return state !== undefined && FINISHED_STATES.includes(state);
}

/**
 * Which buttons can be pressed: Play from idle (Resume when paused, Replay once finished), Pause
 * while running, Step while steps remain (from idle or the end it starts the scenario paused),
 * Reset once anything moved. Nothing while a command is in flight or no scenario is loaded.
 */
export function playerButtons(status: ScenarioStatus | null, busy: ScenarioCommand | null): PlayerButtons {
  const state = status?.state ?? 'idle';
  const loaded = !!status?.id;
  const free = busy === null && loaded;
  const finished = isFinished(state);
  const pending = status?.steps.some((s) => s.state === 'pending') ?? false;
  const moved = state !== 'idle' || (status?.elapsedS ?? 0) > 0 || (status?.steps.some((s) => s.state !== 'pending') ?? false);
  const none = 'Load a scenario first';
  const stepReady = finished || (pending && (state === 'idle' || state === 'paused' || state === 'running'));
  return {
    play: {
      enabled: free && (state === 'idle' || state === 'paused' || finished),
      label: state === 'paused' ? 'Resume' : finished ? 'Replay' : 'Play',
      title: !loaded
        ? none
        : state === 'paused'
          ? 'Start the clock again'
          : finished
            ? 'Play it again from the start'
            : 'Start the stack if needed, then run the steps on the clock',
    },
    pause: { enabled: free && state === 'running', label: 'Pause', title: 'Stop the clock; the stack and its traffic keep running' },
    step: {
      enabled: free && stepReady,
      label: 'Step',
      title: !loaded
        ? none
        : !stepReady
          ? 'No step left to run now'
          : state === 'running'
            ? 'Run the next step now'
            : 'Run the next step now, and stay paused',
    },
    reset: {
      enabled: free && moved,
      label: 'Reset',
      title: !loaded ? none : 'Stop the traffic, clear chaos, and put the scenario back at its start',
    },
  };
}

/** How a step shows in the list. */
export type StepRole = 'done' | 'current' | 'upcoming' | 'failed';

export interface StepRow {
  step: StepStatus;
  role: StepRole;
}

/** Rows the step list shows: its height stays put while a scenario runs. */
export const STEP_ROWS = 8;

/** Rows the current step and its neighbours keep however many steps failed elsewhere. */
const MIN_WINDOW = 3;

/**
 * The steps worth showing, at most `size` of them in step order: the current one (the last that
 * ran) with `before` done ones ahead of it and the next ones after it; failed steps outside that
 * window take rows from it, so an error stays in view.
 */
export function stepView(steps: readonly StepStatus[], size = STEP_ROWS, before = 2): StepRow[] {
  let current = -1;
  steps.forEach((s, i) => {
    if (s.state !== 'pending') current = i;
  });
  const failed = steps.flatMap((s, i) => (s.state === 'failed' ? [i] : []));
  const windowOf = (room: number) => {
    // A small window keeps one done step and one to come around the current one.
    const start = Math.max(0, Math.min(current - Math.min(before, Math.floor((room - 1) / 2)), steps.length - room));
    return { start, end: start + room };
  };
  let room = Math.min(size, steps.length);
  let window = windowOf(room);
  const outside = () => failed.filter((i) => i < window.start || i >= window.end);
  while (outside().length > 0 && room + outside().length > size && room > MIN_WINDOW) {
    room = Math.max(MIN_WINDOW, size - outside().length);
    window = windowOf(room);
  }
  const spare = size - room;
  const pinned = new Set(spare > 0 ? outside().slice(-spare) : []);
  return steps.flatMap((step, i) => {
    if (!pinned.has(i) && (i < window.start || i >= window.end)) return [];
    const role: StepRole = i === current ? 'current' : step.state === 'failed' ? 'failed' : step.state === 'done' ? 'done' : 'upcoming';
    return [{ step, role }];
  });
}

/** The chip class of a step's kind: the colour its events have on the timeline. */
export function stepChip(kind: StepKind): string {
  switch (kind) {
    case 'traffic':
    case 'trafficUpdate':
    case 'trafficStop':
    case 'capacity':
      return 'kind-traffic';
    case 'chaos':
    case 'chaosClear':
      return 'kind-chaos';
    case 'scale':
      return 'kind-scaling';
    case 'autoscaler':
      return 'kind-autoscaler';
    case 'note':
      return 'kind-scenario';
  }
}

/** `in 12 s` for a step still to come, or null when its time passed (it waits on a paused clock). */
export function untilText(at: number, elapsedS: number): string | null {
  const left = Math.ceil(at - elapsedS);
  if (left <= 0) return null;
  return left < 60 ? `in ${left} s` : `in ${formatClock(left)}`;
}

/** Metrics that are fractions (shown as percent). */
const RATES: readonly AssertMetric[] = ['error_rate', 'cache_hit_rate'];

/** A percentage with the digits that matter: 0.0123 → `1.23 %`, 0.5 → `50.0 %`. */
function percent(fraction: number): string {
  const p = fraction * 100;
  return `${p === 0 ? '0' : Math.abs(p) >= 10 ? p.toFixed(1) : p.toFixed(2)} %`;
}

/** A metric's figure in its unit: rates as %, latency in ms, rps per second, counts as they are; `–` without data. */
export function formatAssertValue(metric: AssertMetric, value: number | null): string {
  if (value === null || !Number.isFinite(value)) return '–';
  if (RATES.includes(metric)) return percent(value);
  if (metric.endsWith('_ms')) return `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`;
  if (metric === 'rps') return `${value < 10 ? value.toFixed(1) : Math.round(value)} req/s`;
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

/** What an assertion asks for, in the same unit as its figure: `< 5 %`, `< 250 ms`, `≥ 3`. */
export function targetText(metric: AssertMetric, op: string, value: number): string {
  const symbol = op === '<=' ? '≤' : op === '>=' ? '≥' : op === '==' ? '=' : op;
  return `${symbol} ${formatAssertValue(metric, value)}`;
}

/** The words beside an assertion for its state. */
export const ASSERTION_LABEL: Record<AssertionState, string> = {
  pending: 'waiting',
  passing: 'passing',
  failing: 'failing',
  held: 'held',
  failed: 'failed',
};

/** Whether the scenario as a whole is good, bad, in motion or at rest: the badge's colour. */
export function stateTone(state: ScenarioState): 'ok' | 'bad' | 'live' | 'paused' | 'busy' | 'idle' {
  switch (state) {
    case 'passed':
      return 'ok';
    case 'failed':
    case 'aborted':
      return 'bad';
    case 'running':
      return 'live';
    case 'paused':
      return 'paused';
    case 'starting':
    case 'verifying':
      return 'busy';
    case 'idle':
      return 'idle';
  }
}
