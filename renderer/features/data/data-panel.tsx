import { useMemo } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { useAppStore } from '../../store/use-app-store.js';
import { useHeld, useOnScreen } from '../../ui/on-screen.js';
import { eventMarks } from '../../ui/chart/chart-data.js';
import type { DataChartProps } from './chart-props.js';
import { buildDataRows } from './data-rows.js';
import { dataPatterns } from '../../store/data-patterns.js';
import { EventsColumn } from './events-column.js';
import { PartitionBars } from './partition-bars.js';
import { PoolList } from './pool-list.js';
import { ReadsColumn } from './reads-column.js';
import { ReplicaColumn } from './replica-column.js';
import { PanelTitle, useCollapsed } from '../../ui/panel-title.js';

/**
 * The data layer: the read replica and its lag, reads split between primary and replica, every
 * api replica's connection pools, the outbox → stream → projector pipeline and the read model's
 * freshness, and the rows per partition. A pattern that is off says so, and how to turn it on.
 * Its charts follow the Metrics panel's window, on the same time axis.
 */
export function DataPanel() {
  const collapsed = useCollapsed('data');
  // Scrolled out of view, the panel keeps its last picture (its charts and columns are memoized).
  const [ref, onScreen] = useOnScreen<HTMLElement>();
  const live = useAppStore(
    useShallow((s) => {
      const p = dataPatterns(s.status?.spec, s.samples.at(-1)?.data);
      return {
        samples: s.samples,
        events: s.events,
        windowSeconds: s.windowSeconds,
        running: s.status?.state === 'running',
        readReplica: p.readReplica,
        streamOn: p.events,
        partitions: p.partitions,
      };
    }),
  );
  const { samples, events, windowSeconds, running, readReplica, streamOn, partitions } = useHeld(live, !onScreen);
  const data = samples.at(-1)?.data;
  const to = samples.at(-1)?.t ?? Date.now();
  const rows = useMemo(() => buildDataRows(samples, windowSeconds, to), [samples, windowSeconds, to]);
  const marks = useMemo(() => eventMarks(events, windowSeconds, to), [events, windowSeconds, to]);
  const chart: DataChartProps = useMemo(() => ({ rows, marks, from: to - windowSeconds * 1000, to }), [rows, marks, to, windowSeconds]);
  const hasData = data !== undefined;

  return (
    <section ref={ref} id="data-panel" className={`panel data${collapsed ? ' collapsed' : ''}`} aria-labelledby="data-title">
      <header className="panel-header">
        <PanelTitle panel="data" id="data-title">
          Data layer
        </PanelTitle>
        {running && (
          <ul className="data-patterns" aria-label="Data-layer patterns">
            <li className={readReplica ? 'on' : ''}>read replica {readReplica ? 'on' : 'off'}</li>
            <li className={streamOn ? 'on' : ''}>events {streamOn ? 'on' : 'off'}</li>
            <li className={partitions > 0 ? 'on' : ''}>{partitions > 0 ? `${partitions} partitions` : 'partitions off'}</li>
          </ul>
        )}
        <p className="data-intro muted">reads routed to a replica, writes published through an outbox, users split by hash</p>
      </header>
      {!running ? (
        <p className="data-empty muted">
          Start the stack to see its data layer; the patterns are picked beside Start (replica, events, partitions).
        </p>
      ) : !hasData ? (
        <p className="data-empty muted">This control plane’s samples carry no data-layer figures: update ScaleLab and restart it.</p>
      ) : (
        <>
          <div className="data-grid">
            <ReplicaColumn on={readReplica} chart={chart} data={data} />
            <ReadsColumn chart={chart} data={data} />
            <EventsColumn on={streamOn} chart={chart} data={data} />
          </div>
          <div className="data-lower">
            <PoolList data={data} />
            <PartitionBars on={partitions > 0} data={data} />
          </div>
        </>
      )}
    </section>
  );
}
