import type { ScalableService } from '../../../electron/contract.js';
import { Switch } from '../../ui/switch.js';

/** The on/off switch of one service's autoscaler (emulated or a Kubernetes HPA). */
export function AutoscaleSwitch({
  service,
  on,
  disabled,
  onToggle,
}: {
  service: ScalableService;
  on: boolean;
  disabled: boolean;
  onToggle: () => void;
}) {
  return <Switch on={on} label={`Autoscale ${service}`} disabled={disabled} onToggle={onToggle} />;
}

/** Replicas now, desired, and the bounds; desired is marked up or down when it differs. */
export function AutoscalerFigures({
  service,
  current,
  desired,
  min,
  max,
}: {
  service: ScalableService;
  current?: number;
  desired?: number;
  min?: number;
  max?: number;
}) {
  const moving = current !== undefined && desired !== undefined && desired !== current;
  return (
    <dl className="as-figures">
      <div>
        <dt>current</dt>
        <dd data-testid={`as-current-${service}`}>{current ?? '–'}</dd>
      </div>
      <div>
        <dt>desired</dt>
        <dd data-testid={`as-desired-${service}`} className={moving ? (desired > current ? 'up' : 'down') : ''}>
          {desired ?? '–'}
        </dd>
      </div>
      <div>
        <dt>min</dt>
        <dd>{min ?? '–'}</dd>
      </div>
      <div>
        <dt>max</dt>
        <dd>{max ?? '–'}</dd>
      </div>
    </dl>
  );
}
