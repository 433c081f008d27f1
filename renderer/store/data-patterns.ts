/** Which data-layer patterns the running stack has: read by the data panel, the data chaos and the topology. */
import type { DataSample, DataSpec, StackSpec } from '../../electron/contract.js';

/** The data-layer patterns of the running stack. */
export type DataPatterns = DataSpec;

/**
 * The patterns in force: the running spec says; a spec from before the patterns existed has none,
 * and then the live sample tells (a replica or a stream in it means the pattern is on).
 */
export function dataPatterns(spec: StackSpec | null | undefined, data: DataSample | undefined): DataPatterns {
  const from = spec?.data as Partial<DataSpec> | undefined;
  return {
    readReplica: from?.readReplica ?? (data?.replica !== null && data?.replica !== undefined),
    events: from?.events ?? (data?.stream !== null && data?.stream !== undefined),
    partitions: from?.partitions ?? data?.partitions?.length ?? 0,
  };
}
