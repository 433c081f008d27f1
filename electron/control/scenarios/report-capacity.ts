/**
 * The report's Capacity section: the scaling curve drawn from the same lines as the dashboard's
 * panel ({@link curveLines}), the table of capacities and the fitted law, and every step.
 */
import { capacityDeltas, deltaText, niceTicks, overlayLines } from '../../capacity-law.js';
import type { CapacityStatus } from '../../capacity-spec.js';
import { limitLabel } from '../capacity/knee.js';
import { escapeHtml, formatNumber } from './report-format.js';

const W = 720;
const H = 300;
const PAD = { left: 64, right: 40, top: 16, bottom: 44 };

function curveSvg(status: CapacityStatus): string {
  const { measured, ideal, fitted, maxN, maxY, baseline } = overlayLines(status, status.baseline);
  const x = (n: number) => PAD.left + (n / maxN) * (W - PAD.left - PAD.right);
  const y = (rps: number) => H - PAD.bottom - (rps / maxY) * (H - PAD.top - PAD.bottom);
  const path = (points: [number, number][]) =>
    points.map(([n, r], i) => `${i === 0 ? 'M' : 'L'}${x(n).toFixed(1)},${y(r).toFixed(1)}`).join(' ');
  const parts = [
    ...niceTicks(maxY, 4).map(
      (v) =>
        `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e2e8f0"/><text x="${PAD.left - 8}" y="${(y(v) + 5).toFixed(1)}" text-anchor="end" font-size="13" fill="#64748b">${formatNumber(v, 0)}</text>`,
    ),
    ...niceTicks(maxN, Math.min(maxN, 8))
      .filter(Number.isInteger)
      .map((n) => `<text x="${x(n).toFixed(1)}" y="${H - PAD.bottom + 20}" text-anchor="middle" font-size="13" fill="#64748b">${n}</text>`),
    `<text x="${(PAD.left + W - PAD.right) / 2}" y="${H - 6}" text-anchor="middle" font-size="13" fill="#64748b">api replicas</text>`,
    ideal.length ? `<path class="ideal" d="${path(ideal)}" fill="none" stroke="#94a3b8" stroke-width="2" stroke-dasharray="6 5"/>` : '',
    baseline?.fitted.length
      ? `<path class="baseline-fitted" d="${path(baseline.fitted)}" fill="none" stroke="#d97706" stroke-width="3" stroke-dasharray="3 4"/>`
      : '',
    ...(baseline?.measured ?? []).map(
      (p) =>
        `<circle class="baseline-point" cx="${x(p.replicas).toFixed(1)}" cy="${y(p.capacityRps).toFixed(1)}" r="6" fill="#fff" stroke="#d97706" stroke-width="3"/>`,
    ),
    fitted.length ? `<path class="fitted" d="${path(fitted)}" fill="none" stroke="#2563eb" stroke-width="3"/>` : '',
    ...measured.map(
      (p) =>
        `<circle cx="${x(p.replicas).toFixed(1)}" cy="${y(p.capacityRps).toFixed(1)}" r="6" fill="#16a34a"/><text x="${x(p.replicas).toFixed(1)}" y="${(y(p.capacityRps) - 12).toFixed(1)}" text-anchor="middle" font-size="14" font-weight="600">${formatNumber(p.capacityRps, 0)}</text>`,
    ),
  ];
  const summary = measured.map((p) => `${p.replicas}: ${Math.round(p.capacityRps)} req/s`).join(', ') || 'no capacity found';
  return `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(`Capacity against api replicas (${summary}), the fitted law and linear scaling from one replica`)}" style="width:100%;max-width:${W}px;height:auto">${parts.join('')}</svg>`;
}

/** The Capacity section, or '' when no search ran in the report's window. */
export function renderCapacity(status: CapacityStatus | null): string {
  if (!status || status.results.length === 0) return '';
  const base = status.baseline ?? null;
  const deltas = base ? capacityDeltas(status.curve, base.curve) : [];
  const rps = (n: number | null) => (n === null ? '–' : `${formatNumber(n, 0)} req/s`);
  const rows = status.curve.map((p, i) => {
    const r = status.results[i]!;
    const d = deltas.find((x) => x.replicas === p.replicas);
    const compared = base ? `<td>${rps(d?.baselineRps ?? null)}</td><td>${d ? deltaText(d) : '–'}</td>` : '';
    return `<tr><td>${p.replicas}</td><td>${rps(p.capacityRps)}</td>${compared}<td>${p.efficiency === null ? '–' : `${Math.round(p.efficiency * 100)} %`}</td><td>${escapeHtml(r.outcome)}</td><td>${p.limit ? `${escapeHtml(limitLabel(p.limit))}: ${escapeHtml(p.limit.evidence)}` : '–'}</td><td>${r.steps.length}</td></tr>`;
  });
  const f = status.fit;
  const law = f
    ? `λ ${formatNumber(f.lambda, 1)} req/s per replica, σ ${f.sigma.toFixed(4)} (contention), κ ${f.kappa.toFixed(5)} (coherency), R² ${f.r2.toFixed(3)}${f.peakN === null ? '' : `, peak at N* = ${f.peakN.toFixed(1)}`}`
    : `not fitted (${status.fitError ?? 'fewer than two replica counts measured'})`;
  const slo = `p99 &lt; ${formatNumber(status.slo.p99Ms, 0)} ms and errors &lt; ${status.slo.errorPercent} % over ${status.stepS} s steps`;
  return [
    '<section class="capacity"><h2>Capacity</h2>',
    `<p>The highest constant arrival rate that held the SLO (${slo}, client-observed) at each api replica count; ${escapeHtml(status.state)}. Universal Scalability Law: ${escapeHtml(law)}.</p>`,
    base
      ? `<p>Compared with baseline <strong>${escapeHtml(base.name)}</strong>, saved ${new Date(base.savedAt).toISOString().slice(0, 16).replace('T', ' ')} UTC${base.apiCpu ? ` at api ${escapeHtml(base.apiCpu)}` : ''}${base.fit ? ` (λ ${formatNumber(base.fit.lambda, 1)} req/s, σ ${base.fit.sigma.toFixed(4)}, κ ${base.fit.kappa.toFixed(5)})` : ''}.</p>`
      : '',
    `<figure class="chart">${curveSvg(status)}<figcaption>Measured capacity (green), the fitted law (blue) and linear scaling from one replica (dashed)${base ? `; baseline ${escapeHtml(base.name)}: its capacities (hollow, orange) and its law (dotted orange)` : ''}.</figcaption></figure>`,
    `<table><caption class="visually-hidden">Capacity by replica count</caption><thead><tr><th scope="col">replicas</th><th scope="col">capacity</th>${base ? `<th scope="col">${escapeHtml(base.name)}</th><th scope="col">change</th>` : ''}<th scope="col">efficiency</th><th scope="col">outcome</th><th scope="col">limit at the knee</th><th scope="col">steps</th></tr></thead><tbody>${rows.join('')}</tbody></table>`,
    '</section>',
  ].join('');
}
