import { useShallow } from 'zustand/react/shallow';
import { useAppStore } from '../../store/use-app-store.js';
import { InlineNumber } from '../../ui/inline-number.js';

/**
 * The data-layer patterns the next Start asks for: a read replica, the event stream, partitions
 * of users. While a stack runs they show what it runs with, locked (a pattern changes with a restart).
 */
export function DataFields({ locked }: { locked: boolean }) {
  const { draft, edit, running } = useAppStore(
    useShallow((s) => ({ draft: s.dataDraft, edit: s.editDataDraft, running: s.status?.spec?.data })),
  );
  const shown = locked && running ? running : draft;
  return (
    <fieldset
      className="data-fields"
      aria-label="Data layer patterns"
      title={locked ? 'The running stack’s data-layer patterns; stop it to change them' : 'Data-layer patterns of the next Start'}
    >
      <label className="check" title="A PostgreSQL streaming replica serves cache misses and lists (stack spec data.readReplica)">
        <input type="checkbox" checked={shown.readReplica} disabled={locked} onChange={(e) => edit({ readReplica: e.target.checked })} />
        replica
      </label>
      <label className="check" title="Outbox → Redis Stream user-events → projector (stack spec data.events)">
        <input type="checkbox" checked={shown.events} disabled={locked} onChange={(e) => edit({ events: e.target.checked })} />
        events
      </label>
      <span title="Hash partitions of the users table; 0 keeps one table (stack spec data.partitions)">
        <InlineNumber
          label="partitions"
          before="partitions"
          value={shown.partitions}
          onChange={(v) => edit({ partitions: v })}
          min={0}
          max={64}
          integer
          disabled={locked}
        />
      </span>
    </fieldset>
  );
}
