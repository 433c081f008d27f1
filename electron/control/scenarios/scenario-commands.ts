import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CapacityStatus, CommandPayload, CommandResults, Scenario, StackSpec } from '../../contract.js';
import { projectRoot } from '../runtimes/docker/images.js';
import type { Telemetry } from '../telemetry/telemetry.js';
import { listBuiltins, readBuiltin } from './builtin.js';
import { renderReport, reportFileName, reportJson } from './report.js';
import { parseScenario, ScenarioFileError } from './scenario-file.js';
import type { ScenarioPlayer } from './scenario-player.js';

type ScenarioCommand =
  | 'scenario:list'
  | 'scenario:load'
  | 'scenario:play'
  | 'scenario:pause'
  | 'scenario:step'
  | 'scenario:reset'
  | 'scenario:status'
  | 'report:export';

/** What the scenario and report commands need from the control plane. */
export interface ScenarioCommandDeps {
  player: ScenarioPlayer;
  telemetry: Telemetry;
  /** The running stack's spec, for the report. */
  spec: () => StackSpec | undefined;
  /** The running or last capacity search, for the report when it ran in its window. */
  capacity?: () => CapacityStatus;
}

/** How far back a report may reach: the telemetry keeps 30 minutes. */
const KEPT_MS = 30 * 60_000;
/** A report without a window covers the last 5 minutes. */
const DEFAULT_WINDOW_MS = 5 * 60_000;

function scalelabVersion(): string {
  try {
    return (JSON.parse(readFileSync(path.join(projectRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Versions printed in a report, so two reports can be compared knowingly. */
export function versions(spec: StackSpec | undefined): Record<string, string> {
  return {
    scalelab: scalelabVersion(),
    node: process.version,
    os: `${os.type()} ${os.release()} (${os.arch()})`,
    cpus: `${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? 'unknown'}`,
    ...(spec ? { runtime: spec.runtime } : {}),
  };
}

/** The scenario player's commands and `report:export`, for the control plane's dispatch table. */
export function scenarioCommands(deps: ScenarioCommandDeps): {
  [C in ScenarioCommand]: (payload: CommandPayload<C>) => Promise<CommandResults[C]>;
} {
  const { player, telemetry } = deps;
  return {
    'scenario:list': () => listBuiltins(),
    'scenario:load': async (payload) => {
      if ((payload.builtin === undefined) === (payload.source === undefined))
        throw new ScenarioFileError("scenario:load takes a built-in (builtin) or a file's text (source), one of the two", []);
      const { source, fileName } =
        payload.builtin !== undefined
          ? await readBuiltin(payload.builtin)
          : { source: payload.source!, fileName: payload.fileName ?? 'scenario.yaml' };
      const scenario: Scenario = parseScenario(source, fileName);
      return player.load(payload.builtin ?? fileName, scenario, payload.assert ?? []);
    },
    'scenario:play': () => player.play(),
    'scenario:pause': async () => player.pause(),
    'scenario:step': () => player.step(),
    'scenario:reset': () => player.reset(),
    'scenario:status': async () => player.current(),
    'report:export': async (payload) => {
      const now = Date.now();
      const status = player.current();
      // A scenario that ran: its window by default, else the last 5 minutes.
      const ran = status.startedAt !== null ? status : null;
      const to = payload.to ?? (payload.from === undefined && ran ? (ran.endedAt ?? now) : now);
      const from = Math.max(payload.from ?? (ran && payload.to === undefined ? ran.startedAt! : to - DEFAULT_WINDOW_MS), now - KEPT_MS);
      const samples = telemetry.history(1800).filter((s) => s.t >= from && s.t <= to);
      const events = telemetry.events(10_000).filter((e) => e.t >= from && e.t <= to);
      const inWindow = ran && ran.startedAt! >= from - 1000 && (ran.endedAt ?? now) <= to + 1000;
      const title = payload.title ?? (inWindow ? `Scenario: ${ran.name}` : 'ScaleLab report');
      const spec = deps.spec() ?? status.spec ?? null;
      const search = deps.capacity?.();
      // A search that overlapped the window, with at least one replica count measured.
      const capacity =
        search && search.startedAt !== null && search.startedAt <= to && (search.endedAt ?? now) >= from && search.results.length > 0
          ? search
          : null;
      const input = {
        title,
        generatedAt: now,
        from,
        to,
        samples,
        events,
        scenario: inWindow ? status : null,
        spec,
        versions: versions(spec ?? undefined),
        capacity,
      };
      return { html: renderReport(input), json: reportJson(input), fileName: reportFileName(title, now) };
    },
  };
}
