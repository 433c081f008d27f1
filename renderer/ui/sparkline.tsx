import { memo } from 'react';
import { sparkPath } from './spark-path.js';

/** One line of a tile's sparklines: its values, the top of its scale (else its own maximum), its class. */
export interface SparkLine {
  values: (number | null)[];
  max?: number;
  className: string;
}

/**
 * A tile's last minute as small lines side by side, no axes (Lens's small charts): one SVG for all
 * of them, since twenty tiles redraw every second.
 */
export const Sparklines = memo(function Sparklines({ lines, label }: { lines: SparkLine[]; label: string }) {
  const width = lines.length * 110 - 10;
  return (
    <svg className="sparklines" viewBox={`0 0 ${width} 20`} preserveAspectRatio="none" role="img" aria-label={label}>
      {lines.map((line, i) => (
        <path
          key={line.className}
          className={line.className}
          transform={i === 0 ? undefined : `translate(${i * 110} 0)`}
          d={sparkPath(line.values, line.max)}
        />
      ))}
    </svg>
  );
});
