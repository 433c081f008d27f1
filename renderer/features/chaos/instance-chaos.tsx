import { useMemo, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { ChaosAction, Instance } from '../../../electron/contract.js';
import { buttonAction, buttonsAt, defaultValues } from '../../../electron/chaos/buttons.js';
import { chaosKey, faultsOf } from '../../store/chaos-slice.js';
import { useAppStore } from '../../store/use-app-store.js';
import { ButtonRow } from './button-row.js';
import { FaultItem } from './fault-list.js';

const isReplica = (instance: Instance) => instance.service === 'api' || instance.service === 'worker';

/** For the drawer's action row, beside Kill: stop gracefully, and pause or resume. */
export function InstanceChaosButtons({ instance }: { instance: Instance }) {
  const { busy, inject } = useAppStore(useShallow((s) => ({ busy: s.chaosBusy, inject: s.inject })));
  const replica = isReplica(instance);
  const paused = instance.phase === 'paused';
  const stop: ChaosAction = { action: 'kill', target: instance.id, graceful: true };
  const pause: ChaosAction = { action: paused ? 'resume' : 'pause', target: instance.id };
  return (
    <>
      <button
        onClick={() => void inject(stop)}
        disabled={!replica || busy !== null}
        aria-busy={busy === chaosKey(stop)}
        title={
          replica
            ? 'SIGTERM: it drains and exits, then the runtime brings it back'
            : 'for replicas; the Chaos panel takes the cache and the database down'
        }
      >
        Stop gracefully
      </button>
      <button
        onClick={() => void inject(pause)}
        disabled={!replica || busy !== null}
        aria-busy={busy === chaosKey(pause)}
        title={paused ? 'SIGCONT: it carries on' : replica ? 'SIGSTOP: frozen until resumed' : 'pause is for replicas'}
      >
        {paused ? 'Resume' : 'Pause'}
      </button>
    </>
  );
}

const REPLICA_BUTTONS = buttonsAt('replica');
const REPLICA_DEFAULTS = defaultValues(REPLICA_BUTTONS);

/** An api replica's faults (the action modules' drawer buttons: cpu, leak, block, latency, errors), and those in force on it. */
export function InstanceFaults({ instance }: { instance: Instance }) {
  const { busy, inject, running, chaos } = useAppStore(
    useShallow((s) => ({ busy: s.chaosBusy, inject: s.inject, running: s.status?.state === 'running', chaos: s.chaos })),
  );
  const faults = useMemo(() => faultsOf(chaos, instance.id), [chaos, instance.id]);
  const [values, setValues] = useState<Record<string, number>>(REPLICA_DEFAULTS);
  const now = Date.now();
  const target = instance.id;
  // Only api replicas take faults: they serve the admin endpoints that set them.
  const api = instance.service === 'api';
  return (
    <section className="instance-chaos" aria-label={`Faults on ${target}`}>
      {api && (
        <div className="instance-faults">
          {REPLICA_BUTTONS.map((button) => {
            const action = buttonAction(button, values, target);
            return (
              <ButtonRow
                key={button.id}
                button={button}
                values={values}
                onEdit={(patch) => setValues((old) => ({ ...old, ...patch }))}
                busy={busy === chaosKey(action)}
                disabled={!running || busy !== null}
                onRun={() => void inject(action)}
              />
            );
          })}
        </div>
      )}
      {faults.length > 0 && (
        <ul className="fault-list instance" aria-label={`Faults in force on ${target}`}>
          {faults.map((f) => (
            <FaultItem key={`${f.action}-${f.target}-${f.since}`} fault={f} now={now} />
          ))}
        </ul>
      )}
    </section>
  );
}
