import { useContext, useEffect, useId, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { formatCpu, parseCpu } from '../../../electron/cpu-quantity.js';
import { cpuUpdateSpec, type CpuDraft } from '../../store/data-slice.js';
import { useAppStore } from '../../store/use-app-store.js';
import { FieldProblems } from '../../ui/number-field.js';

/** The problem of a typed quantity (the contract's own parser decides), or null when it is one or empty. */
function problemOf(text: string): string | null {
  if (text.trim() === '') return null;
  try {
    parseCpu(text.trim());
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/** A quantity as the runtime would write it, to tell a real change from "0.25" vs "250m". */
function canonical(text: string): string {
  return text.trim() === '' || problemOf(text) ? text.trim() : formatCpu(parseCpu(text.trim()));
}

/** One cpu box; a problem is reported through {@link FieldProblems}, so Start says which box and why. */
function CpuBox({
  service,
  value,
  onChange,
  disabled,
}: {
  service: 'api' | 'worker';
  value: string;
  onChange: (text: string) => void;
  disabled: boolean;
}) {
  const id = useId();
  const report = useContext(FieldProblems);
  const problem = problemOf(value);
  const shown = disabled || problem === null ? null : `${service} cpu ${problem}`;
  useEffect(() => {
    report(id, shown);
    return () => report(id, null);
  }, [shown]);
  return (
    <span
      className="inline-number cpu-box"
      title={`cpu per ${service} replica, like a pod's cpu request and limit (stack spec resources.${service}.cpu): 250m, 0.5, 1; empty for no limit`}
    >
      <span aria-hidden="true">{service}</span>
      <input
        type="text"
        inputMode="decimal"
        aria-label={`${service} cpu per replica`}
        placeholder="none"
        value={value}
        disabled={disabled}
        aria-invalid={problem !== null}
        title={problem ?? undefined}
        onChange={(e) => onChange(e.target.value)}
      />
    </span>
  );
}

/**
 * cpu per api and worker replica. Before Start they are what the next stack gets; while a stack
 * runs they show its limits, and Apply sends the edited ones (local and Docker change them in place,
 * Kubernetes rolls the pods). Where the runtime cannot enforce them, the stack bar says so.
 */
export function CpuFields({ locked }: { locked: boolean }) {
  const { draft, edit, spec, state, start } = useAppStore(
    useShallow((s) => ({ draft: s.cpuDraft, edit: s.editCpuDraft, spec: s.status?.spec, state: s.status?.state, start: s.start })),
  );
  const running: CpuDraft | null =
    state === 'running' && spec ? { api: spec.resources?.api?.cpu ?? '', worker: spec.resources?.worker?.cpu ?? '' } : null;
  // While a stack runs the boxes follow its limits until someone edits them.
  const [editing, setEditing] = useState(false);
  useEffect(() => {
    if (!running) setEditing(false);
  }, [running === null]);
  const shown = running && !editing ? running : draft;
  const change = (patch: Partial<CpuDraft>) => {
    if (running && !editing) {
      edit({ ...running, ...patch });
      setEditing(true);
    } else edit(patch);
  };
  const valid = problemOf(shown.api) === null && problemOf(shown.worker) === null;
  const changed =
    running !== null &&
    editing &&
    (canonical(draft.api) !== canonical(running.api) || canonical(draft.worker) !== canonical(running.worker));
  return (
    <fieldset className="data-fields cpu-fields" aria-label="cpu per replica">
      <span aria-hidden="true">cpu</span>
      <CpuBox service="api" value={shown.api} onChange={(api) => change({ api })} disabled={locked} />
      <CpuBox service="worker" value={shown.worker} onChange={(worker) => change({ worker })} disabled={locked} />
      {running && editing && (
        <button
          className="ghost"
          disabled={locked || !valid || !changed}
          onClick={() => {
            setEditing(false);
            void start(cpuUpdateSpec(spec!, draft));
          }}
        >
          Apply
        </button>
      )}
    </fieldset>
  );
}
