import { memo } from 'react';
import type { Instance, InstanceSample } from '../../../electron/contract.js';
import { formatCpu } from '../../../electron/cpu-quantity.js';
import { Sparklines } from '../../ui/sparkline.js';
import type { TileHistory } from './tile-history.js';

function fmt(value: number | null | undefined, digits = 0): string {
  return value === null || value === undefined ? '–' : value.toFixed(digits);
}

/**
 * A Kubernetes pod name (`scalelab-api-7c9f8d6b5-x2x7k`) shortened to its service and own suffix
 * (`api-x2x7k`), so tiles stay narrow; other ids are already short.
 */
export function shortName(id: string): string {
  const pod = /^scalelab-(api|worker)-[a-z0-9]+-([a-z0-9]{5})$/.exec(id);
  return pod ? `${pod[1]}-${pod[2]}` : id;
}

/**
 * One replica: phase, restarts, cpu (against its limit, with how much of the last second's periods
 * it was throttled), rps and memory, with the last minute of cpu, rps and memory as sparklines.
 * Phase changes animate through CSS transitions.
 */
export const ReplicaTile = memo(function ReplicaTile({
  instance,
  sample,
  history,
  onOpen,
}: {
  instance: Instance;
  sample: InstanceSample | undefined;
  history?: TileHistory;
  onOpen: (id: string) => void;
}) {
  const rssMiB = sample?.rssBytes == null ? null : sample.rssBytes / 2 ** 20;
  return (
    <button
      className={`tile phase-${instance.phase}`}
      onClick={() => onOpen(instance.id)}
      aria-label={`${instance.id}, ${instance.phase}, ${instance.restarts} restarts; open details`}
      data-testid={`tile-${instance.id}`}
    >
      <span className="tile-head">
        <span className="tile-id" title={instance.id}>
          {shortName(instance.id)}
        </span>
        <span className="phase-badge" data-testid={`phase-${instance.id}`}>
          {instance.phase}
        </span>
      </span>
      <span className="tile-figures">
        <span>
          <b data-testid={`restarts-${instance.id}`}>{instance.restarts}</b> restarts
        </span>
        <span>
          <b>{fmt(sample?.cpu)}</b> % cpu
          {sample?.cpuLimitMillicores != null && (
            <span
              title={`its cpu limit: ${formatCpu(sample.cpuLimitMillicores)} per replica (${sample.cpuLimitMillicores / 10} % of a core)`}
            >
              {' '}
              / {formatCpu(sample.cpuLimitMillicores)}
            </span>
          )}
        </span>
        {sample?.throttling && (
          <span
            className={(sample.throttling.throttledShare ?? 0) >= 0.25 ? 'warn' : undefined}
            title={`throttled in ${fmt((sample.throttling.throttledShare ?? 0) * 100)} % of the last second's 100 ms periods, waiting ${fmt(sample.throttling.throttledSecondsPerSec, 2)} s/s for its quota (${sample.throttling.throttledPeriodsTotal} periods so far)`}
          >
            <b data-testid={`throttled-${instance.id}`}>
              {sample.throttling.throttledShare === null ? '–' : fmt(sample.throttling.throttledShare * 100)}
            </b>{' '}
            % throttled
          </span>
        )}
        {instance.service === 'api' && (
          <span>
            <b>{fmt(sample?.rps)}</b> rps
          </span>
        )}
        <span title="resident memory">
          <b data-testid={`memory-${instance.id}`}>{fmt(rssMiB)}</b> MiB
        </span>
      </span>
      {history && (
        <Sparklines
          label={`${instance.id}: cpu${instance.service === 'api' ? ', rps' : ''} and memory, last minute`}
          lines={[
            {
              values: history.cpu,
              max: sample?.cpuLimitMillicores != null ? sample.cpuLimitMillicores / 10 : undefined,
              className: 'spark-cpu',
            },
            ...(instance.service === 'api' ? [{ values: history.rps, className: 'spark-rps' }] : []),
            { values: history.rssMiB, className: 'spark-mem' },
          ]}
        />
      )}
    </button>
  );
});
