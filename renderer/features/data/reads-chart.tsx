import { TimeChart, type Series } from '../../ui/chart/time-chart.js';
import type { DataChartProps } from './chart-props.js';
import type { DataRow } from './data-rows.js';

const SERIES: Series<DataRow>[] = [
  { name: 'primary', color: '#4e9af1', value: (r) => r.readsPrimary },
  { name: 'replica', color: '#17c964', value: (r) => r.readsReplica },
  // Fallbacks are primary reads too: dashed, so the primary's line shows through where they are all of it.
  { name: 'fallbacks', color: '#f31260', value: (r) => r.readFallbacks, dashed: true },
];

/** Database reads per second by where they went: the primary, the replica, and replica reads retried on the primary (a part of the primary's). */
export function ReadsChart(props: DataChartProps) {
  return <TimeChart<DataRow> title="Reads" unit="per second" series={SERIES} {...props} />;
}
