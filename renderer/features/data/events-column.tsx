import { memo } from 'react';
import type { DataSample } from '../../../electron/data-spec.js';
import type { DataChartProps } from './chart-props.js';
import { ColumnHead, Figures } from './data-figures.js';
import { OFF_HINTS } from './data-view.js';
import { formatCount, formatRate, formatSeconds } from '../../ui/format.js';
import { ProjectorLagChart } from './projector-lag-chart.js';

/** The event stream: its length and rate, the projector group's lag and pending, the outbox backlog and the read model's freshness. */
export const EventsColumn = memo(function EventsColumn({
  on,
  chart,
  data,
}: {
  on: boolean;
  chart: DataChartProps;
  data: DataSample | undefined;
}) {
  const stream = data?.stream ?? null;
  return (
    <div className="data-col" role="group" aria-labelledby="data-events">
      <ColumnHead id="data-events" title="outbox → stream user-events → projector" off={on ? null : OFF_HINTS.events} />
      {on && (
        <>
          <Figures
            label="Event stream figures"
            items={[
              { label: 'stream', value: formatCount(stream?.length), testId: 'stream-length', title: 'Entries in the user-events stream' },
              { label: 'events/s', value: formatRate(stream?.eventsPerSec), testId: 'stream-rate' },
              {
                label: 'group lag',
                value: stream?.groupLag === null || stream?.groupLag === undefined ? '–' : formatCount(stream.groupLag),
                tone: (stream?.groupLag ?? 0) > 100 ? 'warn' : undefined,
                testId: 'stream-lag',
                title: 'Entries the projector group has not read yet',
              },
              { label: 'pending', value: formatCount(stream?.pending), title: 'Read by the projector, not acknowledged yet' },
              {
                label: 'outbox',
                value: formatCount(stream?.outboxBacklog),
                tone: (stream?.outboxBacklog ?? 0) > 100 ? 'warn' : undefined,
                testId: 'outbox-backlog',
                title: 'Outbox rows not relayed to the stream yet',
              },
              {
                label: 'freshness',
                value: formatSeconds(stream?.freshnessS),
                tone: (stream?.freshnessS ?? 0) >= 5 ? 'warn' : undefined,
                testId: 'read-model-freshness',
                title: 'How far the read model (GET /stats/users) trails the writes',
              },
            ]}
          />
          <ProjectorLagChart {...chart} />
        </>
      )}
    </div>
  );
});
