import type { EventKind, TimelineEvent } from '../../electron/contract.js';
import type { SetState } from './types.js';

/** Event kinds, in the order the filter shows them. */
export const KINDS: readonly EventKind[] = ['lifecycle', 'scaling', 'chaos', 'traffic', 'autoscaler', 'scenario'];
/** Events kept in the renderer. */
export const MAX_EVENTS = 2000;

export interface EventsSlice {
  /** Oldest first. */
  events: TimelineEvent[];
  /** Kinds hidden from the event log. */
  hiddenKinds: EventKind[];
  addEvent(event: TimelineEvent): void;
  setEvents(events: TimelineEvent[]): void;
  toggleKind(kind: EventKind): void;
}

/** The timeline: shown in the event log and as marks on the charts. */
export function createEventsSlice() {
  return (set: SetState): EventsSlice => ({
    events: [],
    hiddenKinds: [],
    addEvent(event) {
      set((state) => ({ events: [...state.events, event].slice(-MAX_EVENTS) }));
    },
    setEvents(events) {
      set({ events: events.slice(-MAX_EVENTS) });
    },
    toggleKind(kind) {
      set((state) => ({
        hiddenKinds: state.hiddenKinds.includes(kind) ? state.hiddenKinds.filter((k) => k !== kind) : [...state.hiddenKinds, kind],
      }));
    },
  });
}

/** Newest first, without the hidden kinds. */
export function visibleEvents(events: TimelineEvent[], hidden: EventKind[]): TimelineEvent[] {
  const out: TimelineEvent[] = [];
  for (let i = events.length - 1; i >= 0; i -= 1) if (!hidden.includes(events[i]!.kind)) out.push(events[i]!);
  return out;
}
