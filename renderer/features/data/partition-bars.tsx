import type { DataSample } from '../../../electron/data-spec.js';
import { memo, useMemo } from 'react';
import { OFF_HINTS, partitionBars } from './data-view.js';
import { formatCount } from '../../ui/format.js';

/** Rows per partition of users as small bars, with the total and how evenly the hash spreads them. */
export const PartitionBars = memo(function PartitionBars({ on, data }: { on: boolean; data: DataSample | undefined }) {
  const partitions = data?.partitions ?? null;
  const view = useMemo(() => (partitions ? partitionBars(partitions) : null), [partitions]);
  return (
    <div className="data-partitions" role="group" aria-labelledby="data-partitions-title">
      <h3 className="data-caption" id="data-partitions-title">
        rows per partition of users
      </h3>
      {!on ? (
        <p className="data-off muted" data-testid="data-partitions-off">
          {OFF_HINTS.partitions}
        </p>
      ) : !view || view.bars.length === 0 ? (
        <p className="data-off muted">Counting the partitions’ rows (every 5 s)…</p>
      ) : (
        <ol className="partition-bars" aria-label="Rows per partition">
          {view.bars.map((b) => (
            <li key={b.name} title={`${b.name}: ${formatCount(b.rows)} rows`} aria-label={`${b.name}: ${b.rows} rows`}>
              <span className="partition-well">
                <span className="partition-bar" style={{ height: `${Math.max(b.rows > 0 ? 3 : 0, b.fraction * 100)}%` }} />
              </span>
              <span className="partition-label" aria-hidden="true">
                {b.labelled ? b.short : ''}
              </span>
            </li>
          ))}
        </ol>
      )}
      {on && view && view.bars.length > 0 && (
        <p className="partition-summary muted" data-testid="partition-total">
          {formatCount(view.total)} rows in {view.bars.length} partitions
          {view.skew !== null && ` · the fullest holds ${view.skew.toFixed(2)}× the mean`}
        </p>
      )}
    </div>
  );
});
