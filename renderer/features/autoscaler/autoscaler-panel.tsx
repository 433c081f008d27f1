import { useAppStore } from '../../store/use-app-store.js';
import { modeLabel } from './autoscaler-data.js';
import { ServiceAutoscaler } from './service-autoscaler.js';

/**
 * The autoscaler: per service an HPA (emulated outside Kubernetes) with its gauge, settings and
 * last decisions. Its decisions are also on the timeline, as marks on the charts.
 */
export function AutoscalerPanel() {
  const mode = useAppStore((s) => s.autoscaler?.mode ?? s.samples.at(-1)?.autoscaler?.mode);
  return (
    <section className="panel autoscaler" aria-labelledby="autoscaler-title">
      <header className="panel-header">
        <h2 id="autoscaler-title">Autoscaler</h2>
        <span className="mode-badge" data-testid="autoscaler-mode" title={mode === 'hpa' ? 'The cluster’s HorizontalPodAutoscaler scales the stack' : 'ScaleLab runs the Kubernetes HPA v2 algorithm itself, against the same metrics, outside Kubernetes'}>
          {modeLabel(mode)}
        </span>
        <p className="as-intro muted">a metric held against its target; inside the ±tolerance band nothing moves</p>
      </header>
      <div className="as-services">
        <ServiceAutoscaler service="api" />
        <ServiceAutoscaler service="worker" />
      </div>
    </section>
  );
}
