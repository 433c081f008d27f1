import { useMemo } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { Instance, InstanceSample } from '../../../electron/contract.js';
import { tileHistories } from './tile-history.js';
import { useAppStore } from '../../store/use-app-store.js';
import { EventsFlow } from './events-flow.js';
import { ReplicaNode } from './replica-node.js';
import { ReplicaTile } from './replica-tile.js';

function Store({
  instance,
  label,
  detail,
  onOpen,
}: {
  instance: Instance | undefined;
  label: string;
  detail: string;
  onOpen: (id: string) => void;
}) {
  if (!instance) return null;
  return (
    <button
      className={`node store phase-${instance.phase}`}
      onClick={() => onOpen(instance.id)}
      aria-label={`${label}, ${instance.phase}; open details`}
    >
      <span className="node-title">{label}</span>
      <span className="node-detail">{detail}</span>
    </button>
  );
}

/** The flow: balancer → api replicas → cache, database and its read replica; queue → workers; outbox → stream → projector. */
export function Topology() {
  const { status, samples, select } = useAppStore(useShallow((s) => ({ status: s.status, samples: s.samples, select: s.select })));
  const latest = samples.at(-1);
  const bySample = useMemo(() => new Map<string, InstanceSample>((latest?.instances ?? []).map((i) => [i.id, i])), [latest]);
  const histories = useMemo(() => tileHistories(samples), [samples]);
  const instances = status?.instances ?? [];
  const api = instances.filter((i) => i.service === 'api');
  const workers = instances.filter((i) => i.service === 'worker');
  const redis = instances.find((i) => i.service === 'redis');
  const postgres = instances.find((i) => i.id === 'postgres') ?? instances.find((i) => i.service === 'postgres');
  const running = status?.state === 'running' || status?.state === 'starting';

  if (!running || instances.length === 0) {
    return (
      <section className="panel topology empty" aria-label="Topology">
        <p className="empty-title">No stack is running</p>
        <p className="muted">Press Start to run PostgreSQL, Redis, the api replicas behind a balancer, and a worker on this machine.</p>
      </section>
    );
  }
  const traffic = latest?.traffic;
  return (
    <section className="panel topology" aria-label="Topology">
      <div className="flow">
        <div className="column">
          <div className="node balancer-node">
            <span className="node-title">Balancer</span>
            <span className="node-detail" title="server-side: as the balancer measured them">
              {traffic
                ? `${traffic.rps.toFixed(0)} req/s · p95 ${traffic.p95 === null ? '–' : traffic.p95.toFixed(1)} ms`
                : 'least outstanding requests'}
            </span>
          </div>
        </div>
        <div className="arrow" aria-hidden="true">
          →
        </div>
        <div className="column grow">
          <div className="group-title">
            api{' '}
            <span className="muted">
              {api.filter((i) => i.phase === 'ready').length}/{api.length} ready
            </span>
          </div>
          <div className="tiles">
            {api.map((i) => (
              <ReplicaTile key={i.id} instance={i} sample={bySample.get(i.id)} history={histories.get(i.id)} onOpen={select} />
            ))}
          </div>
        </div>
        <div className="arrow" aria-hidden="true">
          →
        </div>
        <div className="column stores">
          <Store
            instance={redis}
            label="Redis cache"
            detail={
              latest
                ? `${latest.cache.up ? 'up' : 'DOWN'} · hit ${latest.cache.hitRate === null ? '–' : `${(latest.cache.hitRate * 100).toFixed(0)} %`}`
                : ''
            }
            onOpen={select}
          />
          <Store
            instance={postgres}
            label="PostgreSQL"
            detail={latest ? `${latest.db.up ? 'up' : 'DOWN'} · ${latest.db.connections ?? '–'} connections` : ''}
            onOpen={select}
          />
          <ReplicaNode onOpen={select} />
        </div>
      </div>
      <div className="flow queue-flow">
        <div className="column">
          <div className="node queue-node">
            <span className="node-title">Queue send-email</span>
            <span className="node-detail">{latest ? `${latest.queue.waiting} waiting · ${latest.queue.active} active` : ''}</span>
          </div>
        </div>
        <div className="arrow" aria-hidden="true">
          →
        </div>
        <div className="column grow">
          <div className="group-title">
            workers{' '}
            <span className="muted">
              {workers.filter((i) => i.phase === 'ready').length}/{workers.length} ready
            </span>
          </div>
          <div className="tiles">
            {workers.length === 0 ? (
              <span className="muted">no workers: jobs wait in the queue</span>
            ) : (
              workers.map((i) => (
                <ReplicaTile key={i.id} instance={i} sample={bySample.get(i.id)} history={histories.get(i.id)} onOpen={select} />
              ))
            )}
          </div>
        </div>
      </div>
      <EventsFlow />
    </section>
  );
}
