import { memo } from 'react';
import type { Decision, ScalableService } from '../../../electron/contract.js';
import { formatTime } from '../../ui/format.js';
import { decisionChange, decisionSteps, proposalRows } from './autoscaler-data.js';

/** What went into one decision: each metric's reading and proposal, then the windows and the cap. */
function DecisionInputs({ decision }: { decision: Decision }) {
  const steps = decisionSteps(decision);
  return (
    <div className="decision-inputs">
      {proposalRows(decision).map((row) => (
        <dl key={row.metric} className="decision-grid">
          <dt>metric</dt>
          <dd>
            <b>{row.metric}</b> {row.value} vs target {row.target}
          </dd>
          <dt>ratio</dt>
          <dd>
            {row.ratio} → proposes <b>{row.replicas}</b> ({row.readyPods} ready {row.readyPods === '1' ? 'pod' : 'pods'} measured)
          </dd>
          <dt>set aside</dt>
          <dd>{row.setAside}</dd>
          {row.notes && (
            <>
              <dt>notes</dt>
              <dd>{row.notes}</dd>
            </>
          )}
        </dl>
      ))}
      <dl className="decision-grid steps">
        <dt>windows</dt>
        <dd>
          up [{steps.upWindow}] · down [{steps.downWindow}]: {steps.metricReplicas} → <b>{steps.stabilized}</b>
        </dd>
        <dt>cap</dt>
        <dd>
          {steps.cap} → <b>{steps.limited}</b>
        </dd>
        <dt>desired</dt>
        <dd>
          <b>{steps.desired}</b> (from {decision.currentReplicas})
        </dd>
      </dl>
    </div>
  );
}

export interface DecisionListProps {
  service: ScalableService;
  /** Newest first. */
  decisions: Decision[];
  empty: string;
}

/**
 * The last decisions, each a line with its explanation; opening one shows its inputs (every
 * metric against its target, the ratio, the pods set aside, the windows and the policy cap).
 */
export const DecisionList = memo(function DecisionList({ service, decisions, empty }: DecisionListProps) {
  return (
    <ol className="decisions" aria-label={`${service} decisions`}>
      {decisions.length === 0 ? (
        <li className="muted decision-empty">{empty}</li>
      ) : (
        decisions.map((d) => {
          const direction = d.desired > d.currentReplicas ? 'up' : d.desired < d.currentReplicas ? 'down' : 'same';
          return (
            <li key={d.t}>
              <details className="decision">
                <summary title={d.explanation}>
                  <time dateTime={new Date(d.t).toISOString()}>{formatTime(d.t)}</time>
                  <span className={`decision-change ${direction}`}>{decisionChange(d)}</span>
                  <span className="decision-explanation">{d.explanation}</span>
                </summary>
                <DecisionInputs decision={d} />
              </details>
            </li>
          );
        })
      )}
    </ol>
  );
});
