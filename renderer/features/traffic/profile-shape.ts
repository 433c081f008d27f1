import type { TrafficProfile } from '../../../electron/contract.js';
import { rateAt } from '../../../electron/traffic-profile.js';

/** How long the preview spans when the run has no duration (it runs until stopped). */
export const PREVIEW_SECONDS = 120;

/**
 * The target rate (requests/s) of `profile` at `t` seconds after the start: the shape the
 * preview draws. It is the generator's own function (a pure module), so the preview cannot drift
 * from what the generator sends.
 */
export function profileRate(profile: TrafficProfile, t: number): number {
  return rateAt(profile, Math.max(0, t));
}

/** A profile's rate sampled at `points` + 1 evenly spaced times over `seconds`, for a sparkline. */
export function profileSeries(profile: TrafficProfile, seconds: number, points = 240): { t: number; rps: number }[] {
  const span = seconds > 0 ? seconds : PREVIEW_SECONDS;
  return Array.from({ length: points + 1 }, (_, i) => {
    const t = (span * i) / points;
    return { t, rps: profileRate(profile, t) };
  });
}
