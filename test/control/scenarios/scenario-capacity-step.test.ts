/**
 * A scenario's capacity step: parsed from a scenario file against the contract's schema, sent to
 * the control plane as `capacity:run`, and a search still running is stopped when the scenario is
 * reset. The control plane here is a scripted command bus that records what the player sends
 * (the real search on a real stack is test/control/traffic/traffic-stack.test.ts).
 */
import { describe, expect, it } from 'vitest';
import type { CommandName } from '../../../electron/contract.js';
import { parseScenario, ScenarioFileError } from '../../../electron/control/scenarios/scenario-file.js';
import { ScenarioPlayer } from '../../../electron/control/scenarios/scenario-player.js';

const yaml = `
name: Capacity at 1 and 2
durationS: 600
checkWrites: false
steps:
  - at: 0
    capacity: { replicas: [1, 2], slo: { p99Ms: 80 }, stepS: 5, compare: before-pool }
  - at: 590
    note: the search is over
`;

describe('a capacity step in a scenario', () => {
  it('starts the search with its payload, and a reset stops a search still running', async () => {
    const scenario = parseScenario(yaml, 'capacity.yaml');
    const calls: [CommandName, unknown][] = [];
    const player = new ScenarioPlayer({
      run: async (command, payload) => {
        calls.push([command, payload]);
        return null as never;
      },
      onSample: () => () => undefined,
      record: () => undefined,
      onStatus: () => undefined,
      runningSpec: () => undefined,
    });
    const loaded = await player.load('file:capacity.yaml', scenario);
    expect(loaded.steps[0]).toMatchObject({ kind: 'capacity', text: 'capacity search at api 1, 2' });
    await player.step();
    expect(calls).toContainEqual(['capacity:run', { replicas: [1, 2], slo: { p99Ms: 80 }, stepS: 5, compare: 'before-pool' }]);
    expect(calls.some(([c]) => c === 'capacity:stop')).toBe(false);
    await player.reset();
    expect(calls.map(([c]) => c)).toContain('capacity:stop');
  });

  it('is checked against the contract: a bad replica count names its field', () => {
    const bad = yaml.replace('replicas: [1, 2]', 'replicas: [0]');
    expect(() => parseScenario(bad, 'capacity.yaml')).toThrow(ScenarioFileError);
    expect(() => parseScenario(bad, 'capacity.yaml')).toThrow(/capacity\.yaml:7:\d+: steps\[0\]\.capacity\.replicas\[0\] must be >= 1/);
  });
});
