import { useShallow } from 'zustand/react/shallow';
import { formatTime } from '../../ui/format.js';
import { useAppStore } from '../../store/use-app-store.js';

/** Says, above everything, that the safety guard stopped a run and why, until dismissed. */
export function GuardBanner() {
  const { tripped, dismissed, dismiss } = useAppStore(
    useShallow((s) => ({ tripped: s.guard?.tripped ?? null, dismissed: s.guardDismissed, dismiss: s.dismissGuardTrip })),
  );
  if (!tripped || tripped.at === dismissed) return null;
  return (
    <div className="banner error guard-banner" role="alert" aria-label="Safety guard tripped">
      <div>
        <strong>Safety guard stopped the run at {formatTime(tripped.at)}</strong>: {tripped.reason}.{' '}
        {tripped.stopped.length > 0 ? `It ${tripped.stopped.join('; ')}.` : 'Nothing was running to stop.'}
      </div>
      <button className="ghost" onClick={dismiss} aria-label="Dismiss the guard's message">
        ✕
      </button>
    </div>
  );
}
