import { useAppStore } from '../../store/use-app-store.js';
import { statNumber } from '../../ui/format.js';
import { useHeld, useOnScreen } from '../../ui/on-screen.js';
import { PanelTitle, useCollapsed } from '../../ui/panel-title.js';

/** Per endpoint, server-side, like Locust's statistics: requests and failures so far, this second's rate and p50/p95. */
export function EndpointsPanel() {
  const collapsed = useCollapsed('endpoints');
  // Scrolled out of view, the table keeps its last rows.
  const [ref, onScreen] = useOnScreen<HTMLElement>();
  const routes = useHeld(
    useAppStore((s) => s.samples.at(-1)?.routes),
    !onScreen,
  );
  return (
    <section ref={ref} id="endpoints-panel" className={`panel endpoints${collapsed ? ' collapsed' : ''}`} aria-labelledby="endpoints-title">
      <header className="panel-header">
        <PanelTitle panel="endpoints" id="endpoints-title">
          Endpoints
        </PanelTitle>
        <span className="muted endpoints-note">
          server-side, from the api replicas' metrics · totals since the control plane started watching
        </span>
      </header>
      {!routes || routes.length === 0 ? (
        <p className="muted endpoints-empty">No requests yet: fire traffic, or call the balancer, and each route shows here.</p>
      ) : (
        <table className="endpoints-table">
          <thead>
            <tr>
              <th scope="col">method</th>
              <th scope="col">route</th>
              <th scope="col">requests</th>
              <th scope="col">failures</th>
              <th scope="col">req/s</th>
              <th scope="col">failures/s</th>
              <th scope="col">p50 ms</th>
              <th scope="col">p95 ms</th>
            </tr>
          </thead>
          <tbody>
            {routes.map((r) => (
              <tr
                key={`${r.method} ${r.route}`}
                data-testid={`endpoint-${r.method} ${r.route}`}
                className={r.failuresPerSec > 0 ? 'failing' : undefined}
              >
                <td>{r.method}</td>
                <td className="endpoint-route">{r.route}</td>
                <td>{statNumber(r.requests)}</td>
                <td className={r.failures > 0 ? 'bad' : undefined}>{statNumber(r.failures)}</td>
                <td>{statNumber(r.rps)}</td>
                <td className={r.failuresPerSec > 0 ? 'bad' : undefined}>{statNumber(r.failuresPerSec)}</td>
                <td>{statNumber(r.p50)}</td>
                <td>{statNumber(r.p95)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
