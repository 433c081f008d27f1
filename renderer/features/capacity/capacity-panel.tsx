import { useShallow } from 'zustand/react/shallow';
import type { CapacityStatus } from '../../../electron/contract.js';
import { capacityRequestOf } from '../../store/capacity-slice.js';
import { MAX_AUTOSCALE_REPLICAS } from '../../store/autoscaler-slice.js';
import { useAppStore } from '../../store/use-app-store.js';
import { CapacityChart } from './capacity-chart.js';

const LIMIT_LABELS: Record<string, string> = { 'api-cpu': 'api cpu', 'host-cpu': 'host cores', postgres: 'PostgreSQL', redis: 'Redis', balancer: 'balancer', generator: 'generator', unknown: 'unclear' };

function fitLine(status: CapacityStatus): string {
  const f = status.fit;
  if (!f) return status.fitError ? `Not fitted: ${status.fitError}.` : 'The law is fitted once two replica counts are measured.';
  return `λ ${f.lambda.toFixed(1)} req/s per replica · σ ${f.sigma.toFixed(3)} (contention) · κ ${f.kappa.toFixed(4)} (coherency) · R² ${f.r2.toFixed(3)}${f.peakN === null ? '' : ` · peak at ${f.peakN.toFixed(1)} replicas`}`;
}

/**
 * Capacity: the highest arrival rate that holds the SLO at each replica count, the scaling curve
 * with the Universal Scalability Law fitted to it, and what ran out at the knee — the same
 * status (`capacity:status`, streamed) that `scalelab capacity` prints.
 */
export function CapacityPanel() {
  const { status, draft, busy, error, stackState, edit, run, stop } = useAppStore(
    useShallow((s) => ({ status: s.capacity, draft: s.capacityDraft, busy: s.capacityBusy, error: s.capacityError, stackState: s.status?.state ?? 'stopped', edit: s.editCapacity, run: s.runCapacity, stop: s.stopCapacity })),
  );
  const running = status?.state === 'running';
  const parsed = capacityRequestOf(draft, MAX_AUTOSCALE_REPLICAS);
  const reason = stackState !== 'running' ? 'Start the stack first: the search drives its balancer.' : 'problem' in parsed ? parsed.problem : null;
  const steps = status ? [...status.results.flatMap((r) => r.steps), ...(status.current?.steps ?? [])] : [];
  const last = steps.at(-1);
  // While it runs, the form shows the search's own settings (it may have come from the CLI).
  const shown = running && status ? { replicas: status.replicas.join(', '), p99Ms: status.slo.p99Ms, errorPercent: status.slo.errorPercent, stepS: status.stepS } : draft;
  const passes = status?.current?.steps.filter((s) => s.verdict === 'pass').map((s) => s.targetRps) ?? [];
  const provisional = status?.current && passes.length > 0 ? { replicas: status.current.replicas, rps: Math.max(...passes) } : null;
  const rows = status ? status.replicas.map((n) => ({ n, index: status.results.findIndex((r) => r.replicas === n) })) : [];
  return (
    <section className="panel capacity" aria-labelledby="capacity-title">
      <header className="panel-header">
        <h2 id="capacity-title">Capacity</h2>
        <span className={`scenario-badge tone-${running ? 'live' : status?.state === 'done' ? 'ok' : status?.state === 'failed' ? 'bad' : 'idle'}`} data-testid="capacity-state">
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
          <button className="primary" onClick={() => 'request' in parsed && void run(parsed.request)} disabled={busy !== null || reason !== null}>
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
            <input value={shown.replicas} disabled={running} onChange={(e) => edit({ replicas: e.target.value })} aria-label="Replica counts to measure" />
          </label>
          <label>
            p99 below (ms)
            <input type="number" min={1} value={shown.p99Ms} disabled={running} onChange={(e) => edit({ p99Ms: Number(e.target.value) })} />
          </label>
          <label>
            errors below (%)
            <input type="number" min={0} step={0.1} value={shown.errorPercent} disabled={running} onChange={(e) => edit({ errorPercent: Number(e.target.value) })} />
          </label>
          <label>
            step (s)
            <input type="number" min={1} max={300} value={shown.stepS} disabled={running} onChange={(e) => edit({ stepS: Number(e.target.value) })} />
          </label>
          {last && (
            <p className="capacity-step" data-testid="capacity-last-step">
              last step: {last.replicas} {last.replicas === 1 ? 'replica' : 'replicas'} at {last.targetRps} req/s — <strong className={`verdict-${last.verdict}`}>{last.verdict}</strong> ({last.reason})
            </p>
          )}
        </div>
        <CapacityChart curve={status?.curve ?? []} fit={status?.fit ?? null} replicas={status?.replicas ?? []} provisional={provisional} />
        <div className="capacity-results">
          <table data-testid="capacity-table">
            <thead>
              <tr>
                <th>replicas</th>
                <th>capacity</th>
                <th>efficiency</th>
                <th>limit at the knee</th>
              </tr>
            </thead>
            <tbody>
              {rows.map(({ n, index }) => {
                const p = index >= 0 ? status!.curve[index] : undefined;
                const outcome = index >= 0 ? status!.results[index]!.outcome : status!.current?.replicas === n ? 'searching…' : running ? 'queued' : 'not measured';
                return (
                  <tr key={n}>
                    <td>{n}</td>
                    <td>{p && p.capacityRps !== null ? `${p.capacityRps} req/s` : outcome}</td>
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
            <span className="swatch measured" /> measured <span className="swatch fitted" /> fitted law <span className="swatch ideal" /> linear from 1 replica
          </p>
        </div>
      </div>
    </section>
  );
}
