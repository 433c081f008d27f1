/**
 * The `behavior` half of the HPA: the stabilization window and the scaling policies, as
 * Kubernetes' horizontal.go applies them (`stabilizeRecommendationWithBehaviors`,
 * `convertDesiredReplicasWithBehaviorRate`, `calculateScale{Up,Down}Limit…`). Pure functions of
 * the state {@link decide} passes in; `now` replaces Go's `time.Now()`.
 */
import type { Behavior, HpaSpec, HpaState, LimitReason, ScalingPolicy, ScalingRules } from './hpa.js';

/** What the stabilization window did to the metrics' recommendation. */
export interface Stabilized {
  replicas: number;
  /** Recommendations inside the scale-up window, oldest first. */
  upWindow: number[];
  /** Recommendations inside the scale-down window, oldest first. */
  downWindow: number[];
  /** min(desired, up window): the count a scale-up may reach. */
  upRecommendation: number;
  /** max(desired, down window): the count a scale-down may reach. */
  downRecommendation: number;
}

/** The rate and range limit applied to the stabilized count. */
export interface Limited {
  replicas: number;
  reason: LimitReason | null;
  limit: number | null;
  /** The policy that set the limit, for ScaleUpLimit and ScaleDownLimit. */
  policy: ScalingPolicy | null;
  /** Net replicas already added (scale-up) or removed (scale-down) in that policy's period. */
  alreadyChanged: number;
}

/**
 * Brings `desired` within what recent recommendations allow: it may rise only as far as the lowest
 * recommendation of the scale-up window and fall only as far as the highest one of the scale-down
 * window, starting from `current`.
 */
export function stabilize(
  now: number,
  current: number,
  desired: number,
  behavior: Behavior,
  recommendations: HpaState['recommendations'],
): Stabilized {
  // Go's `timestamp.After(cutoff)`: a recommendation exactly one window old no longer counts.
  const upCutoff = now - behavior.scaleUp.stabilizationWindowSeconds * 1000;
  const downCutoff = now - behavior.scaleDown.stabilizationWindowSeconds * 1000;
  const upWindow = recommendations.filter((r) => r.t > upCutoff).map((r) => r.replicas);
  const downWindow = recommendations.filter((r) => r.t > downCutoff).map((r) => r.replicas);
  const upRecommendation = Math.min(desired, ...upWindow);
  const downRecommendation = Math.max(desired, ...downWindow);
  let replicas = current;
  if (replicas < upRecommendation) replicas = upRecommendation;
  if (replicas > downRecommendation) replicas = downRecommendation;
  return { replicas, upWindow, downWindow, upRecommendation, downRecommendation };
}

/** Replicas added (positive) and removed (negative) in the last `periodSeconds`, netted. */
function netChangeInPeriod(now: number, periodSeconds: number, events: HpaState['scaleEvents']): number {
  const cutoff = now - periodSeconds * 1000;
  return events.filter((e) => e.t > cutoff).reduce((sum, e) => sum + e.change, 0);
}

interface PolicyPick {
  limit: number;
  policy: ScalingPolicy | null;
  alreadyChanged: number;
  disabled: boolean;
}

/**
 * The count the policies allow in one direction. Each policy measures from the count at the start
 * of its period (current minus what was added plus what was removed in it). `pickLarger` says which
 * proposal wins: for scale-up `Max` takes the largest count, for scale-down `Max` (the biggest
 * change) takes the smallest.
 */
function policyLimit(
  now: number,
  current: number,
  rules: ScalingRules,
  events: HpaState['scaleEvents'],
  direction: 'up' | 'down',
): PolicyPick {
  if (rules.selectPolicy === 'Disabled') return { limit: current, policy: null, alreadyChanged: 0, disabled: true };
  const pickLarger = (rules.selectPolicy === 'Max') === (direction === 'up');
  let best: PolicyPick | null = null;
  for (const policy of rules.policies) {
    const net = netChangeInPeriod(now, policy.periodSeconds, events);
    const periodStart = current - net;
    let proposed: number;
    if (direction === 'up') {
      // Rounded up so that a small percentage of a small count still adds a replica.
      proposed = policy.type === 'Pods' ? periodStart + policy.value : Math.ceil(periodStart * (1 + policy.value / 100));
    } else {
      // Go converts with int32(), which truncates: floor for the non-negative counts here.
      proposed = policy.type === 'Pods' ? periodStart - policy.value : Math.floor(periodStart * (1 - policy.value / 100));
    }
    if (best === null || (pickLarger ? proposed > best.limit : proposed < best.limit)) {
      best = { limit: proposed, policy, alreadyChanged: direction === 'up' ? net : -net, disabled: false };
    }
  }
  // No policy at all leaves no room to move, like Go's MinInt32/MaxInt32 seed clamped to current.
  return best ?? { limit: current, policy: null, alreadyChanged: 0, disabled: false };
}

/**
 * Applies the scale-up or scale-down rate limit to the stabilized count, then maxReplicas or
 * minReplicas. Only the direction of travel is limited, as in Kubernetes.
 */
export function limitRate(now: number, current: number, desired: number, spec: HpaSpec, events: HpaState['scaleEvents']): Limited {
  const unlimited: Limited = { replicas: desired, reason: null, limit: null, policy: null, alreadyChanged: 0 };
  if (desired > current) {
    const pick = policyLimit(now, current, spec.behavior.scaleUp, events, 'up');
    // Events still in the period can put the limit below current: hold, never shrink on a scale-up.
    const upLimit = Math.max(pick.limit, current);
    const capped = spec.maxReplicas > upLimit;
    const allowed = capped ? upLimit : spec.maxReplicas;
    if (desired <= allowed) return unlimited;
    const reason: LimitReason = !capped ? 'TooManyReplicas' : pick.disabled ? 'ScalingDisabled' : 'ScaleUpLimit';
    return {
      replicas: allowed,
      reason,
      limit: allowed,
      policy: capped ? pick.policy : null,
      alreadyChanged: capped ? pick.alreadyChanged : 0,
    };
  }
  if (desired < current) {
    const pick = policyLimit(now, current, spec.behavior.scaleDown, events, 'down');
    const downLimit = Math.min(pick.limit, current);
    const capped = spec.minReplicas < downLimit;
    const allowed = capped ? downLimit : spec.minReplicas;
    if (desired >= allowed) return unlimited;
    const reason: LimitReason = !capped ? 'TooFewReplicas' : pick.disabled ? 'ScalingDisabled' : 'ScaleDownLimit';
    return {
      replicas: allowed,
      reason,
      limit: allowed,
      policy: capped ? pick.policy : null,
      alreadyChanged: capped ? pick.alreadyChanged : 0,
    };
  }
  return unlimited;
}

/** Drops what no later sync can look at: recommendations past both windows, events past every period. */
export function pruneState(now: number, behavior: Behavior, state: HpaState): HpaState {
  const longestWindow = Math.max(behavior.scaleUp.stabilizationWindowSeconds, behavior.scaleDown.stabilizationWindowSeconds);
  const longestPeriod = Math.max(0, ...[...behavior.scaleUp.policies, ...behavior.scaleDown.policies].map((p) => p.periodSeconds));
  return {
    recommendations: state.recommendations.filter((r) => r.t > now - longestWindow * 1000),
    scaleEvents: state.scaleEvents.filter((e) => e.t > now - longestPeriod * 1000),
  };
}

/** e.g. "4 pods / 15 s", "100 % / 15 s". */
export function describePolicy(policy: ScalingPolicy): string {
  const amount = policy.type === 'Pods' ? `${policy.value} ${policy.value === 1 ? 'pod' : 'pods'}` : `${policy.value} %`;
  return `${amount} / ${policy.periodSeconds} s`;
}

/** The explanation's clause for a limit, e.g. "capped by scale-up policy (4 pods / 15 s) → 4". */
export function describeLimit(limited: Limited, stabilized: number, current: number, spec: HpaSpec): string | null {
  const up = stabilized > current;
  switch (limited.reason) {
    case null:
      return null;
    case 'TooManyReplicas':
      return `capped at max ${spec.maxReplicas} → ${limited.replicas}`;
    case 'TooFewReplicas':
      return `held at min ${spec.minReplicas} → ${limited.replicas}`;
    case 'ScalingDisabled':
      return `${up ? 'scale-up' : 'scale-down'} disabled (selectPolicy Disabled) → stays at ${limited.replicas}`;
    case 'ScaleUpLimit':
    case 'ScaleDownLimit': {
      const rule = limited.policy ? describePolicy(limited.policy) : 'no policies';
      const verb = limited.alreadyChanged > 0 === up ? 'added' : 'removed';
      const already = limited.alreadyChanged !== 0 ? `, ${Math.abs(limited.alreadyChanged)} already ${verb} in it` : '';
      return `capped by scale-${up ? 'up' : 'down'} policy (${rule}${already}) → ${limited.replicas}`;
    }
  }
}
