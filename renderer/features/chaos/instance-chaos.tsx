import { useMemo, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { ChaosAction, Instance } from '../../../electron/contract.js';
import { chaosKey, faultsOf, percentToRate } from '../../store/chaos-slice.js';
import { useAppStore } from '../../store/use-app-store.js';
import { ActionRow } from './action-row.js';
import { FaultItem } from './fault-list.js';
import { InlineNumber } from '../../ui/inline-number.js';

const isReplica = (instance: Instance) => instance.service === 'api' || instance.service === 'worker';

/** For the drawer's action row, beside Kill: stop gracefully, and pause or resume. */
export function InstanceChaosButtons({ instance }: { instance: Instance }) {
  const { busy, inject } = useAppStore(useShallow((s) => ({ busy: s.chaosBusy, inject: s.inject })));
  const replica = isReplica(instance);
  const paused = instance.phase === 'paused';
  const stop: ChaosAction = { action: 'kill', target: instance.id, graceful: true };
  const pause: ChaosAction = { action: paused ? 'resume' : 'pause', target: instance.id };
  return (
    <>
      <button onClick={() => void inject(stop)} disabled={!replica || busy !== null} aria-busy={busy === chaosKey(stop)} title={replica ? 'SIGTERM: it drains and exits, then the runtime brings it back' : 'for replicas; the Chaos panel takes the cache and the database down'}>
        Stop gracefully
      </button>
      <button onClick={() => void inject(pause)} disabled={!replica || busy !== null} aria-busy={busy === chaosKey(pause)} title={paused ? 'SIGCONT: it carries on' : replica ? 'SIGSTOP: frozen until resumed' : 'pause is for replicas'}>
        {paused ? 'Resume' : 'Pause'}
      </button>
    </>
  );
}

interface Sizes {
  cpuSeconds: number;
  cpuThreads: number;
  leakMbPerSecond: number;
  blockMs: number;
  dbMs: number;
  cacheMs: number;
  errorPercent: number;
}
const SIZES: Sizes = { cpuSeconds: 30, cpuThreads: 1, leakMbPerSecond: 10, blockMs: 2000, dbMs: 200, cacheMs: 0, errorPercent: 20 };

/** An api replica's faults (cpu, leak, block, latency, errors), and those in force on it. */
export function InstanceFaults({ instance }: { instance: Instance }) {
  const { busy, inject, running, chaos } = useAppStore(
    useShallow((s) => ({ busy: s.chaosBusy, inject: s.inject, running: s.status?.state === 'running', chaos: s.chaos })),
  );
  const faults = useMemo(() => faultsOf(chaos, instance.id), [chaos, instance.id]);
  const [sizes, setSizes] = useState<Sizes>(SIZES);
  const set = (patch: Partial<Sizes>) => setSizes((old) => ({ ...old, ...patch }));
  const now = Date.now();
  const target = instance.id;
  const row = (action: ChaosAction) => ({ busy: busy === chaosKey(action), disabled: !running || busy !== null, onRun: () => void inject(action) });
  // Only api replicas take faults: they serve the admin endpoints that set them.
  const api = instance.service === 'api';
  return (
    <section className="instance-chaos" aria-label={`Faults on ${target}`}>
      {api && (
        <div className="instance-faults">
          <ActionRow label="Burn CPU" title="Busy-loop threads on this replica" {...row({ action: 'cpu', target, seconds: sizes.cpuSeconds, threads: sizes.cpuThreads })}>
            <InlineNumber label="cpu seconds" before="for" unit="s" value={sizes.cpuSeconds} onChange={(v) => set({ cpuSeconds: v })} min={1} max={3600} integer />
            <InlineNumber label="cpu threads" before="×" unit="threads" value={sizes.cpuThreads} onChange={(v) => set({ cpuThreads: v })} min={1} max={8} integer />
          </ActionRow>
          <ActionRow label="Leak memory" title="Grow its heap until it is restarted or cleared" {...row({ action: 'leak', target, mbPerSecond: sizes.leakMbPerSecond })}>
            <InlineNumber label="leak MiB per second" unit="MiB/s" value={sizes.leakMbPerSecond} onChange={(v) => set({ leakMbPerSecond: v })} min={1} max={1024} integer />
          </ActionRow>
          <ActionRow label="Block event loop" title="Block its event loop once, for this long" {...row({ action: 'block', target, ms: sizes.blockMs })}>
            <InlineNumber label="block ms" unit="ms" value={sizes.blockMs} onChange={(v) => set({ blockMs: v })} min={1} max={60_000} integer />
          </ActionRow>
          <ActionRow label="Add latency" title="Add latency to its database and cache calls (0 removes it)" {...row({ action: 'latency', target, dbMs: sizes.dbMs, cacheMs: sizes.cacheMs })}>
            <InlineNumber label="replica latency db ms" before="db" value={sizes.dbMs} onChange={(v) => set({ dbMs: v })} min={0} max={60_000} integer />
            <InlineNumber label="replica latency cache ms" before="cache" unit="ms" value={sizes.cacheMs} onChange={(v) => set({ cacheMs: v })} min={0} max={60_000} integer />
          </ActionRow>
          <ActionRow label="Fail requests" title="Answer this share of its requests with 500 (0 removes it)" {...row({ action: 'errors', target, rate: percentToRate(sizes.errorPercent) })}>
            <InlineNumber label="replica error rate %" unit="%" value={sizes.errorPercent} onChange={(v) => set({ errorPercent: v })} min={0} max={100} />
          </ActionRow>
        </div>
      )}
      {faults.length > 0 && (
        <ul className="fault-list instance" aria-label={`Faults in force on ${target}`}>
          {faults.map((f) => (
            <FaultItem key={`${f.action}-${f.target}-${f.since}`} fault={f} now={now} />
          ))}
        </ul>
      )}
    </section>
  );
}
