import type { ReactNode } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { chaosKey, panelActionOf, type ChaosDraft, type DataPanelAction } from '../../store/chaos-slice.js';
import { useAppStore } from '../../store/use-app-store.js';
import { dataPatterns } from '../../store/data-patterns.js';
import { ActionRow } from './action-row.js';
import { dataActionOff } from './chaos-data.js';
import { InlineNumber } from '../../ui/inline-number.js';

/**
 * The data layer's chaos: the read replica killed or slowed, the outbox relay or the projector
 * killed mid-batch. A button whose pattern is off says why, in place of its numbers.
 */
export function DataChaos() {
  const { running, busy, draft, edit, injectPanel, readReplica, events } = useAppStore(
    useShallow((s) => {
      const p = dataPatterns(s.status?.spec, s.samples.at(-1)?.data);
      return { running: s.status?.state === 'running', busy: s.chaosBusy, draft: s.chaosDraft, edit: s.editChaos, injectPanel: s.injectPanel, readReplica: p.readReplica, events: p.events };
    }),
  );
  const row = (button: DataPanelAction, label: string, title: string, params: ReactNode) => {
    const off = running ? dataActionOff(button, { readReplica, events }) : null;
    return (
      <ActionRow label={label} title={off ?? title} busy={busy === chaosKey(panelActionOf(button, draft))} disabled={!running || busy !== null || off !== null} onRun={() => void injectPanel(button)}>
        {off ? <span className="chaos-off">{off}</span> : params}
      </ActionRow>
    );
  };
  const seconds = (key: keyof ChaosDraft, label: string, min = 0) => (
    <InlineNumber label={label} before="for" unit="s" value={draft[key]} onChange={(v) => edit({ [key]: v })} min={min} max={key === 'replicaDelaySeconds' ? 3600 : 600} />
  );
  return (
    <div className="chaos-col chaos-data" role="group" aria-label="Data layer chaos">
      <p className="chaos-caption muted">data layer: reads fall back to the primary, events catch up</p>
      {row('kill-replica', 'Kill replica', 'Kill the PostgreSQL read replica; reads fall back to the primary until it is back', seconds('replicaSeconds', 'replica down for, seconds'))}
      {row(
        'replica-delay',
        'Replica delay',
        'Delay the replica’s replay (recovery_min_apply_delay): replication lag grows, read-your-writes still holds',
        <>
          <InlineNumber label="replica delay ms" value={draft.replicaDelayMs} onChange={(v) => edit({ replicaDelayMs: v })} min={0} max={600_000} integer unit="ms" />
          {seconds('replicaDelaySeconds', 'replica delay for, seconds', 1)}
        </>,
      )}
      {row('kill-relay', 'Kill relay', 'Kill the outbox relay in every worker mid-batch: the outbox backs up, then drains', seconds('relaySeconds', 'relay down for, seconds'))}
      {/* Not "Kill projector": every button named like the stack bar's Projector would make that one ambiguous to find. */}
      {row('kill-projector', 'Kill projection', 'Kill the projector in every worker mid-batch: consumer-group lag grows, then catches up', seconds('projectorSeconds', 'projection down for, seconds'))}
    </div>
  );
}
