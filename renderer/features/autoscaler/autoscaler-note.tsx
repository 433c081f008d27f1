import { useShallow } from 'zustand/react/shallow';
import { useAppStore } from '../../store/use-app-store.js';

/** For the Scale panel: which services the autoscaler sets, so a manual change is not a surprise when it is undone. */
export function AutoscalerNote() {
  const on = useAppStore(
    useShallow((s) =>
      (['api', 'worker'] as const)
        .map((service) => s.autoscaler?.[service]?.config)
        .filter((c) => c?.enabled)
        .map((c) => `${c!.service} ${c!.minReplicas}–${c!.maxReplicas}`),
    ),
  );
  return (
    <p className="autoscaler-note muted" data-testid="autoscaler-note">
      {on.length === 0 ? 'Autoscaler off: these counts stay as set.' : `Autoscaler on (${on.join(', ')}): it resets a manual count at its next sync.`}
    </p>
  );
}
