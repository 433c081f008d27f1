import { useShallow } from 'zustand/react/shallow';
import type { CapacityStatus } from '../../../electron/contract.js';
import { capacityDeltas, deltaText, type CapacityDelta } from '../../../electron/capacity-law.js';
import { baselineNameProblem, capacityRequestOf } from '../../store/capacity-slice.js';
import { MAX_AUTOSCALE_REPLICAS } from '../../store/autoscaler-slice.js';
import { useAppStore } from '../../store/use-app-store.js';
import { CapacityChart } from './capacity-chart.js';
import { PanelTitle, useCollapsed } from '../../ui/panel-title.js';

const LIMIT_LABELS: Record<string, string> = {
  'api-cpu': 'api cpu',
  'host-cpu': 'host cores',
  postgres: 'PostgreSQL',
  redis: 'Redis',
  balancer: 'balancer',
  generator: 'generator',
  unknown: 'unclear',
};

function fitLine(status: CapacityStatus): string {
  const f = status.fit;
  if (!f) return status.fitError ? `Not fitted: ${status.fitError}.` : 'The law is fitted once two replica counts are measured.';
  return `λ ${f.lambda.toFixed(1)} req/s per replica · σ ${f.sigma.toFixed(3)} (contention) · κ ${f.kappa.toFixed(4)} (coherency) · R² ${f.r2.toFixed(3)}${f.peakN === null ? '' : ` · peak at ${f.peakN.toFixed(1)} replicas`}`;
}

const deltaFor = (deltas: CapacityDelta[], n: number): CapacityDelta =>
  deltas.find((d) => d.replicas === n) ?? { replicas: n, capacityRps: null, baselineRps: null, deltaPercent: null };
/** Lower capacity than the baseline reads as a loss; within 5 % as unchanged (run-to-run noise). */
const toneOf = (delta: number | null) => (delta === null || Math.abs(delta) < 5 ? 'same' : delta < 0 ? 'worse' : 'better');

/**
 * Capacity: the highest arrival rate that holds the SLO at each replica count, the scaling curve
 * with the Universal Scalability Law fitted to it, and what ran out at the knee — the same
 * status (`capacity:status`, streamed) that `scalelab capacity` prints.
 */
export function CapacityPanel() {
  const collapsed = useCollapsed('capacity');
  const { status, draft, busy, error, stackState, edit, run, stop, baselines, saved, save } = useAppStore(
    useShallow((s) => ({
      status: s.capacity,
      draft: s.capacityDraft,
      busy: s.capacityBusy,
      error: s.capacityError,
      stackState: s.status?.state ?? 'stopped',
      edit: s.editCapacity,
      run: s.runCapacity,
      stop: s.stopCapacity,
      baselines: s.capacityBaselines,
      saved: s.capacitySaved,
      save: s.saveCapacity,
    })),
  );
  const baseline = status?.baseline ?? null;
  const deltas = status && baseline ? capacityDeltas(status.curve, baseline.curve) : [];
  const finished = status?.state === 'done' || status?.state === 'stopped';
  const nameProblem = draft.saveAs === '' ? null : baselineNameProblem(draft.saveAs);
  const running = status?.state === 'running';
  const parsed = capacityRequestOf(draft, MAX_AUTOSCALE_REPLICAS);
  const reason =
    stackState !== 'running' ? 'Start the stack first: the search drives its balancer.' : 'problem' in parsed ? parsed.problem : null;
  const steps = status ? [...status.results.flatMap((r) => r.steps), ...(status.current?.steps ?? [])] : [];
  const last = steps.at(-1);
  // While it runs, the form shows the search's own settings (it may have come from the CLI).
  const shown =
    running && status
      ? { replicas: status.replicas.join(', '), p99Ms: status.slo.p99Ms, errorPercent: status.slo.errorPercent, stepS: status.stepS }
      : draft;
  const passes = status?.current?.steps.filter((s) => s.verdict === 'pass').map((s) => s.targetRps) ?? [];
  const provisional = status?.current && passes.length > 0 ? { replicas: status.current.replicas, rps: Math.max(...passes) } : null;
  // The counts searched, and those only the baseline measured (so its loss there is not hidden).
  const counts = status
    ? [...new Set([...status.replicas, ...(status.baseline?.curve.map((p) => p.replicas) ?? [])])].sort((a, b) => a - b)
    : [];
  const rows = status ? counts.map((n) => ({ n, index: status.results.findIndex((r) => r.replicas === n) })) : [];
  return (
    <section id="capacity-panel" className={`panel capacity${collapsed ? ' collapsed' : ''}`} aria-labelledby="capacity-title">
      <header className="panel-header">
        <PanelTitle panel="capacity" id="capacity-title">
          Capacity
        </PanelTitle>
        <span
          className={`scenario-badge tone-${running ? 'live' : status?.state === 'done' ? 'ok' : status?.state === 'failed' ? 'bad' : 'idle'}`}
          data-testid="capacity-state"
        >
          {status?.state ?? 'idle'}
        </span>
        <p className={`capacity-message ${reason && !running ? 'warn' : 'muted'}`} role="status" data-testid="capacity-message">
          {running || !reason ? (status?.message ?? '') : reason}
        </p>
        {running ? (
          <button className="danger" onClick={() => void stop()} disabled={busy !== null}>
            {busy === 'capacity:stop' ? 'Stopping…' : 'Stop search'}
          </button>
        ) : (
          <button
            className="primary"
            onClick={() => 'request' in parsed && void run(parsed.request)}
            disabled={busy !== null || reason !== null}
          >
            {busy === 'capacity:run' ? 'Starting…' : 'Find capacity'}
          </button>
        )}
      </header>
      {error && (
        <p className="capacity-error" role="alert" data-testid="capacity-error">
          {error.message}
        </p>
      )}
      <div className="capacity-grid">
        <div className="capacity-form">
          <label>
            api replicas
            <input
              value={shown.replicas}
              disabled={running}
              onChange={(e) => edit({ replicas: e.target.value })}
              aria-label="Replica counts to measure"
            />
          </label>
          <label>
            p99 below (ms)
            <input type="number" min={1} value={shown.p99Ms} disabled={running} onChange={(e) => edit({ p99Ms: Number(e.target.value) })} />
          </label>
          <label>
            errors below (%)
            <input
              type="number"
              min={0}
              step={0.1}
              value={shown.errorPercent}
              disabled={running}
              onChange={(e) => edit({ errorPercent: Number(e.target.value) })}
            />
          </label>
          <label>
            step (s)
            <input
              type="number"
              min={1}
              max={300}
              value={shown.stepS}
              disabled={running}
              onChange={(e) => edit({ stepS: Number(e.target.value) })}
            />
          </label>
          <label>
            compare with
            <select
              value={running ? (baseline?.name ?? '') : draft.compare}
              disabled={running}
              onChange={(e) => edit({ compare: e.target.value })}
              aria-label="Baseline to compare with"
            >
              <option value="">no baseline</option>
              {baselines.map((b) => (
                <option key={b.name} value={b.name}>
                  {b.name}
                </option>
              ))}
            </select>
          </label>
          {finished && status.results.length > 0 && (
            <div className="capacity-save">
              <label>
                save result as
                <input
                  value={draft.saveAs}
                  placeholder="e.g. before-pool-change"
                  onChange={(e) => edit({ saveAs: e.target.value.trim() })}
                  aria-label="Baseline name"
                />
              </label>
              <button
                onClick={() => void save(draft.saveAs)}
                disabled={busy !== null || draft.saveAs === '' || nameProblem !== null}
                title={nameProblem ?? undefined}
              >
                {busy === 'capacity:save' ? 'Saving…' : 'Save baseline'}
              </button>
              {nameProblem && <p className="warn">{nameProblem}</p>}
              {saved && (
                <p className="muted" data-testid="capacity-saved">
                  saved “{saved.name}”: compare a later run with it
                </p>
              )}
            </div>
          )}
          {last && (
            <p className="capacity-step" data-testid="capacity-last-step">
              last step: {last.replicas} {last.replicas === 1 ? 'replica' : 'replicas'} at {last.targetRps} req/s —{' '}
              <strong className={`verdict-${last.verdict}`}>{last.verdict}</strong> ({last.reason})
            </p>
          )}
        </div>
        <CapacityChart
          curve={status?.curve ?? []}
          fit={status?.fit ?? null}
          replicas={status?.replicas ?? []}
          provisional={provisional}
          baseline={baseline}
        />
        <div className="capacity-results">
          <table data-testid="capacity-table">
            <thead>
              <tr>
                <th>replicas</th>
                <th>capacity</th>
                {baseline && <th title={`baseline saved ${new Date(baseline.savedAt).toLocaleString()}`}>{baseline.name}</th>}
                {baseline && <th>change</th>}
                <th>efficiency</th>
                <th>limit at the knee</th>
              </tr>
            </thead>
            <tbody>
              {rows.map(({ n, index }) => {
                const p = index >= 0 ? status!.curve[index] : undefined;
                const outcome =
                  index >= 0
                    ? status!.results[index]!.outcome
                    : status!.current?.replicas === n
                      ? 'searching…'
                      : running
                        ? 'queued'
                        : 'not measured';
                return (
                  <tr key={n}>
                    <td>{n}</td>
                    <td>{p && p.capacityRps !== null ? `${p.capacityRps} req/s` : outcome}</td>
                    {baseline && <td>{deltaFor(deltas, n).baselineRps ?? '–'}</td>}
                    {baseline && (
                      <td className={`delta ${toneOf(deltaFor(deltas, n).deltaPercent)}`} data-testid={`capacity-delta-${n}`}>
                        {deltaText(deltaFor(deltas, n))}
                      </td>
                    )}
                    <td>{p && p.efficiency !== null ? `${Math.round(p.efficiency * 100)} %` : '–'}</td>
                    <td title={p?.limit?.evidence}>{p?.limit ? LIMIT_LABELS[p.limit.resource] : '–'}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          {status && status.results.length > 0 && (
            <p className="capacity-fit" data-testid="capacity-fit">
              {fitLine(status)}
            </p>
          )}
          <p className="muted capacity-legend">
            <span className="swatch measured" /> measured <span className="swatch fitted" /> fitted law <span className="swatch ideal" />{' '}
            linear from 1 replica
            {baseline && (
              <span className="legend-item">
                <span className="swatch baseline" /> baseline “{baseline.name}”
              </span>
            )}
          </p>
        </div>
      </div>
    </section>
  );
}
