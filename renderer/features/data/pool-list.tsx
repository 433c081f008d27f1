import type { DataSample } from '../../../electron/data-spec.js';
import { memo, useMemo } from 'react';
import { poolViews, type PoolView } from './data-view.js';

function PoolBar({ view }: { view: PoolView }) {
  return (
    <div className={`pool ${view.starved ? 'starved' : ''}`}>
      <span className="pool-name">{view.pool}</span>
      <span
        className="pool-track"
        role="meter"
        aria-label={`${view.pool} pool in use`}
        aria-valuemin={0}
        aria-valuemax={view.max}
        aria-valuenow={view.used}
      >
        <span className="pool-fill" style={{ width: `${view.fraction * 100}%` }} />
      </span>
      <span className="pool-count">
        {view.used}/{view.max}
      </span>
      <span className="pool-waiting" title="Clients waiting for a connection">
        {view.waiting > 0 ? `${view.waiting} waiting` : ''}
      </span>
    </div>
  );
}

/** Every api replica's PostgreSQL pools: connections in use against the pool's size; waiting clients in red. */
export const PoolList = memo(function PoolList({ data }: { data: DataSample | undefined }) {
  const pools = data?.pools;
  const views = useMemo(() => poolViews(pools ?? []), [pools]);
  const waiting = views.reduce((n, v) => n + v.pools.reduce((m, p) => m + p.waiting, 0), 0);
  return (
    <div className="data-pools" role="group" aria-labelledby="data-pools-title">
      <h3 className="data-caption" id="data-pools-title">
        connection pools per api replica {waiting > 0 && <span className="pool-alert">{waiting} clients waiting</span>}
      </h3>
      {views.length === 0 ? (
        <p className="data-off muted">No pool figures yet: they come from each api replica’s /metrics.</p>
      ) : (
        <ul className="pool-list" aria-label="Connection pools">
          {views.map((v) => (
            <li
              key={v.instance}
              className="pool-card"
              aria-label={`${v.instance}: ${v.pools.map((p) => `${p.pool} ${p.used} of ${p.max}${p.waiting > 0 ? `, ${p.waiting} waiting` : ''}`).join('; ')}`}
            >
              <span className="pool-instance">{v.instance}</span>
              {v.pools.map((p) => (
                <PoolBar key={p.pool} view={p} />
              ))}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
});
