import { useMemo } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { useAppStore } from '../../store/use-app-store.js';
import { buildRows, eventMarks } from '../../ui/chart/chart-data.js';

type Frame = { rows: ReturnType<typeof buildRows>['rows']; instances: string[]; marks: ReturnType<typeof eventMarks> };
/** The last frame built, for the next panel that asks with the same inputs in the same second. */
let last: { samples: unknown; events: unknown; windowSeconds: number; to: number; frame: Frame } | undefined;

/** Rows and marks for these inputs, built once however many panels draw them. */
function frameOf(
  samples: Parameters<typeof buildRows>[0],
  events: Parameters<typeof eventMarks>[0],
  windowSeconds: number,
  to: number,
): Frame {
  if (last && last.samples === samples && last.events === events && last.windowSeconds === windowSeconds && last.to === to)
    return last.frame;
  const frame = { ...buildRows(samples, windowSeconds, to), marks: eventMarks(events, windowSeconds, to) };
  last = { samples, events, windowSeconds, to, frame };
  return frame;
}

/** The shared time axis of every chart: the window ending at the newest sample, its rows and marks. */
export function useChartFrame() {
  const { samples, events, windowSeconds } = useAppStore(
    useShallow((s) => ({ samples: s.samples, events: s.events, windowSeconds: s.windowSeconds })),
  );
  // The axis ends at the newest sample, so every chart moves in step once a second.
  const to = samples.at(-1)?.t ?? Date.now();
  const from = to - windowSeconds * 1000;
  const { rows, instances, marks } = useMemo(() => frameOf(samples, events, windowSeconds, to), [samples, events, windowSeconds, to]);
  return { rows, instances, marks, from, to, windowSeconds };
}
