import { useId } from 'react';
import type { KubeHpaView, ScalableService } from '../../../electron/contract.js';
import { useAppStore } from '../../store/use-app-store.js';
import { AutoscalerGauge } from './autoscaler-gauge.js';
import { AutoscalerFigures, AutoscaleSwitch } from './autoscaler-parts.js';

const TITLE: Record<ScalableService, string> = { api: 'api', worker: 'workers' };
/** The chart's and the runtime's default cpu targets (KUBE_DEFAULTS). */
const DEFAULT_CPU: Record<ScalableService, number> = { api: 50, worker: 70 };
/** Events listed per HPA. */
const SHOWN_EVENTS = 4;

function clock(t: number): string {
  return new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/**
 * One service's real Kubernetes HorizontalPodAutoscaler: where its status stands, cpu against the
 * target, its conditions and the cluster's events about it. The switch applies or deletes it.
 */
export function KubeHpaCard({ service, view }: { service: ScalableService; view: KubeHpaView | null }) {
  const busy = useAppStore((s) => s.autoscalerBusy);
  const configure = useAppStore((s) => s.configureAutoscaler);
  const titleId = useId();
  const on = view !== null;
  const events = view?.events.slice(-SHOWN_EVENTS).reverse() ?? [];
  return (
    <section className={`as-service ${on ? 'on' : 'off'}`} aria-labelledby={titleId} data-testid={`hpa-${service}`}>
      <header className="as-head">
        <h3 id={titleId}>{TITLE[service]}</h3>
        <AutoscaleSwitch service={service} on={on} disabled={busy !== null} onToggle={() => void configure({ service, enabled: !on })} />
        {view && (
          <span className="as-targets muted">
            HorizontalPodAutoscaler {view.name} · cpu {view.targetCpu ?? '–'} %
          </span>
        )}
      </header>
      <div className="as-state">
        <AutoscalerFigures service={service} current={view?.current} desired={view?.desired} min={view?.min} max={view?.max} />
        <AutoscalerGauge
          metric="cpu"
          value={view?.cpu ?? null}
          target={view?.targetCpu ?? DEFAULT_CPU[service]}
          tolerance={0.1}
          off={!on}
        />
      </div>
      {view ? (
        <>
          <ul className="hpa-conditions" aria-label={`${service} HPA conditions`}>
            {view.conditions.map((c) => (
              // ScalingLimited is the one condition that is a warning when True.
              <li key={c.type} className={(c.status === 'True') !== (c.type === 'ScalingLimited') ? 'ok' : 'bad'} title={c.message}>
                <strong>{c.type}</strong> {c.status} · {c.reason}
                <span className="muted"> — {c.message}</span>
              </li>
            ))}
          </ul>
          <ol className="decisions" aria-label={`${service} HPA events`}>
            {events.length === 0 ? (
              <li className="muted">No events yet: the cluster records one when this HPA rescales.</li>
            ) : (
              events.map((e) => (
                <li key={`${e.at}-${e.reason}-${e.message}`} className={e.type === 'Warning' ? 'bad' : ''}>
                  <time>{clock(e.at)}</time> <strong>{e.reason}</strong> {e.message}
                  {e.count > 1 ? <span className="muted"> ×{e.count}</span> : null}
                </li>
              ))
            )}
          </ol>
        </>
      ) : (
        <p className="muted as-note">
          No HPA: switch it on to create a HorizontalPodAutoscaler on cpu ({DEFAULT_CPU[service]} % of the pods' request), or run scalelab
          autoscale {service} --cpu {DEFAULT_CPU[service]}.
        </p>
      )}
    </section>
  );
}
