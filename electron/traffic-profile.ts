/** A traffic profile's rate over time: part of the contract, so the control plane's generator and the dashboard's preview compute the same curve. */
import type { TrafficProfile } from './traffic-spec.js';

/** The target arrival rate (requests/s) of `profile` at `t` seconds after the start. */
export function rateAt(profile: TrafficProfile, t: number): number {
  switch (profile.kind) {
    case 'constant':
      return profile.rps;
    case 'ramp':
      return t >= profile.overS ? profile.to : profile.from + ((profile.to - profile.from) * t) / profile.overS;
    case 'step': {
      const step = Math.min(profile.steps, Math.floor(t / profile.everyS));
      return profile.from + ((profile.to - profile.from) * step) / profile.steps;
    }
    case 'spike':
      return t >= profile.atS && t < profile.atS + profile.forS ? profile.peak : profile.base;
    case 'sine':
      // Starts at min, peaks at max half a period later.
      return profile.min + ((profile.max - profile.min) * (1 - Math.cos((2 * Math.PI * t) / profile.periodS))) / 2;
    case 'replay': {
      const second = Math.floor(t);
      if (profile.loop) return profile.rates[second % profile.rates.length]!;
      return second < profile.rates.length ? profile.rates[second]! : 0;
    }
  }
}

/** The highest rate a profile asks for (to size the connection pool). */
export function peakRate(profile: TrafficProfile): number {
  switch (profile.kind) {
    case 'constant':
      return profile.rps;
    case 'ramp':
    case 'step':
      return Math.max(profile.from, profile.to);
    case 'spike':
      return Math.max(profile.base, profile.peak);
    case 'sine':
      return Math.max(profile.min, profile.max);
    case 'replay':
      return Math.max(...profile.rates);
  }
}

/** The same shape at `factor` times the rate (one thread's share of a run split over threads). */
export function scaleProfile(profile: TrafficProfile, factor: number): TrafficProfile {
  switch (profile.kind) {
    case 'constant':
      return { ...profile, rps: profile.rps * factor };
    case 'ramp':
    case 'step':
      return { ...profile, from: profile.from * factor, to: profile.to * factor };
    case 'spike':
      return { ...profile, base: profile.base * factor, peak: profile.peak * factor };
    case 'sine':
      return { ...profile, min: profile.min * factor, max: profile.max * factor };
    case 'replay':
      return { ...profile, rates: profile.rates.map((r) => r * factor) };
  }
}
