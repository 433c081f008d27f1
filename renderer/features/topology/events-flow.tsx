import { useAppStore } from '../../store/use-app-store.js';
import { formatCount, formatRate, formatSeconds } from '../../ui/format.js';

/** The event path while events are on: the outbox in PostgreSQL → the relay → stream user-events → the projector's read model. */
export function EventsFlow() {
  const stream = useAppStore((s) => s.samples.at(-1)?.data?.stream ?? null);
  if (!stream) return null;
  const lagging = (stream.groupLag ?? 0) > 100 || (stream.freshnessS ?? 0) >= 5;
  return (
    <div className="flow events-flow" role="group" aria-label="Event path">
      <div className="column">
        <div className={`node outbox-node ${stream.outboxBacklog > 100 ? 'behind' : ''}`}>
          <span className="node-title">Outbox</span>
          <span className="node-detail">{formatCount(stream.outboxBacklog)} to relay</span>
        </div>
      </div>
      <div className="arrow" aria-hidden="true">
        →
      </div>
      <div className="column grow">
        <div className="node stream-node">
          <span className="node-title">Stream user-events</span>
          <span className="node-detail" data-testid="stream-node-detail">
            {formatCount(stream.length)} entries · {formatRate(stream.eventsPerSec)} events/s
          </span>
        </div>
      </div>
      <div className="arrow" aria-hidden="true">
        →
      </div>
      <div className="column stores">
        <div className={`node store projector-node ${lagging ? 'behind' : ''}`}>
          <span className="node-title">Projector</span>
          <span className="node-detail">
            lag {stream.groupLag === null ? '–' : formatCount(stream.groupLag)} · fresh {formatSeconds(stream.freshnessS)}
          </span>
        </div>
      </div>
    </div>
  );
}
