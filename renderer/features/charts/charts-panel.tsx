import { useMemo } from 'react';
import { cacheSeries, PALETTE, queueSeries } from './chart-series.js';
import { WindowPicker } from './key-charts.js';
import { TimeChart, type Series } from '../../ui/chart/time-chart.js';
import { useChartFrame } from './use-chart-frame.js';
import { useHeld, useOnScreen } from '../../ui/on-screen.js';
import { PanelTitle, useCollapsed } from '../../ui/panel-title.js';

/**
 * The charts beyond the key three (requests, latency, replicas sit under the stat row): cache,
 * queue, cpu per replica, and cpu throttling when a replica has a cpu limit; the same time axis.
 */
export function ChartsPanel() {
  const collapsed = useCollapsed('charts');
  // Scrolled out of view, the charts keep their last frame: six charts redrawn unseen every second cost the visible ones.
  const [ref, onScreen] = useOnScreen<HTMLElement>();
  const { rows, instances, marks, from, to } = useHeld(useChartFrame(), !onScreen);
  const cpu = useMemo<Series[]>(
    () =>
      instances.map((id, i) => ({
        name: id,
        color: PALETTE[i % PALETTE.length]!,
        value: (r) => r.cpu[id] ?? null,
        faint: id.startsWith('worker'),
      })),
    [instances],
  );
  // Only replicas held to a cpu limit have throttling; the chart shows when any has.
  const throttled = useMemo<Series[]>(
    () =>
      instances.flatMap((id, i) =>
        rows.some((r) => r.throttled[id] != null)
          ? [
              {
                name: id,
                color: PALETTE[i % PALETTE.length]!,
                value: (r: (typeof rows)[number]) => r.throttled[id] ?? null,
                faint: id.startsWith('worker'),
              },
            ]
          : [],
      ),
    [instances, rows],
  );

  return (
    <section ref={ref} id="charts-panel" className={`panel charts${collapsed ? ' collapsed' : ''}`} aria-labelledby="charts-title">
      <header className="panel-header">
        <PanelTitle panel="charts" id="charts-title">
          More metrics
        </PanelTitle>
        <WindowPicker />
      </header>
      <div className="chart-grid">
        <TimeChart title="Cache hit rate" unit="%" rows={rows} series={cacheSeries} marks={marks} from={from} to={to} yMax={100} />
        <TimeChart title="Queue" unit="jobs" rows={rows} series={queueSeries} marks={marks} from={from} to={to} />
        <TimeChart title="CPU per replica" unit="% of a core" rows={rows} series={cpu} marks={marks} from={from} to={to} />
        {throttled.length > 0 && (
          <TimeChart
            title="CPU throttling per replica"
            unit="% of 100 ms periods throttled by the cpu limit"
            rows={rows}
            series={throttled}
            marks={marks}
            from={from}
            to={to}
            yMax={100}
          />
        )}
      </div>
    </section>
  );
}
