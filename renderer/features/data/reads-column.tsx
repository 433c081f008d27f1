import { memo } from 'react';
import type { DataSample } from '../../../electron/data-spec.js';
import type { DataChartProps } from './chart-props.js';
import { ColumnHead, Figures } from './data-figures.js';
import { formatRate } from '../../ui/format.js';
import { ReadsChart } from './reads-chart.js';

/** Reads by where they went (primary, replica, fallbacks) and the replica's share, and the split over time. */
export const ReadsColumn = memo(function ReadsColumn({ chart, data }: { chart: DataChartProps; data: DataSample | undefined }) {
  const reads = data?.reads ?? null;
  const total = reads ? reads.primaryPerSec + reads.replicaPerSec : 0;
  return (
    <div className="data-col" role="group" aria-labelledby="data-reads">
      <ColumnHead id="data-reads" title="reads per second" off={null} />
      <Figures
        label="Read figures"
        items={[
          { label: 'primary', value: formatRate(reads?.primaryPerSec), testId: 'reads-primary' },
          {
            label: 'replica',
            value: formatRate(reads?.replicaPerSec),
            testId: 'reads-replica',
            tone: (reads?.replicaPerSec ?? 0) > 0 ? 'ok' : undefined,
          },
          {
            label: 'fallbacks',
            value: formatRate(reads?.fallbacksPerSec),
            testId: 'reads-fallbacks',
            tone: (reads?.fallbacksPerSec ?? 0) > 0 ? 'warn' : undefined,
            title: 'Replica reads retried on the primary (counted in primary too)',
          },
          {
            label: 'replica share',
            value: total > 0 ? `${Math.round((reads!.replicaPerSec / total) * 100)} %` : '–',
            title: 'Of the reads that reached a database',
          },
        ]}
      />
      <ReadsChart {...chart} />
    </div>
  );
});
