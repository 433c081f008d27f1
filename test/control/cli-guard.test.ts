import { describe, expect, it } from 'vitest';
import { guardInput, guardText, GuardUsageError } from '../../electron/cli-guard.js';

describe('scalelab guard', () => {
  it('arms with the limit and seconds given, or keeps the last ones', () => {
    expect(guardInput('on', {})).toEqual({ enabled: true });
    expect(guardInput('on', { errors: '2.5%', for: '10s' })).toEqual({ enabled: true, errorPercent: 2.5, seconds: 10 });
    expect(guardInput('on', { for: '1m' })).toEqual({ enabled: true, seconds: 60 });
    expect(guardInput('off', {})).toEqual({ enabled: false });
  });

  it("says what is wrong with an option, in the user's words", () => {
    expect(() => guardInput('on', { errors: '0' })).toThrow(
      /--errors must be a share of requests in percent, above 0 and up to 100 \(got "0"\)/,
    );
    expect(() => guardInput('on', { for: '1.5s' })).toThrow(/--for must be whole seconds/);
    expect(() => guardInput('on', { for: 'soon' })).toThrow(/--for must look like 5s or 1m \(got "soon"\)/);
    expect(() => guardInput('off', { errors: '5' })).toThrow(GuardUsageError);
    expect(() => guardInput('maybe', {})).toThrow(/usage: scalelab guard on/);
  });

  it('prints where it stands and its last trip', () => {
    const text = guardText({
      enabled: true,
      errorPercent: 5,
      seconds: 3,
      badSeconds: 1,
      lastErrorPercent: 12,
      tripped: {
        at: Date.UTC(2026, 0, 1, 10, 0, 0),
        reason: 'errors 40 % on average (worst 61 %) for 3 s in a row; the limit is 5 % for 3 s',
        stopped: ['stopped the traffic'],
      },
    });
    expect(text).toMatch(
      /^Safety guard on: errors ≥ 5 % for 3 s stop traffic and chaos\n {2}now: errors 12 %, 1 of 3 bad seconds in a row\n {2}tripped at \d\d:\d\d:\d\d: errors 40 %.*\n {2}it stopped the traffic$/,
    );
    expect(guardText({ enabled: false, errorPercent: 5, seconds: 5, badSeconds: 0, lastErrorPercent: null, tripped: null })).toBe(
      'Safety guard off',
    );
  });
});
