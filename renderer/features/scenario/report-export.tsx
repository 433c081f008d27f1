import { useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { defaultReportWindow, REPORT_MINUTES, type ReportWindow } from '../../store/scenario-slice.js';
import { useAppStore } from '../../store/use-app-store.js';
import { formatTime } from '../../ui/format.js';

/**
 * "Export report": a self-contained HTML report and the raw samples as JSON, of the scenario that
 * ran (start to end, or to now while it runs) or of the last minutes — with or without a scenario.
 */
export function ReportExport() {
  const { name, startedAt, endedAt, busy, exportReport } = useAppStore(
    useShallow((s) => ({
      name: s.scenario?.name ?? null,
      startedAt: s.scenario?.startedAt ?? null,
      endedAt: s.scenario?.endedAt ?? null,
      busy: s.scenarioBusy,
      exportReport: s.exportReport,
    })),
  );
  // null follows the default: the scenario's window as soon as one ran.
  const [chosen, choose] = useState<ReportWindow | null>(null);
  const ran = startedAt !== null;
  const window: ReportWindow = chosen === null || (chosen === 'scenario' && !ran) ? defaultReportWindow({ startedAt }) : chosen;
  const span =
    window === 'scenario' && ran
      ? `${formatTime(startedAt)} → ${endedAt === null ? 'now' : formatTime(endedAt)}`
      : `the ${window} minutes before the export`;

  return (
    <div className="scenario-report" role="group" aria-label="Report">
      <label htmlFor="report-window" className="scenario-caption">
        report
      </label>
      <div className="scenario-load">
        <select
          id="report-window"
          aria-label="Report window"
          aria-describedby="report-span"
          value={String(window)}
          onChange={(e) => choose(e.target.value === 'scenario' ? 'scenario' : (Number(e.target.value) as ReportWindow))}
        >
          {ran && <option value="scenario">{`scenario: ${name ?? 'the last run'}`}</option>}
          {REPORT_MINUTES.map((m) => (
            <option key={m} value={m}>
              last {m} minutes
            </option>
          ))}
        </select>
        <button
          onClick={() => void exportReport(window)}
          disabled={busy !== null}
          aria-busy={busy === 'report:export'}
          title="An HTML report (charts, timeline, assertions, spec) and the raw samples as JSON"
        >
          {busy === 'report:export' ? 'Exporting…' : 'Export report'}
        </button>
      </div>
      <p id="report-span" className="scenario-note muted" data-testid="report-span">
        {span} · HTML and JSON
      </p>
    </div>
  );
}
