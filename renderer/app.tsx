import { useEffect } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { onConnection } from './api/ws-bridge.js';
import { AutoscalerNote } from './features/autoscaler/autoscaler-note.js';
import { AutoscalerPanel } from './features/autoscaler/autoscaler-panel.js';
import { CapacityPanel } from './features/capacity/capacity-panel.js';
import { ChaosPanel } from './features/chaos/chaos-panel.js';
import { InstanceChaosButtons, InstanceFaults } from './features/chaos/instance-chaos.js';
import { ChartsPanel } from './features/charts/charts-panel.js';
import { KeyCharts } from './features/charts/key-charts.js';
import { GuardBanner } from './features/guard/guard-banner.js';
import { GuardControl } from './features/guard/guard-control.js';
import { Controls } from './features/controls/replica-steppers.js';
import { DataPanel } from './features/data/data-panel.js';
import { EndpointsPanel } from './features/endpoints/endpoints-panel.js';
import { EventLog } from './features/events/event-log.js';
import { StatRow } from './features/presenter/stat-row.js';
import { ScenarioPanel } from './features/scenario/scenario-panel.js';
import { StackBar } from './features/stack-bar/stack-bar.js';
import { InstanceDrawer } from './features/topology/instance-drawer.js';
import { Topology } from './features/topology/topology.js';
import { TrafficPanel } from './features/traffic/traffic-panel.js';
import { TracesPanel } from './features/traces/traces-panel.js';
import { app, useAppStore } from './store/use-app-store.js';
import './styles/traces.css';
import './styles/capacity.css';
import './styles/presenter.css';

/**
 * The dashboard, as presented: the stack bar, then the stat row and the key charts (requests,
 * latency, replicas) above the fold at 1280×800; below them the topology and controls, chaos,
 * traffic and the autoscaler beside the events, the scenario player, the capacity search, the
 * data layer, more charts, slow requests (traces); details in a drawer.
 */
export function App() {
  const { theme, projector, error, dismissError } = useAppStore(
    useShallow((s) => ({ theme: s.theme, projector: s.projector, error: s.error, dismissError: s.dismissError })),
  );
  const connection = useAppStore((s) => s.connection);

  useEffect(() => {
    void app.connect();
    // Over the WebSocket: a control plane that stops (scalelab down) and a new one for the same
    // SCALELAB_HOME (same port and token) is reconnected to, and everything is loaded again.
    const off = window.scalelab
      ? () => undefined
      : onConnection((next) => {
          const was = app.store.getState().connection;
          app.store.getState().setConnection(next);
          if (next === 'open' && was === 'closed') {
            // The lost calls' errors said what the banner said; the new control plane answers now.
            if (app.store.getState().error?.name === 'DisconnectedError') app.store.getState().dismissError();
            void app.reload();
          }
        });
    return () => {
      off();
      app.disconnect();
    };
  }, []);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    document.documentElement.classList.toggle('projector', projector);
  }, [theme, projector]);

  return (
    <div className={connection === 'open' ? 'app' : 'app offline'}>
      <StackBar />
      {connection !== 'open' && (
        <div className="banner warn" role="alert">
          {connection === 'connecting'
            ? 'Connecting to the control plane…'
            : 'The control plane stopped (scalelab down, or it exited). This tab reconnects by itself when one starts again for the same SCALELAB_HOME (scalelab up); until then nothing can be started or changed.'}
        </div>
      )}
      <GuardBanner />
      {error && !(error.name === 'DisconnectedError' && connection !== 'open') && (
        <div className="banner error" role="alert">
          <pre>
            <strong>{error.name}</strong>: {error.message}
          </pre>
          <button className="ghost" onClick={dismissError} aria-label="Dismiss error">
            ✕
          </button>
        </div>
      )}
      <div className="presenter">
        <StatRow />
        <KeyCharts />
      </div>
      <main className="layout">
        <Topology />
        <Controls>
          <AutoscalerNote />
          <GuardControl />
        </Controls>
        <ChaosPanel />
        <TrafficPanel />
        <AutoscalerPanel />
        <ScenarioPanel />
        <CapacityPanel />
        <DataPanel />
        <ChartsPanel />
        <EndpointsPanel />
        <TracesPanel />
        <EventLog />
      </main>
      <InstanceDrawer actions={(i) => <InstanceChaosButtons instance={i} />} faults={(i) => <InstanceFaults instance={i} />} />
    </div>
  );
}
