import { useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { RuntimeName } from '../../../electron/contract.js';
import { startSpec } from '../../store/data-slice.js';
import { useAppStore } from '../../store/use-app-store.js';
import { FieldProblems, useFieldProblems } from '../../ui/number-field.js';
import { CpuFields } from './cpu-fields.js';
import { DataFields } from './data-fields.js';

/** Runtime picker and the data-layer patterns, Start/Stop with progress, the stack's name, status and balancer URL. */
export function StackBar() {
  const {
    status,
    probes,
    busy,
    progress,
    start,
    stop,
    resetLab,
    lastReset,
    theme,
    setTheme,
    projector,
    toggleProjector,
    dataDraft,
    cpuDraft,
  } = useAppStore(
    useShallow((s) => ({
      status: s.status,
      probes: s.probes,
      busy: s.busy,
      progress: s.progress,
      start: s.start,
      stop: s.stop,
      resetLab: s.resetLab,
      lastReset: s.lastReset,
      theme: s.theme,
      setTheme: s.setTheme,
      projector: s.projector,
      toggleProjector: s.toggleProjector,
      dataDraft: s.dataDraft,
      cpuDraft: s.cpuDraft,
    })),
  );
  // Said plainly, never silently: the latest sample's word, else the status's.
  const notEnforced = useAppStore((s) =>
    s.status?.state === 'running' ? (s.samples.at(-1)?.cpuLimits?.notEnforced ?? s.status?.cpuLimits?.notEnforced ?? null) : null,
  );
  const { report, first } = useFieldProblems();
  // Without a control plane nothing can be done: the buttons say so instead of hanging.
  const offline = useAppStore((s) => s.connection !== 'open');
  const offlineWhy =
    'No control plane is connected: run `scalelab up` (or `scalelab serve`) for this SCALELAB_HOME; the tab reconnects by itself';
  const [picked, setRuntime] = useState<RuntimeName>('local');
  const [context, setContext] = useState<string | null>(null);
  const state = status?.state ?? 'stopped';
  const running = state === 'running' || state === 'starting';
  // While a stack runs, the picker shows the runtime it runs on (started here, from the CLI or adopted).
  const runtime = running && status?.runtime ? status.runtime : picked;
  const probe = probes?.find((p) => p.runtime === runtime);
  const contexts = runtime === 'kubernetes' ? (probe?.kubernetes?.contexts ?? []) : [];
  const shownContext = running
    ? (status?.spec?.kubernetes?.context ?? probe?.kubernetes?.context)
    : (context ?? probe?.kubernetes?.context);
  const lastProgress = progress.at(-1);
  const fraction = lastProgress?.fraction;

  return (
    <FieldProblems.Provider value={report}>
      <header className="stack-bar">
        <div className="brand">
          <span className="logo" aria-hidden="true">
            ◢
          </span>{' '}
          ScaleLab
        </div>
        <div className="stack-settings">
          <label className="field">
            <span>Runtime</span>
            <select
              value={runtime}
              onChange={(e) => setRuntime(e.target.value as RuntimeName)}
              disabled={running || busy !== null}
              aria-describedby="probe-note"
              title={probe?.version ?? runtime}
            >
              {(probes ?? [{ runtime: 'local', available: true }]).map((p) => (
                <option key={p.runtime} value={p.runtime}>
                  {p.runtime}
                  {/* The context has its own picker: the label keeps the version short enough to be read whole. */}
                  {p.available ? (p.version ? ` · ${p.version.replace(/ \(context .*\)$/, '')}` : '') : ' · unavailable'}
                </option>
              ))}
            </select>
          </label>
          {contexts.length > 0 && (
            <label className="field">
              <span>Context</span>
              <select
                value={shownContext ?? ''}
                onChange={(e) => setContext(e.target.value)}
                disabled={running || busy !== null}
                title="The kubeconfig context the stack is deployed to"
              >
                {contexts.map((c) => (
                  <option key={c} value={c}>
                    {c}
                  </option>
                ))}
              </select>
            </label>
          )}
          <DataFields locked={running || busy !== null} />
          <CpuFields locked={busy !== null} />
        </div>
        <div className="actions">
          {running && (
            <button
              onClick={() => void resetLab()}
              disabled={busy !== null || offline}
              title={
                offline
                  ? offlineWhy
                  : lastReset
                    ? `Last reset: ${lastReset.join('; ')}`
                    : 'Stop traffic, a capacity search and the scenario; clear chaos and the monkey; autoscalers off; replica counts back to those the stack was started with'
              }
              data-testid="reset-lab"
            >
              {busy === 'lab:reset' ? 'Resetting…' : 'Reset lab'}
            </button>
          )}
          {running ? (
            <button
              className="danger"
              onClick={() => void stop()}
              disabled={busy !== null || offline}
              title={offline ? offlineWhy : undefined}
            >
              {busy === 'stack:down' ? 'Stopping…' : 'Stop'}
            </button>
          ) : (
            <button
              className="primary"
              onClick={() => void start(startSpec(runtime, shownContext, dataDraft, cpuDraft))}
              disabled={busy !== null || offline || probe?.available === false || first !== undefined}
              title={offline ? offlineWhy : first}
            >
              {busy === 'stack:up' ? 'Starting…' : 'Start'}
            </button>
          )}
          <button
            className="ghost"
            onClick={() => setTheme(theme === 'dark' ? 'light' : 'dark')}
            aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}
          >
            {theme === 'dark' ? '☀' : '☾'}
          </button>
          <button
            className={`ghost ${projector ? 'active' : ''}`}
            onClick={toggleProjector}
            aria-pressed={projector}
            title="Larger type for a projector"
          >
            Projector
          </button>
        </div>
        {/* The stack's state and the progress or probe notes share the second row: on the first, at 1280 px,
            the settings and the buttons left the state no room. */}
        <div className="status-line">
          <div className="stack-state">
            {/* Disconnected, the last state known is stale: a green "running" would be a lie. */}
            <span className={`dot ${offline ? 'offline' : state}`} aria-hidden="true" />
            <span>
              <strong>{status?.spec?.name ?? 'default'}</strong> ·{' '}
              <span data-testid="stack-state">
                {offline ? 'disconnected' : busy === 'stack:up' ? 'starting' : busy === 'stack:down' ? 'stopping' : state}
              </span>
            </span>
            {status?.endpoints && (
              <a
                className="balancer"
                href={status.endpoints.balancer}
                target="_blank"
                rel="noreferrer"
                title="The balancer in front of the api replicas"
              >
                {status.endpoints.balancer}
              </a>
            )}
          </div>
          <div className="progress-line" role="status" aria-live="polite" id="probe-note">
            {offline ? (
              <span className="warn" data-testid="offline-reason">
                disconnected: {offlineWhy}
              </span>
            ) : busy && lastProgress ? (
              <>
                <span className="progress-bar" style={{ ['--fraction' as string]: String(fraction ?? 0.1) }} aria-hidden="true" />
                {lastProgress.message}
              </>
            ) : probe && !probe.available ? (
              <span className="warn" data-testid="probe-reason">
                {probe.runtime} is unavailable: {probe.reason}. {probe.fix}
              </span>
            ) : probe?.reason ? (
              <span className="warn" data-testid="probe-reason">
                {probe.reason}: {probe.fix}
              </span>
            ) : projector ? (
              <span className="projector-note" data-testid="projector-note">
                projector mode: forms are hidden (the runtime, the traffic mix and duration, autoscaler settings); leave it to edit them
              </span>
            ) : notEnforced ? (
              <span className="warn" data-testid="cpu-not-enforced">
                {notEnforced}
              </span>
            ) : null}
          </div>
        </div>
      </header>
    </FieldProblems.Provider>
  );
}
