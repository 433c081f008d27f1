import { TimeChart, type Series } from '../../ui/chart/time-chart.js';
import type { DataChartProps } from './chart-props.js';
import type { DataRow } from './data-rows.js';

const SERIES: Series<DataRow>[] = [
  { name: 'group lag', color: '#06b7db', value: (r) => r.groupLag },
  { name: 'outbox', color: '#f5a524', value: (r) => r.outboxBacklog },
  { name: 'freshness s', color: '#ff7eb6', value: (r) => r.freshnessS, right: true },
];

/** How far the read model trails: entries the projector has not read, outbox rows not relayed, and its freshness in seconds (right axis). */
export function ProjectorLagChart(props: DataChartProps) {
  return <TimeChart<DataRow> title="Projector lag" unit="entries" unitRight="s" series={SERIES} {...props} />;
}
