import { memo } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { StepStatus } from '../../../electron/contract.js';
import { useAppStore } from '../../store/use-app-store.js';
import { formatClock, stepChip, stepView, untilText, type StepRole } from './scenario-data.js';

/** One step: its time, kind and text; in red with its error when it failed; "in 12 s" when next. */
const StepItem = memo(function StepItem({ step, role, until }: { step: StepStatus; role: StepRole; until: string | null }) {
  return (
    <li className={`scenario-step ${role}`} aria-current={role === 'current' ? 'step' : undefined} data-state={step.state}>
      <time className="step-at">{formatClock(step.at)}</time>
      <span className={`chip ${stepChip(step.kind)}`}>{step.kind}</span>
      <span className="step-text" title={step.text}>
        {step.text}
      </span>
      {until && <span className="step-until muted">{until}</span>}
      {step.error && <span className="step-error">{step.error}</span>}
    </li>
  );
});

/**
 * The current step (the last that ran) highlighted, a few done before it dimmed, the next ones
 * with their times; eight rows at most, so the list keeps its height while the scenario runs.
 */
export function StepList() {
  const { steps, elapsedS, running } = useAppStore(
    useShallow((s) => ({
      steps: s.scenario?.steps,
      elapsedS: Math.floor(s.scenario?.elapsedS ?? 0),
      running: s.scenario?.state === 'running',
    })),
  );
  const rows = stepView(steps ?? []);
  const next = rows.find((r) => r.role === 'upcoming');
  const failed = steps?.filter((s) => s.state === 'failed').length ?? 0;
  return (
    <div className="scenario-col scenario-steps-box">
      <h3 className="scenario-caption" id="scenario-steps-title">
        steps{' '}
        {steps && steps.length > 0 && (
          <span>
            · {steps.filter((s) => s.state !== 'pending').length}/{steps.length} run
          </span>
        )}
        {failed > 0 && <span className="step-failed-count"> · {failed} failed</span>}
      </h3>
      {!steps || steps.length === 0 ? (
        <p className="scenario-empty muted">Load a scenario to see its steps.</p>
      ) : (
        <ol className="scenario-steps" aria-labelledby="scenario-steps-title">
          {rows.map(({ step, role }) => (
            <StepItem
              key={step.index}
              step={step}
              role={role}
              until={running && step === next?.step ? untilText(step.at, elapsedS) : null}
            />
          ))}
        </ol>
      )}
    </div>
  );
}
