import { useMemo } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { useAppStore } from '../../store/use-app-store.js';
import { buildRows, eventMarks } from './chart-data.js';

/** The shared time axis of every chart: the window ending at the newest sample, its rows and marks. */
export function useChartFrame() {
  const { samples, events, windowSeconds } = useAppStore(useShallow((s) => ({ samples: s.samples, events: s.events, windowSeconds: s.windowSeconds })));
  // The axis ends at the newest sample, so every chart moves in step once a second.
  const to = samples.at(-1)?.t ?? Date.now();
  const from = to - windowSeconds * 1000;
  const { rows, instances } = useMemo(() => buildRows(samples, windowSeconds, to), [samples, windowSeconds, to]);
  const marks = useMemo(() => eventMarks(events, windowSeconds, to), [events, windowSeconds, to]);
  return { rows, instances, marks, from, to, windowSeconds };
}
