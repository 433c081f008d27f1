import type { TimelineEvent } from '../../../electron/contract.js';
import type { DataRow } from './data-rows.js';

/** What every chart of the Data layer panel takes: the shared rows, marks and time axis. */
export interface DataChartProps {
  rows: DataRow[];
  marks: TimelineEvent[];
  from: number;
  to: number;
}
