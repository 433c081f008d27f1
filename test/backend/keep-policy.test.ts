import { describe, expect, it } from 'vitest';
import {
  KeepPolicy,
  PerSecondBudget,
  WIDEN_REST_MS,
  WIDENED_FOR_MS,
  WIDENED_SPELL_MAX_MS,
  WIDENED_TRACES_PER_SECOND,
} from '../../backend/telemetry/keep-policy.js';

const takes = (budget: PerSecondBudget, now: number, tries: number) =>
  Array.from({ length: tries }, () => budget.take(now)).filter(Boolean).length;

describe('the head-sampling budget', () => {
  it('grants the first N of each wall-clock second', () => {
    const budget = new PerSecondBudget(10);
    expect(takes(budget, 5_000, 50)).toBe(10);
    expect(takes(budget, 5_999, 5)).toBe(0);
    expect(takes(budget, 6_000, 50)).toBe(10);
  });

  it('widened, grants more for a while after the last widening, then falls back', () => {
    const budget = new PerSecondBudget(10);
    budget.widen(10_000);
    expect(budget.widened(10_500)).toBe(true);
    expect(takes(budget, 10_500, 500)).toBe(WIDENED_TRACES_PER_SECOND);
    budget.widen(12_000); // renewed by a later slow request
    expect(takes(budget, 12_000 + WIDENED_FOR_MS - 1, 500)).toBe(WIDENED_TRACES_PER_SECOND);
    expect(budget.widened(12_000 + WIDENED_FOR_MS)).toBe(false);
    expect(takes(budget, 12_000 + WIDENED_FOR_MS + 1_000, 500)).toBe(10);
  });

  it('under trouble that never ends (every request slow), widens for one spell, rests at its base, then may widen again', () => {
    const budget = new PerSecondBudget(10);
    const widenedAt: boolean[] = [];
    let restingTakes = 0;
    // A slow request every 100 ms for three minutes, as in an overloaded stack.
    for (let t = 0; t < 180_000; t += 100) {
      budget.widen(t);
      if (t % 1000 === 0) widenedAt[t / 1000] = budget.widened(t); // once a second
      if (t === 45_000) restingTakes = takes(budget, t, 500);
    }
    const widenedSeconds = widenedAt.filter(Boolean).length;
    expect(widenedAt[0]).toBe(true);
    expect(widenedAt[WIDENED_SPELL_MAX_MS / 1000 - 1]).toBe(true);
    expect(widenedAt[WIDENED_SPELL_MAX_MS / 1000 + 1]).toBe(false);
    expect(widenedAt[(WIDENED_SPELL_MAX_MS + WIDEN_REST_MS) / 1000 - 1]).toBe(false);
    expect(widenedAt[(WIDENED_SPELL_MAX_MS + WIDEN_REST_MS) / 1000 + 1]).toBe(true);
    // Two spells of 30 s in 180 s: a third of the time, not all of it.
    expect(widenedSeconds).toBe((2 * WIDENED_SPELL_MAX_MS) / 1000);
    expect(restingTakes).toBe(10);
  });

  it('a budget of 0 (head sampling off) stays 0 when widened', () => {
    const budget = new PerSecondBudget(0);
    budget.widen(1_000);
    expect(budget.widened(1_001)).toBe(false);
    expect(takes(budget, 1_001, 50)).toBe(0);
  });
});

describe('the keep policy', () => {
  it('calls onKept for each failed or slow request it keeps, not for fast ones or those over its own budget', () => {
    let kept = 0;
    const policy = new KeepPolicy({ slowMs: 100, perSecond: 3, onKept: () => (kept += 1) });
    // All in one second of a fixed clock: the wall clock could cross a second mid-test and renew the budget.
    const now = 7_000;
    for (let i = 0; i < 200; i++) expect(policy.decide(200, 2, false, now)).toBeUndefined();
    expect(kept).toBe(0);
    expect(policy.decide(500, 2, false, now)).toBe('error');
    expect(policy.decide(200, 400, false, now)).toBe('slow');
    expect(kept).toBe(2);
    // Over the second's budget of kept errors: skipped, and no call.
    const reasons = Array.from({ length: 5 }, () => policy.decide(503, 1, false, now));
    expect(reasons.filter((r) => r === 'error')).toHaveLength(2);
    expect(kept).toBe(4);
    expect(policy.skipped).toBe(3);
    // The next second's budget is fresh.
    expect(policy.decide(503, 1, false, now + 1_000)).toBe('error');
  });
});
