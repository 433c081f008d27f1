import type { ReactNode } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { MAX_REPLICAS, MIN_REPLICAS, type ScalableService } from '../../../electron/contract.js';
import { useAppStore } from '../../store/use-app-store.js';

function Stepper({
  service,
  count,
  disabled,
  onScale,
}: {
  service: ScalableService;
  count: number;
  disabled: boolean;
  onScale: (n: number) => void;
}) {
  const [min, max] = [MIN_REPLICAS[service], MAX_REPLICAS];
  return (
    <div className="stepper" role="group" aria-label={`${service} replicas`}>
      <span className="stepper-label">{service === 'api' ? 'api replicas' : 'workers'}</span>
      <button onClick={() => onScale(count - 1)} disabled={disabled || count <= min} aria-label={`Remove one ${service} replica`}>
        −
      </button>
      <output aria-live="polite" data-testid={`count-${service}`}>
        {count}
      </output>
      <button onClick={() => onScale(count + 1)} disabled={disabled || count >= max} aria-label={`Add one ${service} replica`}>
        +
      </button>
    </div>
  );
}

/** Replica steppers; `children` below them (the app puts the autoscaler's word and the safety guard there). */
export function Controls({ children }: { children?: ReactNode }) {
  const { status, busy, scale } = useAppStore(useShallow((s) => ({ status: s.status, busy: s.busy, scale: s.scale })));
  // Without a control plane (the tab waits to reconnect) a stale status must not offer scaling.
  const offline = useAppStore((s) => s.connection !== 'open');
  const running = status?.state === 'running' && !offline;
  const api = status?.spec?.replicas.api ?? 0;
  const worker = status?.spec?.replicas.worker ?? 0;
  return (
    <section className="panel controls" aria-labelledby="controls-title">
      <h2 id="controls-title">Scale</h2>
      <Stepper service="api" count={api} disabled={!running || busy !== null} onScale={(n) => void scale('api', n)} />
      <Stepper service="worker" count={worker} disabled={!running || busy !== null} onScale={(n) => void scale('worker', n)} />
      {busy === 'stack:scale' && <p className="muted">scaling… new replicas join the balancer once ready</p>}
      {children}
    </section>
  );
}
