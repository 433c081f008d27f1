import { memo } from 'react';
import type { AssertionResult } from '../../../electron/contract.js';
import { useAppStore } from '../../store/use-app-store.js';
import { ASSERTION_LABEL, formatAssertValue, targetText } from './scenario-data.js';

const ICON: Record<AssertionResult['state'], string> = { pending: '○', passing: '✓', failing: '!', held: '✓', failed: '✗' };

/** One assertion: its state, what it asks for, the figure so far and why. */
const AssertionItem = memo(function AssertionItem({ result }: { result: AssertionResult }) {
  const { assertion: a, state } = result;
  return (
    <li className={`scenario-assertion ${state}`} data-state={state}>
      <span className="assertion-icon" aria-hidden="true">
        {ICON[state]}
      </span>
      <span className="assertion-text" title={result.text}>
        {a.label ?? result.text}
      </span>
      <span className="assertion-value" title={`${a.over} of ${a.metric}; must be ${targetText(a.metric, a.op, a.value)}`}>
        {formatAssertValue(a.metric, result.value)}
      </span>
      <span className="assertion-state">{ASSERTION_LABEL[state]}</span>
      {result.detail && (
        <span className="assertion-detail muted" title={result.detail}>
          {result.detail}
        </span>
      )}
    </li>
  );
});

/** The assertions, live while the scenario runs (passing / failing so far), final at the end (held / failed). */
export function AssertionList() {
  const assertions = useAppStore((s) => s.scenario?.assertions);
  const loaded = useAppStore((s) => !!s.scenario?.id);
  const list = assertions ?? [];
  const held = list.filter((a) => a.state === 'held' || a.state === 'passing').length;
  return (
    <div className="scenario-col scenario-assertions-box">
      <h3 className="scenario-caption" id="scenario-assertions-title">
        assertions{' '}
        {list.length > 0 && (
          <span className="muted">
            · {held}/{list.length} good
          </span>
        )}
      </h3>
      {list.length === 0 ? (
        <p className="scenario-empty muted">
          {loaded ? 'No assertions: the scenario passes when its steps run.' : 'Load a scenario to see what it asserts.'}
        </p>
      ) : (
        <ul className="scenario-assertions" aria-labelledby="scenario-assertions-title">
          {list.map((result, i) => (
            <AssertionItem key={`${i}-${result.text}`} result={result} />
          ))}
        </ul>
      )}
    </div>
  );
}
