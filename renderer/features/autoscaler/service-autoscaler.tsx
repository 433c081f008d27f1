import { useId, useMemo } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { AutoscalerPreset, MetricKind, ScalableService } from '../../../electron/contract.js';
import { autoscalerDraftProblem, draftChanged, MAX_AUTOSCALE_REPLICAS, SERVICE_METRICS } from '../../store/autoscaler-slice.js';
import { useAppStore } from '../../store/use-app-store.js';
import { FieldProblems, NumberField, useFieldProblems } from '../../ui/number-field.js';
import { AutoscalerGauge } from './autoscaler-gauge.js';
import { AutoscalerFigures, AutoscaleSwitch } from './autoscaler-parts.js';
import { recentDecisions, serviceView, TARGET_LABEL } from './autoscaler-data.js';
import { DecisionList } from './decision-list.js';
import { formatCpu } from '../../../electron/cpu-quantity.js';

/** Decisions listed per service. */
const SHOWN_DECISIONS = 4;
const TITLE: Record<ScalableService, string> = { api: 'api', worker: 'workers' };
const PRESET_HINT: Record<AutoscalerPreset, string> = {
  default: 'Kubernetes defaults: sync 15 s, scale down after 5 min',
  demo: 'for a room: sync 3 s, scale down after 30 s',
};

/** One service's autoscaler: the switch, where it stands, the gauge, its settings and its last decisions. */
export function ServiceAutoscaler({ service }: { service: ScalableService }) {
  const { one, draft, busy, edit, apply, setEnabled, liveCurrent, specReplicas } = useAppStore(
    useShallow((s) => ({
      one: s.autoscaler?.[service] ?? null,
      draft: s.autoscalerDrafts[service],
      busy: s.autoscalerBusy,
      edit: s.editAutoscaler,
      apply: s.applyAutoscaler,
      setEnabled: s.setAutoscalerEnabled,
      // Primitives only: a sample per second re-renders this card only when the count changes.
      liveCurrent: s.samples.at(-1)?.autoscaler?.services.find((g) => g.service === service)?.current,
      // No stack running: no replicas (not the count of the last decision).
      specReplicas: s.status ? (s.status.state === 'running' ? s.status.spec?.replicas[service] : 0) : undefined,
    })),
  );
  const { report, first: fieldProblem } = useFieldProblems();
  const view = serviceView(service, one, liveCurrent, specReplicas);
  const decisions = useMemo(() => recentDecisions(one, SHOWN_DECISIONS), [one]);
  const config = one?.config;
  const on = view?.on ?? false;
  const problem = fieldProblem ?? autoscalerDraftProblem(service, draft);
  const changed = draftChanged(service, draft, config);
  const presetId = useId();
  const metricId = useId();
  const noteId = useId();
  const titleId = useId();
  const metrics = SERVICE_METRICS[service];
  const mine = busy === service;

  // What "cpu %" is of: the replicas' own limit when they have one, as Kubernetes divides by each pod's request.
  const request =
    one?.cpuRequest && config?.metrics.some((m) => m.kind === 'cpu')
      ? ` · cpu % of ${formatCpu(one.cpuRequest.millicores)} per replica (${one.cpuRequest.from === 'resources' ? 'its cpu limit' : 'no cpu limit: the autoscaler’s request'})`
      : '';
  const note =
    problem ??
    (mine
      ? 'applying…'
      : on
        ? changed
          ? 'changes apply at the next sync'
          : `${view!.preset} preset · sync ${view!.syncPeriodSeconds} s · scale-down window ${view!.scaleDownWindowSeconds} s${request}`
        : PRESET_HINT[draft.preset]);
  const empty = on
    ? 'No decision yet: the first comes within one sync period, once the stack runs.'
    : `Off: switch it on to let the HPA set ${TITLE[service]} from ${service === 'api' ? 'a metric' : 'the queue'}.`;

  return (
    <section className={`as-service ${on ? 'on' : 'off'}`} aria-labelledby={titleId}>
      <header className="as-head">
        <h3 id={titleId}>{TITLE[service]}</h3>
        <AutoscaleSwitch
          service={service}
          on={on}
          disabled={busy !== null || (!on && problem !== null)}
          onToggle={() => void setEnabled(service, !on)}
        />
        {view && (
          <span className="as-targets muted" title={`targets: ${view.targets}`}>
            {view.targets}
          </span>
        )}
      </header>
      <div className="as-state">
        <AutoscalerFigures
          service={service}
          current={view?.current}
          desired={view?.desired}
          min={view?.min ?? draft.min}
          max={view?.max ?? draft.max}
        />
        <AutoscalerGauge
          metric={view?.metric ?? draft.metric}
          value={view?.value ?? null}
          target={view?.target ?? draft.targets[draft.metric]}
          tolerance={view?.tolerance ?? 0.1}
          off={!on}
        />
      </div>
      <FieldProblems.Provider value={report}>
        <div className="as-form" role="group" aria-label={`${service} autoscaler settings`}>
          <div className="as-field">
            <label htmlFor={presetId}>preset</label>
            <select
              id={presetId}
              value={draft.preset}
              onChange={(e) => edit(service, { preset: e.target.value as AutoscalerPreset })}
              title={PRESET_HINT[draft.preset]}
            >
              <option value="default">default</option>
              <option value="demo">demo</option>
            </select>
          </div>
          <div className="as-field">
            <label htmlFor={metricId}>metric</label>
            {metrics.length > 1 ? (
              <select id={metricId} value={draft.metric} onChange={(e) => edit(service, { metric: e.target.value as MetricKind })}>
                {metrics.map((m) => (
                  <option key={m} value={m}>
                    {TARGET_LABEL[m]}
                  </option>
                ))}
              </select>
            ) : (
              <output id={metricId} className="as-fixed">
                {TARGET_LABEL[draft.metric]}
              </output>
            )}
          </div>
          <NumberField
            label="target"
            value={draft.targets[draft.metric]}
            onChange={(v) => v !== null && edit(service, { targets: { ...draft.targets, [draft.metric]: v } })}
            min={draft.metric === 'rps' ? 0.1 : 1}
            max={draft.metric === 'p95' ? 600_000 : draft.metric === 'cpu' ? 1000 : 1_000_000}
            exclusiveMin={false}
          />
          <NumberField
            label="min"
            value={draft.min}
            onChange={(v) => v !== null && edit(service, { min: v })}
            min={service === 'api' ? 1 : 0}
            max={MAX_AUTOSCALE_REPLICAS}
            integer
          />
          <NumberField
            label="max"
            value={draft.max}
            onChange={(v) => v !== null && edit(service, { max: v })}
            min={1}
            max={MAX_AUTOSCALE_REPLICAS}
            integer
          />
          {on ? (
            <button
              className="primary as-apply"
              onClick={() => void apply(service)}
              disabled={busy !== null || !changed || problem !== null}
              aria-describedby={noteId}
            >
              {mine ? 'Applying…' : 'Apply'}
            </button>
          ) : (
            <span className="as-apply muted">applies when on</span>
          )}
          <p id={noteId} className={`as-note ${problem ? 'bad' : 'muted'}`} role="status">
            {note}
          </p>
        </div>
      </FieldProblems.Provider>
      <DecisionList service={service} decisions={decisions} empty={empty} />
    </section>
  );
}
