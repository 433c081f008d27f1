import { useId } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { MAX_RPS } from '../../store/traffic-slice.js';
import { useAppStore } from '../../store/use-app-store.js';
import { NumberField } from '../../ui/number-field.js';
import { SLIDER_STEPS, sliderPosition, sliderRate } from './rate-scale.js';

/**
 * The rate: a slider (0–5000 req/s) and a number box (up to the contract's maximum). Before a
 * run it sets the constant rate; during one it steers the generator live (the run turns constant).
 */
export function RateSlider() {
  const { running, rate, target, kind, constantRps, setRate } = useAppStore(
    useShallow((s) => ({
      running: s.trafficRunning,
      rate: s.trafficRate,
      target: s.samples.at(-1)?.generator?.targetRps ?? null,
      kind: s.trafficDraft.kind,
      constantRps: s.trafficDraft.constant.rps,
      setRate: s.setTrafficRate,
    })),
  );
  const sliderId = useId();
  const value = running ? (rate ?? Math.round(target ?? 0)) : constantRps;
  const note = running
    ? 'live: the run turns constant at this rate'
    : kind === 'constant'
      ? 'the constant rate'
      : `moving it switches ${kind} to constant`;
  return (
    <div className="rate-slider">
      <label htmlFor={sliderId}>Rate</label>
      <input
        id={sliderId}
        type="range"
        min={0}
        max={SLIDER_STEPS}
        value={sliderPosition(value)}
        aria-valuetext={`${value} requests/s`}
        onChange={(e) => setRate(sliderRate(Number(e.target.value)))}
      />
      <NumberField className="rate-box" label="req/s" layout="unit" value={value} onChange={(v) => setRate(v ?? 0)} min={0} max={MAX_RPS} />
      <p className="rate-note muted">{note}</p>
    </div>
  );
}
