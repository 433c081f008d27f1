import { memo } from 'react';
import type { DataSample } from '../../../electron/data-spec.js';
import type { DataChartProps } from './chart-props.js';
import { ColumnHead, Figures } from './data-figures.js';
import { OFF_HINTS } from './data-view.js';
import { formatBytes, formatDelay, formatSeconds } from '../../ui/format.js';
import { ReplicationLagChart } from './replication-lag-chart.js';

/** The read replica: up or down, its lag in seconds and WAL bytes, the apply delay in force, and the lag over time. */
export const ReplicaColumn = memo(function ReplicaColumn({
  on,
  chart,
  data,
}: {
  on: boolean;
  chart: DataChartProps;
  data: DataSample | undefined;
}) {
  const replica = data?.replica ?? null;
  return (
    <div className="data-col" role="group" aria-labelledby="data-replica">
      <ColumnHead id="data-replica" title="read replica" off={on ? null : OFF_HINTS.readReplica} />
      {on && (
        <>
          <Figures
            label="Read replica figures"
            items={[
              {
                label: 'replica',
                value: replica === null ? '–' : replica.up ? 'up' : 'DOWN',
                tone: replica === null ? undefined : replica.up ? 'ok' : 'bad',
                testId: 'replica-state',
              },
              {
                label: 'lag',
                value: formatSeconds(replica?.lagSeconds),
                tone: (replica?.lagSeconds ?? 0) >= 1 ? 'warn' : undefined,
                testId: 'replica-lag',
                title: 'How far its replay trails the primary',
              },
              {
                label: 'WAL behind',
                value: formatBytes(replica?.lagBytes),
                title: 'WAL the replica has received or not, but not replayed yet',
              },
              {
                label: 'apply delay',
                value: replica ? formatDelay(replica.applyDelayMs) : '–',
                tone: (replica?.applyDelayMs ?? 0) > 0 ? 'warn' : undefined,
                testId: 'replica-delay',
                title: 'recovery_min_apply_delay (chaos “Replica delay”)',
              },
            ]}
          />
          <ReplicationLagChart {...chart} />
        </>
      )}
    </div>
  );
});
