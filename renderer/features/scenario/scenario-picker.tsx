import { useRef, type ChangeEvent } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { ACTIVE_STATES } from '../../store/scenario-slice.js';
import { useAppStore } from '../../store/use-app-store.js';
import { formatClock } from './scenario-data.js';

/**
 * The built-ins (name and length; the loaded one's description below), and "Load file…" for a
 * scenario of one's own in YAML or JSON. A bad file's error, naming its line and field, shows in
 * the error banner and here.
 */
export function ScenarioPicker() {
  const { scenarios, id, description, state, busy, error, scenarioError, load, loadFile } = useAppStore(
    useShallow((s) => ({
      scenarios: s.scenarios,
      id: s.scenario?.id ?? null,
      description: s.scenario?.description ?? null,
      state: s.scenario?.state ?? 'idle',
      busy: s.scenarioBusy,
      error: s.error,
      scenarioError: s.scenarioError,
      load: s.loadScenario,
      loadFile: s.loadScenarioFile,
    })),
  );
  const input = useRef<HTMLInputElement>(null);
  const builtin = scenarios?.find((s) => s.id === id);
  const locked = busy !== null || ACTIVE_STATES.includes(state);
  const why = ACTIVE_STATES.includes(state) ? 'Pause or reset the scenario first' : undefined;
  // The panel repeats a load error while the banner shows it: the banner may be scrolled away.
  const problem = scenarioError !== null && error === scenarioError && busy === null ? scenarioError : null;

  const pick = async (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    // Cleared, so choosing the same file again (after fixing it) loads it again.
    e.target.value = '';
    if (file) await loadFile(file.name, await file.text());
  };

  return (
    <div className="scenario-picker">
      <label htmlFor="scenario-builtin" className="scenario-caption">
        built-in
      </label>
      <div className="scenario-load">
        <select
          id="scenario-builtin"
          aria-label="Built-in"
          value={builtin ? builtin.id : ''}
          onChange={(e) => void load(e.target.value)}
          disabled={locked || !scenarios?.length}
          aria-describedby="scenario-description"
          title={why}
        >
          <option value="" disabled>
            {id && !builtin ? `file: ${id}` : 'Pick a scenario…'}
          </option>
          {(scenarios ?? []).map((s) => (
            <option key={s.id} value={s.id} title={s.description}>
              {s.name} · {formatClock(s.durationS)}
            </option>
          ))}
        </select>
        <button
          onClick={() => input.current?.click()}
          disabled={locked}
          aria-busy={busy === 'scenario:load'}
          title={why ?? 'A scenario of your own: YAML or JSON (docs/scenario.schema.json)'}
        >
          Load file…
        </button>
        <input ref={input} type="file" accept=".yaml,.yml,.json" hidden aria-label="Scenario file" onChange={(e) => void pick(e)} />
      </div>
      <p id="scenario-description" className="scenario-description muted">
        {description ??
          builtin?.description ??
          'Pick a built-in, or load a YAML/JSON file: timed traffic, chaos and scaling steps, and assertions judged at the end.'}
      </p>
      {problem && (
        <p className="scenario-problem" role="status" data-testid="scenario-problem">
          <strong>{problem.name}</strong>: {problem.message}
        </p>
      )}
    </div>
  );
}
