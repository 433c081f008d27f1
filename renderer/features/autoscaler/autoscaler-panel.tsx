import { useEffect } from 'react';
import { useAppStore } from '../../store/use-app-store.js';
import { modeLabel } from './autoscaler-data.js';
import { KubeHpaCard } from './kube-hpa-card.js';
import { ServiceAutoscaler } from './service-autoscaler.js';
import { PanelTitle, useCollapsed } from '../../ui/panel-title.js';

/** How often a real HPA's status and events are read again (the cluster streams no decisions). */
const HPA_REFRESH_MS = 5000;

/**
 * The autoscaler: per service an HPA (emulated outside Kubernetes) with its gauge, settings and
 * last decisions. Its decisions are also on the timeline, as marks on the charts.
 */
export function AutoscalerPanel() {
  const collapsed = useCollapsed('autoscaler');
  // The live sample says where the running stack is (its runtime decides); the status may predate it.
  const mode = useAppStore((s) => s.samples.at(-1)?.autoscaler?.mode ?? s.autoscaler?.mode);
  const hpa = useAppStore((s) => s.autoscaler?.hpa);
  const refresh = useAppStore((s) => s.refreshAutoscaler);
  useEffect(() => {
    if (mode !== 'hpa') return;
    void refresh();
    const timer = setInterval(() => void refresh(), HPA_REFRESH_MS);
    return () => clearInterval(timer);
  }, [mode, refresh]);
  return (
    <section id="autoscaler-panel" className={`panel autoscaler${collapsed ? ' collapsed' : ''}`} aria-labelledby="autoscaler-title">
      <header className="panel-header">
        <PanelTitle panel="autoscaler" id="autoscaler-title">
          Autoscaler
        </PanelTitle>
        <span
          className="mode-badge"
          data-testid="autoscaler-mode"
          title={
            mode === 'hpa'
              ? 'The cluster’s HorizontalPodAutoscaler scales the stack'
              : 'ScaleLab runs the Kubernetes HPA v2 algorithm itself, against the same metrics, outside Kubernetes'
          }
        >
          {modeLabel(mode)}
        </span>
        <p className="as-intro muted">a metric held against its target; inside the ±tolerance band nothing moves</p>
      </header>
      <div className="as-services">
        {mode === 'hpa' ? (
          <>
            <KubeHpaCard service="api" view={hpa?.api ?? null} />
            <KubeHpaCard service="worker" view={hpa?.worker ?? null} />
          </>
        ) : (
          <>
            <ServiceAutoscaler service="api" />
            <ServiceAutoscaler service="worker" />
          </>
        )}
      </div>
    </section>
  );
}
