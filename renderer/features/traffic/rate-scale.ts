import { SLIDER_MAX_RPS } from '../../store/traffic-slice.js';

/** Slider positions: fine steps at low rates, coarse ones near the top. */
export const SLIDER_STEPS = 1000;

/** Slider position → rate: quadratic, so a tenth of the travel covers 0–50 req/s and the rest up to 5000. */
export function sliderRate(position: number): number {
  const rps = SLIDER_MAX_RPS * (Math.min(Math.max(position, 0), SLIDER_STEPS) / SLIDER_STEPS) ** 2;
  if (rps < 100) return Math.round(rps);
  return rps < 1000 ? Math.round(rps / 5) * 5 : Math.round(rps / 10) * 10;
}

/** Rate → slider position (rates past the slider's range pin it at the end). */
export function sliderPosition(rps: number): number {
  return Math.round(Math.sqrt(Math.min(Math.max(rps, 0), SLIDER_MAX_RPS) / SLIDER_MAX_RPS) * SLIDER_STEPS);
}
