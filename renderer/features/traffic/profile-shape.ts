import type { TrafficProfile } from '../../../electron/contract.js';

/** How long the preview spans when the run has no duration (it runs until stopped). */
export const PREVIEW_SECONDS = 120;

/**
 * The target rate (requests/s) of `profile` at `t` seconds after the start: the shape the
 * preview draws. The generator computes its own (electron/control/traffic/); the renderer keeps
 * a pure copy so it imports no control-plane code, and a test holds the two to the same shapes.
 */
export function profileRate(profile: TrafficProfile, t: number): number {
  const at = Math.max(0, t);
  switch (profile.kind) {
    case 'constant':
      return profile.rps;
    case 'ramp':
      return at >= profile.overS ? profile.to : profile.from + ((profile.to - profile.from) * at) / profile.overS;
    case 'step': {
      // Starts at `from`; each `everyS` climbs one of `steps` equal steps, reaching `to` after the last.
      const step = Math.min(profile.steps, Math.floor(at / profile.everyS));
      return profile.from + ((profile.to - profile.from) * step) / profile.steps;
    }
    case 'spike':
      return at >= profile.atS && at < profile.atS + profile.forS ? profile.peak : profile.base;
    case 'sine':
      // Starts at min and reaches max half a period later.
      return profile.min + ((profile.max - profile.min) * (1 - Math.cos((2 * Math.PI * at) / profile.periodS))) / 2;
    case 'replay': {
      const second = Math.floor(at);
      if (profile.loop) return profile.rates[second % profile.rates.length]!;
      // The recording is over: nothing more to send.
      return second < profile.rates.length ? profile.rates[second]! : 0;
    }
  }
}

/** A profile's rate sampled at `points` + 1 evenly spaced times over `seconds`, for a sparkline. */
export function profileSeries(profile: TrafficProfile, seconds: number, points = 240): { t: number; rps: number }[] {
  const span = seconds > 0 ? seconds : PREVIEW_SECONDS;
  return Array.from({ length: points + 1 }, (_, i) => {
    const t = (span * i) / points;
    return { t, rps: profileRate(profile, t) };
  });
}
