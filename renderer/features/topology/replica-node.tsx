import { useShallow } from 'zustand/react/shallow';
import { useAppStore } from '../../store/use-app-store.js';
import { formatDelay, formatSeconds } from '../../ui/format.js';

/**
 * The PostgreSQL read replica beside the primary, green when it answers and red when down, with
 * its lag; shown while the samples carry a replica. Opens the details of its instance when the
 * runtime lists one.
 */
export function ReplicaNode({ onOpen }: { onOpen: (id: string) => void }) {
  const { replica, instance } = useAppStore(
    useShallow((s) => ({
      replica: s.samples.at(-1)?.data?.replica ?? null,
      // The runtime's name for it: any PostgreSQL instance that is not the primary.
      instance: s.status?.instances.find((i) => i.service === 'postgres' && i.id !== 'postgres'),
    })),
  );
  if (!replica) return null;
  const state = replica.up ? 'up' : 'DOWN';
  const detail = `${state} · lag ${formatSeconds(replica.lagSeconds)}${replica.applyDelayMs > 0 ? ` · delay ${formatDelay(replica.applyDelayMs)}` : ''}`;
  const className = `node store replica-node ${replica.up ? 'phase-ready' : 'phase-crashed'}`;
  const content = (
    <>
      <span className="node-title">Read replica</span>
      <span className="node-detail" data-testid="replica-node-detail">
        {detail}
      </span>
    </>
  );
  return instance ? (
    <button
      className={className}
      onClick={() => onOpen(instance.id)}
      aria-label={`Read replica, ${replica.up ? 'up' : 'down'}; open details`}
    >
      {content}
    </button>
  ) : (
    <div className={className} role="group" aria-label={`Read replica, ${replica.up ? 'up' : 'down'}`}>
      {content}
    </div>
  );
}
