import { memo, useMemo } from 'react';
import type { TrafficProfile } from '../../../electron/contract.js';
import { PREVIEW_SECONDS, profileSeries } from './profile-shape.js';

const W = 240;
const H = 52;

function short(rps: number): string {
  return rps >= 1000 ? `${(rps / 1000).toFixed(rps >= 10_000 ? 0 : 1)}k` : String(Math.round(rps));
}

function span(seconds: number): string {
  return seconds >= 120 && seconds % 60 === 0 ? `${seconds / 60} min` : `${Math.round(seconds)} s`;
}

/**
 * The profile's rate over the run (or {@link PREVIEW_SECONDS} when it runs until stopped), as a
 * small area chart scaled to its peak, with the peak and span, so a person sees the shape before firing it.
 */
export const ProfilePreview = memo(function ProfilePreview({ profile, durationS }: { profile: TrafficProfile; durationS: number | null }) {
  const seconds = durationS ?? PREVIEW_SECONDS;
  const { line, area, peak } = useMemo(() => {
    const points = profileSeries(profile, seconds);
    const peak = Math.max(...points.map((p) => p.rps));
    // Scaled to the peak (the caption gives it): the shape is what a preview is for.
    const top = peak > 0 ? peak : 1;
    const x = (t: number) => (t / seconds) * W;
    const y = (rps: number) => H - 1 - (rps / top) * (H - 4);
    const line = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.t).toFixed(1)} ${y(p.rps).toFixed(1)}`).join('');
    return { line, area: `${line}L${W} ${H}L0 ${H}Z`, peak };
  }, [profile, seconds]);
  const described = `Rate preview: ${profile.kind}, up to ${short(peak)} requests/s over ${span(seconds)}${durationS === null ? ' (runs until stopped)' : ''}`;
  return (
    <figure className="profile-preview">
      <div className="preview-plot">
        <svg viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" role="img" aria-label={described}>
          <line x1={0} x2={W} y1={H - 0.5} y2={H - 0.5} className="preview-axis" />
          <path d={area} className="preview-area" />
          <path d={line} className="preview-line" vectorEffect="non-scaling-stroke" />
        </svg>
      </div>
      <figcaption className="muted">
        <span>0</span>
        <span>
          peak {short(peak)}/s · {span(seconds)}
          {durationS === null ? ' shown, runs until stopped' : ''}
        </span>
      </figcaption>
    </figure>
  );
});
