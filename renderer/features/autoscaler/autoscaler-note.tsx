import { useShallow } from 'zustand/react/shallow';
import { useAppStore } from '../../store/use-app-store.js';

/** For the Scale panel: which services the autoscaler sets, so a manual change is not a surprise when it is undone. */
export function AutoscalerNote() {
  const on = useAppStore(
    useShallow((s) =>
      (['api', 'worker'] as const).flatMap((service) => {
        const hpa = s.autoscaler?.hpa?.[service];
        if (hpa) return [`${service} ${hpa.min}–${hpa.max}`];
        const c = s.autoscaler?.[service]?.config;
        return c?.enabled ? [`${service} ${c.minReplicas}–${c.maxReplicas}`] : [];
      }),
    ),
  );
  const kube = useAppStore((s) => s.autoscaler?.mode === 'hpa');
  return (
    <p className="autoscaler-note muted" data-testid="autoscaler-note">
      {on.length === 0
        ? 'Autoscaler off: these counts stay as set.'
        : kube
          ? `Kubernetes HPA on (${on.join(', ')}): it owns those counts; turn it off to set them by hand.`
          : `Autoscaler on (${on.join(', ')}): it resets a manual count at its next sync.`}
    </p>
  );
}
