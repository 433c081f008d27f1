import type {
  CommandName,
  Envelope,
  ExportedReport,
  ScenarioState,
  ScenarioStatus,
  ScenarioSummary,
  WireError,
} from '../../electron/contract.js';
import type { Bridge, GetState, SetState } from './types.js';

/** The scenario commands the panel sends; one runs at a time. */
export type ScenarioCommand = Extract<CommandName, `scenario:${string}`> | 'report:export';

/** States in which the player's clock runs or is about to: nothing else may be loaded meanwhile. */
export const ACTIVE_STATES: readonly ScenarioState[] = ['starting', 'running', 'verifying'];
/** States a scenario ends in. */
export const FINISHED_STATES: readonly ScenarioState[] = ['passed', 'failed', 'aborted'];

/** The contract's longest scenario text (ScenarioLoadSchema's `source`). */
export const MAX_SOURCE_CHARS = 1_000_000;

/** The windows a report can cover besides a scenario's own, in minutes. */
export const REPORT_MINUTES = [5, 15, 30] as const;
/** A report's window: the scenario that ran (start to end, or to now while it runs), or the last minutes. */
export type ReportWindow = 'scenario' | (typeof REPORT_MINUTES)[number];

/** Whether the status describes a scenario that started: it has a window of its own. */
export function hasScenarioWindow(status: Pick<ScenarioStatus, 'startedAt'> | null): boolean {
  return status?.startedAt != null;
}

/** The window a report covers by default: the scenario's when one ran, else the last 5 minutes. */
export function defaultReportWindow(status: Pick<ScenarioStatus, 'startedAt'> | null): ReportWindow {
  return hasScenarioWindow(status) ? 'scenario' : 5;
}

/**
 * The `report:export` payload for a window (ms since epoch). No title: the control plane names a
 * report after the scenario whose window it covers.
 */
export function reportRequest(
  window: ReportWindow,
  status: Pick<ScenarioStatus, 'startedAt' | 'endedAt'> | null,
  now: number,
): { from: number; to: number } {
  if (window === 'scenario' && status?.startedAt != null) {
    const from = Math.round(status.startedAt);
    return { from, to: Math.max(from, Math.round(status.endedAt ?? now)) };
  }
  const minutes = window === 'scenario' ? 5 : window;
  const to = Math.round(now);
  return { from: to - minutes * 60_000, to };
}

/** The two files of a report, sharing one base name whatever extension the suggestion carries. */
export function reportFileNames(suggested: string): { html: string; json: string } {
  const base = suggested.replace(/\.(html?|json)$/i, '') || 'scalelab-report';
  return { html: `${base}.html`, json: `${base}.json` };
}

/** Saves text as a file the browser downloads. */
export type SaveFile = (fileName: string, text: string, type: string) => void;

/** Downloads through a Blob, an object URL and a temporary `<a download>`. */
export const downloadFile: SaveFile = (fileName, text, type) => {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.style.display = 'none';
  document.body.append(link);
  link.click();
  link.remove();
  // Revoked a little later: a URL revoked during the click can cancel the download in some browsers.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
};

export interface ScenarioSlice {
  /** The built-in scenarios; null until loaded. */
  scenarios: ScenarioSummary[] | null;
  /** The player: `scenario:status`, kept current by the `scenario` stream; null until loaded. */
  scenario: ScenarioStatus | null;
  /** The scenario command in flight, if any (buttons wait for it). */
  scenarioBusy: ScenarioCommand | null;
  /** The last failure of a scenario command; the panel repeats it while it is the banner's error. */
  scenarioError: WireError | null;
  /** Loads the built-ins and the player's status. */
  refreshScenarios(): Promise<void>;
  /** Loads a built-in into the player. Returns whether it worked. */
  loadScenario(builtin: string): Promise<boolean>;
  /** Loads a scenario file's text (YAML or JSON); a bad one's error names its line and field. */
  loadScenarioFile(fileName: string, source: string): Promise<boolean>;
  playScenario(): Promise<boolean>;
  pauseScenario(): Promise<boolean>;
  stepScenario(): Promise<boolean>;
  resetScenario(): Promise<boolean>;
  /** Exports a report of the window and downloads it twice: HTML, and the samples as JSON. */
  exportReport(window: ReportWindow): Promise<boolean>;
  /** Follows the `scenario` stream. */
  syncScenario(status: ScenarioStatus): void;
}

/** The scenario player, the built-ins, and the report export. */
export function createScenarioSlice(bridge: Bridge, save: SaveFile = downloadFile) {
  return (set: SetState, get: GetState): ScenarioSlice => {
    const fail = (error: WireError) => set({ error, scenarioError: error });
    const command = async <T>(key: ScenarioCommand, work: () => Promise<Envelope<T>>): Promise<T | undefined> => {
      set((state) => ({ scenarioBusy: key, scenarioError: null, error: state.error === state.scenarioError ? null : state.error }));
      try {
        const result = await work();
        if (!result.ok) {
          fail(result.error);
          return undefined;
        }
        return result.value;
      } finally {
        set({ scenarioBusy: null });
      }
    };
    /** Runs a player command; its answer is the player's new status. */
    const player = async (key: ScenarioCommand, work: () => Promise<Envelope<ScenarioStatus>>): Promise<boolean> => {
      const status = await command(key, work);
      if (status) set({ scenario: status });
      return status !== undefined;
    };

    return {
      scenarios: null,
      scenario: null,
      scenarioBusy: null,
      scenarioError: null,
      async refreshScenarios() {
        const [list, status] = await Promise.all([bridge.invoke('scenario:list', {}), bridge.invoke('scenario:status', {})]);
        if (list.ok) set({ scenarios: list.value });
        else fail(list.error);
        if (status.ok) set({ scenario: status.value });
      },
      loadScenario(builtin) {
        return player('scenario:load', () => bridge.invoke('scenario:load', { builtin }));
      },
      async loadScenarioFile(fileName, source) {
        if (source.length > MAX_SOURCE_CHARS) {
          fail({
            name: 'ScenarioFileError',
            message: `${fileName} holds ${source.length.toLocaleString('en')} characters; a scenario file may hold at most ${MAX_SOURCE_CHARS.toLocaleString('en')}`,
          });
          return false;
        }
        return player('scenario:load', () => bridge.invoke('scenario:load', { source, fileName }));
      },
      playScenario() {
        return player('scenario:play', () => bridge.invoke('scenario:play', {}));
      },
      pauseScenario() {
        return player('scenario:pause', () => bridge.invoke('scenario:pause', {}));
      },
      stepScenario() {
        return player('scenario:step', () => bridge.invoke('scenario:step', {}));
      },
      resetScenario() {
        return player('scenario:reset', () => bridge.invoke('scenario:reset', {}));
      },
      async exportReport(window) {
        const report: ExportedReport | undefined = await command('report:export', () =>
          bridge.invoke('report:export', reportRequest(window, get().scenario, Date.now())),
        );
        if (!report) return false;
        const names = reportFileNames(report.fileName);
        save(names.html, report.html, 'text/html');
        save(names.json, report.json, 'application/json');
        return true;
      },
      syncScenario(status) {
        set({ scenario: status });
      },
    };
  };
}
