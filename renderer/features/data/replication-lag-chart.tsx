import { TimeChart, type Series } from '../../ui/chart/time-chart.js';
import type { DataChartProps } from './chart-props.js';
import type { DataRow } from './data-rows.js';

const SERIES: Series<DataRow>[] = [
  { name: 'lag s', color: '#f5a524', value: (r) => r.lagSeconds },
  { name: 'WAL behind KiB', color: '#9353d3', value: (r) => r.lagKiB, right: true },
];

/** How far the read replica trails the primary: seconds, and the WAL it has not replayed (right axis). */
export function ReplicationLagChart(props: DataChartProps) {
  return <TimeChart<DataRow> title="Replication lag" unit="s" unitRight="KiB" series={SERIES} {...props} />;
}
