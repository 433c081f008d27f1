import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parseAssertion, resolveAssertion, ScenarioSchema, type Sample } from '../../../electron/contract.js';
import { evaluateAssertion, type ScenarioPoint } from '../../../electron/control/scenarios/assertions.js';
import { BUILTIN_IDS, listBuiltins, readBuiltin } from '../../../electron/control/scenarios/builtin.js';
import { parseScenario, ScenarioFileError } from '../../../electron/control/scenarios/scenario-file.js';
import { root } from '../support/scalelab-cli.js';
import { actionName, type ChaosActionModule } from '../../../electron/chaos/action-kit.js';
import { CHAOS_ACTIONS } from '../../../electron/chaos/actions/index.js';

const published = JSON.parse(readFileSync(path.join(root, 'docs', 'scenario.schema.json'), 'utf8')) as Record<string, unknown>;

describe('scenario files', () => {
  it("the published JSON Schema is the contract's (npm run schema:scenario rewrites it)", () => {
    const { $schema, ...rest } = published;
    expect($schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(rest).toEqual(JSON.parse(JSON.stringify(ScenarioSchema)));
  });

  it.each(BUILTIN_IDS)('built-in %s validates against the published schema (ajv) and the parser', async (id) => {
    const { source, fileName } = await readBuiltin(id);
    const scenario = parseScenario(source, fileName);
    const validate = new Ajv({ strict: false, allErrors: true }).compile(published);
    expect(validate(scenario), JSON.stringify(validate.errors)).toBe(true);
    expect(scenario.steps.length).toBeGreaterThan(0);
    expect(scenario.assertions?.length).toBeGreaterThan(0);
  });

  it('lists the six built-ins with their names and lengths', async () => {
    const list = await listBuiltins();
    expect(list.map((s) => s.name)).toEqual([
      'Black Friday spike',
      'Cache outage',
      'Thundering herd',
      'Rolling chaos',
      'Queue backlog',
      'Replica and stream',
    ]);
    for (const s of list) expect(s.durationS).toBeGreaterThan(0);
  });

  it('a bad file gets errors with its line, column and field', () => {
    const source = [
      'name: broken',
      'durationS: 30',
      'steps:',
      '  - at: 0',
      '    traffic: { profile: { kind: constant, rps: 20 } }',
      '  - at: 5',
      '    chaos: { action: kill-cache, forSeconds: 9000 }',
      '  - at: 6',
      '    chaos: { action: explode }',
      '  - at: 40',
      '    note: too late',
      'assertions:',
      '  - p99_ms<250',
      '  - latency<3',
      '',
    ].join('\n');
    let error: ScenarioFileError | undefined;
    try {
      parseScenario(source, 'broken.yaml');
    } catch (err) {
      error = err as ScenarioFileError;
    }
    expect(error).toBeInstanceOf(ScenarioFileError);
    expect(error!.problems).toEqual([
      'broken.yaml:7:46: steps[1].chaos.forSeconds must be <= 600',
      // Every action the modules declare, in their order, starting with the first ones a user meets.
      `broken.yaml:9:22: steps[2].chaos.action must be one of ${CHAOS_ACTIONS.map((a) => actionName(a as ChaosActionModule)).join(', ')} (not "explode")`,
      expect.stringMatching(/^broken\.yaml:14:5: assertions\[1\] "latency" is not a metric/),
      "broken.yaml:10:9: steps[3].at is after the scenario's end (durationS 30)",
    ]);
  });

  it('YAML that does not parse, a step of no kind, and an unknown key are each named', () => {
    expect(() => parseScenario('name: [', 'a.yaml')).toThrow(/a\.yaml is not valid YAML or JSON:\n\s+a\.yaml:1:\d+: /);
    expect(() => parseScenario('name: x\ndurationS: 5\nsteps:\n  - at: 1\n    dance: true\n', 'b.yaml')).toThrow(
      /b\.yaml:4:\d+: steps\[0\] a step has "at" and exactly one of traffic/,
    );
    expect(() => parseScenario('name: x\ndurationS: 5\nsteps: []\ncolour: red\n', 'c.yaml')).toThrow(
      /c\.yaml:\d+:\d+: \(the file\) must not have additional properties/,
    );
    expect(() => parseScenario('{"name": "json", "durationS": 5, "steps": [{"at": 1, "note": "JSON is YAML"}]}', 'd.json')).not.toThrow();
  });

  it('text assertions parse with their window and reduction, and a typo says what is expected', () => {
    expect(parseAssertion('p99_ms<250')).toEqual({ metric: 'p99_ms', op: '<', value: 250 });
    expect(parseAssertion('api_replicas>=4 eventually from 10 to 60s')).toEqual({
      metric: 'api_replicas',
      op: '>=',
      value: 4,
      over: 'eventually',
      from: 10,
      to: 60,
    });
    expect(resolveAssertion('lost_writes==0')).toMatchObject({ over: 'last', from: 0, to: null });
    expect(() => parseAssertion('p99<250')).toThrow(/"p99" is not a metric/);
    expect(() => parseAssertion('p99_ms<250 sometimes')).toThrow(/"sometimes" .* not understood/);
    expect(() => parseAssertion('p99_ms 250')).toThrow(/not an assertion/);
  });
});

/** A second of telemetry with the figures assertions read; everything else neutral. */
function sample(
  at: number,
  figures: { rps?: number; errors?: number; p99?: number | null; apiReady?: number; hitRate?: number | null; lookups?: number },
): ScenarioPoint {
  const rps = figures.rps ?? 10;
  const s = {
    t: at * 1000,
    stack: 't',
    traffic: {
      rps,
      errorsPerSec: figures.errors ?? 0,
      p50: 1,
      p95: 2,
      p99: figures.p99 === undefined ? 5 : figures.p99,
      status: { '2xx': rps, '3xx': 0, '4xx': 0, '5xx': 0 },
      proxyErrorsPerSec: 0,
      inFlight: 0,
    },
    instances: [],
    replicas: { api: figures.apiReady ?? 2, apiReady: figures.apiReady ?? 2, worker: 1 },
    cache: {
      up: true,
      hitsPerSec: (figures.lookups ?? 10) * (figures.hitRate ?? 0.5),
      missesPerSec: (figures.lookups ?? 10) * (1 - (figures.hitRate ?? 0.5)),
      hitRate: figures.hitRate === undefined ? 0.5 : figures.hitRate,
      memoryBytes: null,
      keys: null,
      opsPerSec: null,
    },
    queue: { up: true, waiting: 0, active: 0, delayed: 0, failed: 0, completedPerSec: 0, failedPerSec: 0 },
    db: { up: true, connections: 1, commitsPerSec: 1, rollbacksPerSec: 0 },
    autoscaler: null,
    generator: null,
    writes: { acknowledged: 0, verified: null, lost: null, lostIds: [], checkedAt: null },
    chaos: null,
  } satisfies Sample;
  return { at, sample: s };
}

describe('assertions judged over a window', () => {
  const options = { durationS: 10, elapsedS: 10, final: true };

  it('latency means weigh each second by its requests', () => {
    // 9 quiet seconds at 5 ms (10 req/s) and one busy second at 500 ms (1000 req/s): the busy one dominates.
    const points = [...Array.from({ length: 9 }, (_, i) => sample(i, { p99: 5 })), sample(9, { rps: 1000, p99: 500 })];
    const result = evaluateAssertion(resolveAssertion('p99_ms<100'), points, options);
    expect(result.state).toBe('failed');
    expect(result.value).toBeCloseTo((9 * 10 * 5 + 1000 * 500) / 1090, 2);
    expect(evaluateAssertion(resolveAssertion('p99_ms<100 max from 0 to 8'), points, options).state).toBe('held');
  });

  it('error rate is errors over requests across the window', () => {
    const points = [sample(0, { rps: 100, errors: 0 }), sample(1, { rps: 100, errors: 3 })];
    expect(evaluateAssertion(resolveAssertion('error_rate<0.01'), points, options)).toMatchObject({ state: 'failed', value: 0.015 });
    expect(evaluateAssertion(resolveAssertion('error_rate<0.02'), points, options).state).toBe('held');
  });

  it('eventually and always, live and final', () => {
    const points = [sample(0, { apiReady: 1 }), sample(3, { apiReady: 2 }), sample(6, { apiReady: 4 })];
    expect(
      evaluateAssertion(resolveAssertion('api_replicas>=4 eventually'), points.slice(0, 2), { durationS: 10, elapsedS: 4, final: false })
        .state,
    ).toBe('pending');
    expect(
      evaluateAssertion(resolveAssertion('api_replicas>=4 eventually'), points, { durationS: 10, elapsedS: 7, final: false }),
    ).toMatchObject({ state: 'passing', detail: 'first held at 6 s' });
    expect(evaluateAssertion(resolveAssertion('api_replicas>=4 eventually to 5'), points, options).state).toBe('failed');
    expect(evaluateAssertion(resolveAssertion('api_replicas>=2 always'), points, options)).toMatchObject({
      state: 'failed',
      detail: 'broken at 0 s',
    });
    expect(evaluateAssertion(resolveAssertion('api_replicas>=2 always from 2'), points, options).state).toBe('held');
  });

  it('a window without data fails at the end rather than passing silently', () => {
    const points = [sample(0, { hitRate: null, lookups: 0 })];
    expect(evaluateAssertion(resolveAssertion('cache_hit_rate>0.5'), points, options)).toMatchObject({
      state: 'failed',
      detail: 'no data between 0 and 10 s',
    });
  });

  it('lost writes come from the end-of-run check, and an impossible check fails', () => {
    const lost = resolveAssertion('lost_writes==0');
    expect(evaluateAssertion(lost, [], { ...options, final: false }).state).toBe('pending');
    expect(evaluateAssertion(lost, [], { ...options, lostWrites: 0 }).state).toBe('held');
    expect(evaluateAssertion(lost, [], { ...options, lostWrites: 2 })).toMatchObject({ state: 'failed', value: 2 });
    expect(evaluateAssertion(lost, [], { ...options, lostWrites: { unavailable: 'no database' } })).toMatchObject({
      state: 'failed',
      detail: 'could not check the writes: no database',
    });
  });
});
