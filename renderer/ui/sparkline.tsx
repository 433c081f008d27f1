import { memo } from 'react';
import { sparkPath } from './spark-path.js';

/** A line of the last minute, no axes: the trend beside a tile's number (Lens's small charts). */
export const Sparkline = memo(function Sparkline({ values, max, label, className }: { values: (number | null)[]; max?: number; label: string; className?: string }) {
  return (
    <svg className={`sparkline ${className ?? ''}`} viewBox="0 0 100 20" preserveAspectRatio="none" role="img" aria-label={label}>
      <path d={sparkPath(values, max)} vectorEffect="non-scaling-stroke" />
    </svg>
  );
});
