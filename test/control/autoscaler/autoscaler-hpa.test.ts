import { describe, expect, it } from 'vitest';
import {
  DEFAULT_BEHAVIOR,
  decide,
  HpaSpecError,
  recordScaleEvent,
  type Behavior,
  type HpaInput,
  type HpaSpec,
  type HpaState,
  type PodReading,
  type ScalingPolicy,
  type ScalingRules,
} from '../../../electron/control/autoscaler/hpa.js';

const T0 = 1_700_000_000_000;
const at = (seconds: number) => T0 + seconds * 1000;
const EMPTY: HpaState = { recommendations: [], scaleEvents: [] };

/** Ready pods with one reading each; `null` is a pod that reported nothing, `{ unready }` one still starting. */
function podsWith(kind: 'cpu' | 'rps' | 'p95', readings: (number | null | { unready: number | null })[]): PodReading[] {
  return readings.map((r, i) =>
    r !== null && typeof r === 'object'
      ? { id: `pod-${i}`, ready: false, values: { [kind]: r.unready } }
      : { id: `pod-${i}`, ready: true, values: { [kind]: r } },
  );
}
const same = (n: number, value: number) => Array.from({ length: n }, () => value);

function rules(
  policies: ScalingPolicy[],
  selectPolicy: ScalingRules['selectPolicy'] = 'Max',
  stabilizationWindowSeconds = 0,
): ScalingRules {
  return { stabilizationWindowSeconds, selectPolicy, policies };
}
const pods = (value: number, periodSeconds = 15): ScalingPolicy => ({ type: 'Pods', value, periodSeconds });
const percent = (value: number, periodSeconds = 15): ScalingPolicy => ({ type: 'Percent', value, periodSeconds });

function spec(over: Partial<HpaSpec> = {}): HpaSpec {
  return { minReplicas: 1, maxReplicas: 10, metrics: [{ kind: 'cpu', target: 50 }], behavior: DEFAULT_BEHAVIOR, tolerance: 0.1, ...over };
}

function input(over: Partial<HpaInput> & { pods: PodReading[] }): HpaInput {
  return { now: T0, currentReplicas: over.pods.length, spec: spec(), state: EMPTY, ...over };
}

/** rps at `perPod` on each of `current` pods against a target of 100: proposes ceil(perPod / 100 × current). */
function rpsLoad(current: number, perPod: number, behavior: Behavior, over: Partial<HpaInput> = {}) {
  return decide(
    input({
      pods: podsWith('rps', same(current, perPod)),
      spec: spec({ metrics: [{ kind: 'rps', target: 100 }], behavior, maxReplicas: 50 }),
      ...over,
    }),
  );
}

describe('per-metric proposals', () => {
  it.each([
    { name: 'holds replicas inside the tolerance band (ratio 1.05)', perPod: 105, tolerance: 0.1, replicas: 3 },
    { name: 'holds replicas on the band edge (ratio 1.10, as Kubernetes bounds it)', perPod: 110, tolerance: 0.1, replicas: 3 },
    { name: 'scales when the ratio leaves the band (ratio 1.15)', perPod: 115, tolerance: 0.1, replicas: 4 },
    { name: 'holds replicas inside the band downwards (ratio 0.95)', perPod: 95, tolerance: 0.1, replicas: 3 },
    { name: 'scales with a tolerance of zero (ratio 1.05)', perPod: 105, tolerance: 0, replicas: 4 },
  ])('$name', ({ perPod, tolerance, replicas }) => {
    const { decision } = decide(
      input({ pods: podsWith('rps', same(3, perPod)), spec: spec({ metrics: [{ kind: 'rps', target: 100 }], tolerance }) }),
    );
    expect(decision.proposals[0]?.replicas).toBe(replicas);
    expect(decision.desired).toBe(replicas);
    if (replicas === 3) expect(decision.explanation).toContain(`within tolerance (±${tolerance * 100} %) → stays at 3`);
  });

  // Cases from replica_calculator_test.go, readings rewritten as utilization or per-pod values.
  it.each([
    { name: 'scales cpu up (TestReplicaCalcScaleUp)', kind: 'cpu', target: 30, readings: [30, 50, 70], replicas: 5 },
    { name: 'scales cpu down (TestReplicaCalcScaleDown)', kind: 'cpu', target: 50, readings: [10, 30, 50, 25, 25], replicas: 3 },
    {
      name: 'scales a pods metric up (TestReplicaCalcScaleUpCM)',
      kind: 'rps',
      target: 15000,
      readings: [20000, 10000, 30000],
      replicas: 4,
    },
    { name: 'scales down ten pods at ratio 0.85', kind: 'rps', target: 100, readings: same(10, 85), replicas: 9 },
    {
      name: 'truncates cpu utilization to whole percent like Kubernetes (55.9 % → 55 %, in band)',
      kind: 'cpu',
      target: 50,
      readings: same(3, 55.9),
      replicas: 3,
    },
  ] as const)('$name', ({ kind, target, readings, replicas }) => {
    const { decision } = decide(
      input({ pods: podsWith(kind, [...readings]), spec: spec({ metrics: [{ kind, target }], maxReplicas: 20 }) }),
    );
    expect(decision.proposals[0]?.replicas).toBe(replicas);
    expect(decision.desired).toBe(replicas);
  });

  it.each([
    {
      name: 'counts unready pods at 0 on a scale-up (TestReplicaCalcScaleUpUnreadyLessScale)',
      kind: 'cpu',
      target: 30,
      readings: [{ unready: 30 }, 50, 70],
      replicas: 4,
      unready: ['pod-0'],
      missing: [],
      note: '1 unready pod assumed at 0 % (scale-up)',
    },
    {
      name: 'leaves unready pods out when ready ones sit on target (TestReplicaCalcScaleUpUnreadyNoScale)',
      kind: 'cpu',
      target: 50,
      readings: [{ unready: 40 }, 50, { unready: 70 }],
      replicas: 3,
      unready: ['pod-0', 'pod-2'],
      missing: [],
      note: 'within tolerance (±10 %)',
    },
    {
      name: 'leaves unready pods out on a scale-down',
      kind: 'cpu',
      target: 50,
      readings: [{ unready: 90 }, 20, 20, 20],
      replicas: 2,
      unready: ['pod-0'],
      missing: [],
      note: '1 pod unready, left out',
    },
    {
      name: 'counts pods without a metric at 0 on a scale-up',
      kind: 'rps',
      target: 50,
      readings: [100, 100, 100, null],
      replicas: 6,
      unready: [],
      missing: ['pod-3'],
      note: '1 pod without rps assumed at 0 rps (scale-up)',
    },
    {
      name: 'counts cpu pods without a metric at their whole request on a scale-down',
      kind: 'cpu',
      target: 50,
      readings: [10, 10, 10, null],
      replicas: 3,
      unready: [],
      missing: ['pod-3'],
      note: '1 pod without cpu assumed at 100 % (scale-down)',
    },
    {
      name: 'counts other pods without a metric at the target on a scale-down',
      kind: 'rps',
      target: 50,
      readings: [10, 10, 10, null],
      replicas: 2,
      unready: [],
      missing: ['pod-3'],
      note: '1 pod without rps assumed at 100 % of target (scale-down)',
    },
    {
      name: 'holds when missing pods reverse a scale-up',
      kind: 'rps',
      target: 50,
      readings: [80, 80, null, null],
      replicas: 4,
      unready: [],
      missing: ['pod-2', 'pod-3'],
      note: 'recomputed ratio reverses direction',
    },
    {
      name: 'holds when missing pods reverse a scale-down',
      kind: 'cpu',
      target: 50,
      readings: [40, 40, null, null],
      replicas: 4,
      unready: [],
      missing: ['pod-2', 'pod-3'],
      note: 'recomputed ratio reverses direction',
    },
    {
      name: 'holds when unready pods reverse a scale-up',
      kind: 'rps',
      target: 50,
      readings: [{ unready: null }, { unready: 5 }, 60, 60],
      replicas: 4,
      unready: ['pod-0', 'pod-1'],
      missing: [],
      note: 'recomputed ratio reverses direction',
    },
    {
      name: 'does not fill missing pods when the ratio is exactly 1',
      kind: 'rps',
      target: 50,
      readings: [50, 50, null],
      replicas: 3,
      unready: [],
      missing: ['pod-2'],
      note: 'within tolerance (±10 %)',
    },
  ] as const)('$name', ({ kind, target, readings, replicas, unready, missing, note }) => {
    const { decision } = decide(input({ pods: podsWith(kind, [...readings]), spec: spec({ metrics: [{ kind, target }] }) }));
    const proposal = decision.proposals[0];
    expect(proposal?.replicas).toBe(replicas);
    expect(proposal?.setAside).toEqual({ unready, missing });
    expect(proposal?.notes).toContain(note);
  });

  it('reports the first-pass average and both ratios when pods are set aside', () => {
    const { decision } = decide(
      input({ pods: podsWith('cpu', [{ unready: 30 }, 50, 70]), spec: spec({ metrics: [{ kind: 'cpu', target: 30 }] }) }),
    );
    const p = decision.proposals[0];
    expect(p?.value).toBe(60);
    expect(p?.rawRatio).toBe(2);
    expect(p?.ratio).toBeCloseTo(40 / 30, 10);
    expect(p?.readyPods).toBe(2);
    expect(decision.explanation).toBe(
      'cpu 60 % vs target 30 % on 2 of 3 pods → ratio 2.00; 1 unready pod assumed at 0 % (scale-up) → ratio 1.33 → 4 replicas',
    );
  });

  it('holds when the recomputed count moves against the ratio (fewer pods than replicas)', () => {
    const { decision } = decide(
      input({ currentReplicas: 5, pods: podsWith('rps', [100, 100, null]), spec: spec({ metrics: [{ kind: 'rps', target: 50 }] }) }),
    );
    expect(decision.proposals[0]?.replicas).toBe(5);
    expect(decision.proposals[0]?.notes).toContain('4 replicas would move against the ratio');
    expect(decision.desired).toBe(5);
  });
});

describe('several metrics', () => {
  it('takes the highest proposal and names the others', () => {
    const readings = [0, 1, 2].map((i) => ({ id: `pod-${i}`, ready: true, values: { cpu: 60, rps: 300 } }));
    const { decision } = decide(
      input({
        pods: readings,
        spec: spec({
          metrics: [
            { kind: 'cpu', target: 50 },
            { kind: 'rps', target: 100 },
          ],
        }),
      }),
    );
    expect(decision.proposals.map((p) => p.replicas)).toEqual([4, 9]);
    expect(decision.metricReplicas).toBe(9);
    // The default scale-up allows the larger of 100 % (→ 6) and 4 pods (→ 7) per 15 s.
    expect(decision.desired).toBe(7);
    expect(decision.explanation).toBe(
      'rps 300/replica vs target 100/replica → ratio 3.00 → 9 replicas (cpu → 4); capped by scale-up policy (4 pods / 15 s) → 7',
    );
  });

  it('leaves a metric without data out and still scales down on the others', () => {
    const readings = [0, 1, 2, 3].map((i) => ({ id: `pod-${i}`, ready: true, values: { cpu: 10, p95: null } }));
    const { decision } = decide(
      input({
        pods: readings,
        spec: spec({
          metrics: [
            { kind: 'cpu', target: 50 },
            { kind: 'p95', target: 200 },
          ],
        }),
      }),
    );
    expect(decision.proposals[1]?.replicas).toBeNull();
    expect(decision.proposals[1]?.setAside.missing).toHaveLength(4);
    expect(decision.desired).toBe(1);
    expect(decision.explanation).toContain('(p95 no data)');
  });

  it('changes nothing and records nothing when no metric has data', () => {
    const prior: HpaState = { recommendations: [{ t: at(-30), replicas: 4 }], scaleEvents: [] };
    const readings = [0, 1, 2, 3].map((i) => ({ id: `pod-${i}`, ready: true, values: {} }));
    const { decision, state } = decide(input({ pods: readings, state: prior }));
    expect(decision.metricReplicas).toBe(4);
    expect(decision.desired).toBe(4);
    expect(decision.explanation).toBe('no metric has data (cpu: no ready replica reported cpu) → stays at 4');
    expect(state.recommendations).toEqual(prior.recommendations);
  });
});

describe('stabilization window', () => {
  it('holds a scale-down for the 300 s window, then releases it', () => {
    let state = EMPTY;
    let current = 6;
    const sync = (seconds: number, cpu: number) => {
      const out = decide(input({ now: at(seconds), currentReplicas: current, pods: podsWith('cpu', same(current, cpu)), state }));
      state = out.state;
      current = out.decision.desired;
      return out.decision;
    };
    expect(sync(0, 50).desired).toBe(6);
    const held = [15, 30, 60, 150, 285].map((s) => sync(s, 20));
    expect(held.map((d) => d.metricReplicas)).toEqual([3, 3, 3, 3, 3]);
    expect(held.map((d) => d.desired)).toEqual([6, 6, 6, 6, 6]);
    expect(held[0]?.explanation).toBe(
      'cpu 20 % vs target 50 % → ratio 0.40 → 3 replicas; held at 6 by the 300 s scale-down window (highest recommendation 6)',
    );
    expect(held[0]?.stabilized.downWindow).toEqual([6]);
    // The recommendation of 6 was made at 0 s: at 300 s it is exactly one window old and no longer counts.
    const released = sync(300, 20);
    expect(released.stabilized.downWindow).toEqual([3, 3, 3, 3, 3]);
    expect(released.desired).toBe(3);
    expect(released.limited.reason).toBeNull();
  });

  it('holds a scale-down at the highest recommendation still in the window', () => {
    const state: HpaState = {
      recommendations: [
        { t: at(-200), replicas: 7 },
        { t: at(-100), replicas: 5 },
      ],
      scaleEvents: [],
    };
    const { decision } = decide(input({ currentReplicas: 10, pods: podsWith('cpu', same(10, 10)), state }));
    expect(decision.metricReplicas).toBe(2);
    expect(decision.stabilized.replicas).toBe(7);
    expect(decision.desired).toBe(7);
  });

  it('holds a scale-up at the lowest recommendation of a scale-up window', () => {
    const behavior: Behavior = { ...DEFAULT_BEHAVIOR, scaleUp: { ...DEFAULT_BEHAVIOR.scaleUp, stabilizationWindowSeconds: 60 } };
    const state: HpaState = { recommendations: [{ t: at(-30), replicas: 3 }], scaleEvents: [] };
    const first = rpsLoad(3, 200, behavior, { state });
    expect(first.decision.metricReplicas).toBe(6);
    expect(first.decision.desired).toBe(3);
    expect(first.decision.explanation).toBe(
      'rps 200/replica vs target 100/replica → ratio 2.00 → 6 replicas; held at 3 by the 60 s scale-up window (lowest recommendation 3)',
    );
    // 31 s later the recommendation of 3 is 61 s old: only the 6 remains in the window.
    const later = rpsLoad(3, 200, behavior, { now: at(31), state: first.state });
    expect(later.decision.stabilized.upWindow).toEqual([6]);
    expect(later.decision.desired).toBe(6);
  });

  it('returns a new state with this recommendation added and stale entries pruned, leaving the input alone', () => {
    const prior: HpaState = {
      recommendations: [
        { t: at(-400), replicas: 9 },
        { t: at(-100), replicas: 4 },
      ],
      scaleEvents: [
        { t: at(-60), change: 2 },
        { t: at(-5), change: 1 },
      ],
    };
    const frozen = structuredClone(prior);
    const { state } = decide(input({ pods: podsWith('cpu', same(4, 50)), state: prior }));
    expect(state.recommendations).toEqual([
      { t: at(-100), replicas: 4 },
      { t: T0, replicas: 4 },
    ]);
    expect(state.scaleEvents).toEqual([{ t: at(-5), change: 1 }]);
    expect(prior).toEqual(frozen);
  });
});

describe('scaling policies', () => {
  it.each([
    {
      name: 'Pods caps a scale-up',
      up: rules([pods(4)]),
      current: 2,
      perPod: 500,
      desired: 6,
      reason: 'ScaleUpLimit',
      clause: 'capped by scale-up policy (4 pods / 15 s) → 6',
    },
    {
      name: 'Percent caps a scale-up, rounding up',
      up: rules([percent(50)]),
      current: 3,
      perPod: 500,
      desired: 5,
      reason: 'ScaleUpLimit',
      clause: 'capped by scale-up policy (50 % / 15 s) → 5',
    },
    {
      name: 'Max picks the policy allowing more (Pods from 2)',
      up: rules([percent(100), pods(4)]),
      current: 2,
      perPod: 500,
      desired: 6,
      reason: 'ScaleUpLimit',
      clause: '(4 pods / 15 s) → 6',
    },
    {
      name: 'Max picks the policy allowing more (Percent from 10)',
      up: rules([percent(100), pods(4)]),
      current: 10,
      perPod: 300,
      desired: 20,
      reason: 'ScaleUpLimit',
      clause: '(100 % / 15 s) → 20',
    },
    {
      name: 'Min picks the policy allowing less',
      up: rules([percent(100), pods(4)], 'Min'),
      current: 2,
      perPod: 500,
      desired: 4,
      reason: 'ScaleUpLimit',
      clause: '(100 % / 15 s) → 4',
    },
    {
      name: 'Disabled stops a scale-up',
      up: rules([pods(4)], 'Disabled'),
      current: 2,
      perPod: 500,
      desired: 2,
      reason: 'ScalingDisabled',
      clause: 'scale-up disabled (selectPolicy Disabled) → stays at 2',
    },
    {
      name: 'a scale-up within the policy is not limited',
      up: rules([pods(4)]),
      current: 2,
      perPod: 250,
      desired: 5,
      reason: null,
      clause: '→ 5 replicas',
    },
  ] as const)('$name', ({ up, current, perPod, desired, reason, clause }) => {
    const { decision } = rpsLoad(current, perPod, { ...DEFAULT_BEHAVIOR, scaleUp: up });
    expect(decision.desired).toBe(desired);
    expect(decision.limited.reason).toBe(reason);
    expect(decision.limited.limit).toBe(reason ? desired : null);
    expect(decision.explanation.endsWith(clause)).toBe(true);
  });

  it.each([
    {
      name: 'Pods caps a scale-down',
      down: rules([pods(1, 60)]),
      desired: 4,
      reason: 'ScaleDownLimit',
      clause: 'capped by scale-down policy (1 pod / 60 s) → 4',
    },
    {
      name: 'Percent caps a scale-down, rounding down',
      down: rules([percent(50, 60)]),
      desired: 2,
      reason: 'ScaleDownLimit',
      clause: 'capped by scale-down policy (50 % / 60 s) → 2',
    },
    {
      name: 'Max picks the bigger change (the smaller count)',
      down: rules([pods(1, 60), percent(50, 60)]),
      desired: 2,
      reason: 'ScaleDownLimit',
      clause: '(50 % / 60 s) → 2',
    },
    {
      name: 'Min picks the smaller change (the larger count)',
      down: rules([pods(1, 60), percent(50, 60)], 'Min'),
      desired: 4,
      reason: 'ScaleDownLimit',
      clause: '(1 pod / 60 s) → 4',
    },
    {
      name: 'Disabled stops a scale-down',
      down: rules([pods(1, 60)], 'Disabled'),
      desired: 5,
      reason: 'ScalingDisabled',
      clause: 'scale-down disabled (selectPolicy Disabled) → stays at 5',
    },
  ] as const)('$name', ({ down, desired, reason, clause }) => {
    const { decision } = rpsLoad(5, 10, { ...DEFAULT_BEHAVIOR, scaleDown: down });
    expect(decision.metricReplicas).toBe(1);
    expect(decision.desired).toBe(desired);
    expect(decision.limited.reason).toBe(reason);
    expect(decision.explanation.endsWith(clause)).toBe(true);
  });

  it.each([
    {
      name: 'a recent scale-up shrinks the room left in the period',
      events: [[-10, 1, 4]],
      up: [pods(4)],
      current: 4,
      desired: 5,
      clause: '(4 pods / 15 s, 3 already added in it) → 5',
    },
    {
      name: 'an event exactly one period old no longer counts',
      events: [[-15, 1, 4]],
      up: [pods(4)],
      current: 4,
      desired: 8,
      clause: '(4 pods / 15 s) → 8',
    },
    {
      name: 'a used-up period holds the count instead of shrinking it',
      events: [[-30, 2, 6]],
      up: [pods(2, 60)],
      current: 6,
      desired: 6,
      clause: '(2 pods / 60 s, 4 already added in it) → 6',
    },
    {
      name: 'a recent scale-down gives a scale-up more room',
      events: [[-5, 6, 4]],
      up: [pods(2)],
      current: 4,
      desired: 8,
      clause: '(2 pods / 15 s, 2 already removed in it) → 8',
    },
  ])('$name', ({ events, up, current, desired, clause }) => {
    const state = events.reduce((s, [dt, from, to]) => recordScaleEvent(s, at(dt as number), from as number, to as number), EMPTY);
    const { decision } = rpsLoad(current, 1000, { ...DEFAULT_BEHAVIOR, scaleUp: rules(up) }, { state });
    expect(decision.desired).toBe(desired);
    expect(decision.limited.reason).toBe('ScaleUpLimit');
    expect(decision.explanation.endsWith(clause)).toBe(true);
  });

  it('a recent scale-down uses up the scale-down period', () => {
    const state = recordScaleEvent(EMPTY, at(-30), 6, 4);
    const { decision } = rpsLoad(4, 10, { ...DEFAULT_BEHAVIOR, scaleDown: rules([pods(2, 60)]) }, { state });
    expect(decision.desired).toBe(4);
    expect(decision.limited).toEqual({ replicas: 4, reason: 'ScaleDownLimit', limit: 4 });
    expect(decision.explanation.endsWith('(2 pods / 60 s, 2 already removed in it) → 4')).toBe(true);
  });

  it('records only real changes as scale events', () => {
    expect(recordScaleEvent(EMPTY, T0, 3, 3)).toBe(EMPTY);
    expect(recordScaleEvent(EMPTY, T0, 3, 1).scaleEvents).toEqual([{ t: T0, change: -2 }]);
  });
});

describe('min and max', () => {
  it.each([
    {
      name: 'brings a count above max down to max before reading metrics',
      current: 12,
      min: 1,
      desired: 10,
      reason: 'TooManyReplicas',
      text: '12 replicas above max 10 → 10',
    },
    {
      name: 'brings a count below min up to min',
      current: 1,
      min: 2,
      desired: 2,
      reason: 'TooFewReplicas',
      text: '1 replica below min 2 → 2',
    },
    {
      name: 'starts a service at zero replicas at min',
      current: 0,
      min: 1,
      desired: 1,
      reason: 'TooFewReplicas',
      text: '0 replicas below min 1 → 1',
    },
  ])('$name', ({ current, min, desired, reason, text }) => {
    const { decision, state } = decide(
      input({ currentReplicas: current, pods: podsWith('cpu', same(current, 90)), spec: spec({ minReplicas: min }) }),
    );
    expect(decision.desired).toBe(desired);
    expect(decision.limited).toEqual({ replicas: desired, reason, limit: desired });
    expect(decision.explanation.startsWith(text)).toBe(true);
    expect(state.recommendations).toEqual([]);
  });

  it.each([
    {
      name: 'caps a scale-up at max',
      current: 8,
      perPod: 200,
      min: 1,
      desired: 10,
      reason: 'TooManyReplicas',
      clause: 'capped at max 10 → 10',
    },
    {
      name: 'reports max, not the policy, when the policy allows exactly max',
      current: 5,
      perPod: 300,
      min: 1,
      desired: 10,
      reason: 'TooManyReplicas',
      clause: 'capped at max 10 → 10',
    },
    {
      name: 'holds a scale-down at min',
      current: 4,
      perPod: 10,
      min: 2,
      desired: 2,
      reason: 'TooFewReplicas',
      clause: 'held at min 2 → 2',
    },
  ])('$name', ({ current, perPod, min, desired, reason, clause }) => {
    const { decision } = decide(
      input({ pods: podsWith('rps', same(current, perPod)), spec: spec({ metrics: [{ kind: 'rps', target: 100 }], minReplicas: min }) }),
    );
    expect(decision.desired).toBe(desired);
    expect(decision.limited.reason).toBe(reason);
    expect(decision.explanation.endsWith(clause)).toBe(true);
  });

  it('refuses a spec whose min exceeds its max', () => {
    expect(() => decide(input({ pods: [], spec: spec({ minReplicas: 5, maxReplicas: 3 }) }))).toThrow(HpaSpecError);
  });
});

describe('queue metric (external, AverageValue)', () => {
  const queue = (current: number, depth: number | null, min = 0) =>
    decide(
      input({
        currentReplicas: current,
        pods: podsWith('cpu', same(current, 50)),
        queueDepth: depth,
        spec: spec({ minReplicas: min, metrics: [{ kind: 'queue', target: 5 }] }),
      }),
    ).decision;

  it.each([
    {
      name: 'scales workers to total / target',
      current: 4,
      depth: 40,
      desired: 8,
      ratio: 2,
      text: 'queue 40 jobs vs target 5 jobs/worker × 4 → ratio 2.00 → 8 replicas',
    },
    {
      name: 'holds workers inside the tolerance band',
      current: 4,
      depth: 21,
      desired: 4,
      ratio: 1.05,
      text: 'queue 21 jobs vs target 5 jobs/worker × 4 → ratio 1.05, within tolerance (±10 %) → stays at 4',
    },
    {
      name: 'activates workers from zero',
      current: 0,
      depth: 12,
      desired: 3,
      ratio: null,
      text: 'queue 12 jobs vs target 5 jobs/worker, no workers → 3 replicas (activation from zero)',
    },
    {
      name: 'activates from zero within the scale-up policy',
      current: 0,
      depth: 50,
      desired: 4,
      ratio: null,
      text: 'queue 50 jobs vs target 5 jobs/worker, no workers → 10 replicas (activation from zero); capped by scale-up policy (4 pods / 15 s) → 4',
    },
    {
      name: 'scales idle workers to zero',
      current: 2,
      depth: 0,
      desired: 0,
      ratio: 0,
      text: 'queue 0 jobs vs target 5 jobs/worker × 2 → ratio 0.00 → 0 replicas',
    },
    {
      name: 'stays at zero with an empty queue',
      current: 0,
      depth: 0,
      desired: 0,
      ratio: null,
      text: 'queue 0 jobs vs target 5 jobs/worker, no workers → stays at 0',
    },
  ])('$name', ({ current, depth, desired, ratio, text }) => {
    const decision = queue(current, depth);
    expect(decision.desired).toBe(desired);
    expect(decision.proposals[0]?.ratio).toBe(ratio);
    expect(decision.proposals[0]?.value).toBe(depth);
    expect(decision.explanation).toBe(text);
  });

  it('takes no part when the depth is unknown', () => {
    const decision = queue(3, null, 1);
    expect(decision.proposals[0]?.replicas).toBeNull();
    expect(decision.desired).toBe(3);
  });
});

describe('explanation', () => {
  // The example: 3 pods at 82 % cpu against 50 % → ratio 1.64 → ceil(4.92) = 5, under a 4 pods / 15 s policy.
  it.each([
    {
      name: 'with no recent scaling the policy allows 3 + 4 = 7',
      events: [],
      desired: 5,
      text: 'cpu 82 % vs target 50 % → ratio 1.64 → 5 replicas',
    },
    {
      name: 'after 1 → 3 in the period the policy allows 1 + 4 = 5',
      events: [[1, 3]],
      desired: 5,
      text: 'cpu 82 % vs target 50 % → ratio 1.64 → 5 replicas',
    },
    {
      name: 'after 0 → 3 in the period the policy allows 0 + 4 = 4',
      events: [[0, 3]],
      desired: 4,
      text: 'cpu 82 % vs target 50 % → ratio 1.64 → 5 replicas; capped by scale-up policy (4 pods / 15 s, 3 already added in it) → 4',
    },
  ])('names metric, ratio, proposal and cap: $name', ({ events, desired, text }) => {
    const state = events.reduce((s, [from, to]) => recordScaleEvent(s, at(-5), from as number, to as number), EMPTY);
    const behavior: Behavior = { ...DEFAULT_BEHAVIOR, scaleUp: rules([pods(4)]) };
    const { decision } = decide(input({ pods: podsWith('cpu', same(3, 82)), spec: spec({ behavior }), state }));
    expect(decision.proposals[0]?.ratio).toBeCloseTo(1.64, 10);
    expect(decision.metricReplicas).toBe(5);
    expect(decision.desired).toBe(desired);
    expect(decision.explanation).toBe(text);
  });
});
