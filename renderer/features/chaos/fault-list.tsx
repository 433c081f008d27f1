import type { ActiveFault } from '../../../electron/contract.js';
import { useAppStore } from '../../store/use-app-store.js';
import { faultPlace, faultWhen } from './chaos-data.js';

/** The faults in force: what, where, since when and until when. */
export function FaultList() {
  const faults = useAppStore((s) => s.chaos?.faults);
  const now = Date.now();
  const list = faults ?? [];
  return (
    <div className="fault-box">
      <h3 className="chaos-caption" id="faults-title">
        active faults {list.length > 0 && <span className="fault-count">{list.length}</span>}
      </h3>
      <ul className="fault-list" aria-labelledby="faults-title">
        {list.map((f) => (
          <FaultItem key={`${f.action}-${f.target}-${f.since}`} fault={f} now={now} />
        ))}
      </ul>
      {list.length === 0 && <p className="fault-empty muted">None: the stack runs as built.</p>}
    </div>
  );
}

/** One fault: what, where, how much, since and until when. */
export function FaultItem({ fault, now }: { fault: ActiveFault; now: number }) {
  return (
    <li className="fault">
      <span className="chip kind-chaos">{fault.action}</span>
      <span className="fault-place">{faultPlace(fault)}</span>
      <span className="fault-detail">{fault.detail}</span>
      <span className="fault-when muted">{faultWhen(fault, now)}</span>
    </li>
  );
}
