/**
 * Scenarios end to end on the local runtime: real processes, Redis, PostgreSQL and traffic.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportedReport, ScenarioStatus } from '../../../electron/contract.js';
import { ControlPlane } from '../../../electron/control/control-plane.js';
import { freePort } from '../../../electron/control/runtimes/local/ports.js';
import { ok } from '../support/envelope.js';
import { runScalelab } from '../support/scalelab-cli.js';
import { removeTempHome } from '../../support/temp-home.js';

/**
 * A 16-second scenario: traffic, a scale-up, a note; assertions that hold on any machine (the new
 * replica has 15 s to be ready: beside the parallel suite one took more than 9).
 */
const SHORT = (port: number) => `
name: short run
description: traffic, a scale-up and a note
durationS: 16
stack: { name: scen, port: ${port}, replicas: { api: 2, worker: 0 } }
steps:
  - at: 0
    label: 40 req/s
    traffic: { profile: { kind: constant, rps: 40 }, mix: { read: 80, write: 20, list: 0, missing: 0 } }
  - at: 1
    scale: { service: api, replicas: 3 }
  - at: 8
    note: nearly there
assertions:
  - error_rate<0.05
  - api_replicas>=3 eventually
  - { metric: rps, op: ">", value: 10, from: 5, label: traffic flows }
`;

let home: string;
let controlPlane: ControlPlane;

beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'scalelab-scenario-'));
  controlPlane = new ControlPlane({ home });
});

afterAll(async () => {
  await controlPlane?.close();
  await ok(controlPlane.handle('stack:down', { purge: true })).catch(() => undefined);
  await removeTempHome(home);
});

function finished(cp: ControlPlane): Promise<ScenarioStatus> {
  return new Promise((resolve) => {
    const off = cp.on('scenario', (status) => {
      if (['passed', 'failed', 'aborted'].includes(status.state)) {
        off();
        resolve(status);
      }
    });
  });
}

describe('scenario player on the local runtime', () => {
  it('plays a short scenario to the end: steps in order, a pause that stops its clock, assertions held, a report with charts and results', async () => {
    const seen: ScenarioStatus[] = [];
    const off = controlPlane.on('scenario', (s) => seen.push(s));
    const loaded = await ok<ScenarioStatus>(
      controlPlane.handle('scenario:load', { source: SHORT(await freePort()), fileName: 'short.yaml' }),
    );
    expect(loaded).toMatchObject({ state: 'idle', name: 'short run', durationS: 16 });
    expect(loaded.steps.map((s) => s.text)).toEqual(['40 req/s', 'scale api to 3', 'nearly there']);
    // lost_writes==0 is added: every scenario ends with the lost-write check.
    expect(loaded.assertions.map((a) => a.assertion.metric)).toEqual(['error_rate', 'api_replicas', 'rps', 'lost_writes']);

    const done = finished(controlPlane);
    const playing = await ok<ScenarioStatus>(controlPlane.handle('scenario:play', {}));
    expect(playing.state).toBe('running');
    expect(playing.spec?.name).toBe('scen');

    await expect.poll(() => seen.at(-1)?.elapsedS ?? 0, { timeout: 10_000 }).toBeGreaterThan(1.5);
    const paused = await ok<ScenarioStatus>(controlPlane.handle('scenario:pause', {}));
    expect(paused.state).toBe('paused');
    await new Promise((r) => setTimeout(r, 1500));
    const still = await ok<ScenarioStatus>(controlPlane.handle('scenario:status', {}));
    expect(still.elapsedS).toBeCloseTo(paused.elapsedS, 1);
    expect(await controlPlane.handle('scenario:pause', {})).toMatchObject({ ok: false, error: { name: 'ScenarioStateError' } });
    await ok(controlPlane.handle('scenario:play', {}));

    const final = await done;
    off();
    expect(final.state, JSON.stringify(final.assertions, null, 1)).toBe('passed');
    expect(final.steps.map((s) => s.state)).toEqual(['done', 'done', 'done']);
    expect(final.assertions.map((a) => a.state)).toEqual(['held', 'held', 'held', 'held']);
    expect(seen.some((s) => s.assertions.some((a) => a.state === 'passing' || a.state === 'pending'))).toBe(true);
    const events = await ok<{ message: string; kind: string }[]>(controlPlane.handle('events:list', {}));
    const scenarioEvents = events.filter((e) => e.kind === 'scenario').map((e) => e.message);
    expect(scenarioEvents).toEqual(
      expect.arrayContaining([
        'scenario "short run" started (16 s, 3 steps)',
        'step 2 at 1 s: scale api to 3',
        'note: nearly there',
        'scenario "short run" passed: 4 of 4 assertions held',
      ]),
    );

    const report = await ok<ExportedReport>(controlPlane.handle('report:export', {}));
    expect(report.fileName).toMatch(/^scalelab-scenario-short-run-.*\.html$/);
    for (const caption of ['Requests per second', 'Latency', 'Cache hit rate', 'Replicas', 'Queue', 'CPU per api replica'])
      expect(report.html).toContain(caption);
    expect(report.html).toContain('PASSED');
    expect(report.html).toContain('api_replicas &gt;= 3 (eventually, 0–16 s)');
    expect(report.html).not.toContain('<script');
    const raw = JSON.parse(report.json) as { samples: unknown[]; scenario: { state: string } };
    expect(raw.scenario.state).toBe('passed');
    expect(raw.samples.length).toBeGreaterThanOrEqual(10);
  });

  it('step runs the next step at once and stays paused; reset puts the scenario back at its start', async () => {
    await ok(
      controlPlane.handle('scenario:load', { source: SHORT(await freePort()).replace('name: scen', 'name: scen'), fileName: 'short.yaml' }),
    );
    const stepped = await ok<ScenarioStatus>(controlPlane.handle('scenario:step', {}));
    expect(stepped.state).toBe('paused');
    expect(stepped.steps.map((s) => s.state)).toEqual(['done', 'pending', 'pending']);
    const second = await ok<ScenarioStatus>(controlPlane.handle('scenario:step', {}));
    expect(second.elapsedS).toBe(0);
    expect(second.steps[1]!.state).toBe('done');
    const reset = await ok<ScenarioStatus>(controlPlane.handle('scenario:reset', {}));
    expect(reset).toMatchObject({ state: 'idle', elapsedS: 0 });
    expect(reset.steps.every((s) => s.state === 'pending')).toBe(true);
    const traffic = await controlPlane.handle('traffic:update', { rps: 5 });
    expect(traffic.ok).toBe(false);
  });

  it('a bad scenario is refused with its line and field', async () => {
    const bad = await controlPlane.handle('scenario:load', {
      source: 'name: x\ndurationS: 10\nsteps:\n  - at: 1\n    scale: { service: db, replicas: 2 }\n',
      fileName: 'bad.yaml',
    });
    expect(bad).toMatchObject({ ok: false, error: { name: 'ScenarioFileError', message: expect.stringContaining('bad.yaml:5:') } });
    expect(await controlPlane.handle('scenario:load', { builtin: 'nope' })).toMatchObject({
      ok: false,
      error: { name: 'UnknownScenarioError' },
    });
  });
});

describe('scalelab scenario (CLI)', () => {
  let cliHome: string;
  beforeAll(async () => {
    cliHome = await mkdtemp(path.join(os.tmpdir(), 'scalelab-scenario-cli-'));
  });
  afterAll(async () => {
    await runScalelab(cliHome, ['down', '--purge']);
    await removeTempHome(cliHome);
  });

  it('validate names the line of a mistake; --assert with a typo is a usage error', async () => {
    const bad = path.join(cliHome, 'bad.yaml');
    await writeFile(bad, 'name: x\ndurationS: 10\nsteps:\n  - at: 1\n    chaos: { action: kill-cache, forSeconds: -1 }\n');
    const result = await runScalelab(cliHome, ['scenario', 'validate', bad]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('bad.yaml:5:');
    expect(result.stderr).toContain('steps[0].chaos.forSeconds must be >= 0');
    const good = await runScalelab(cliHome, ['scenario', 'validate', 'rolling-chaos']);
    expect(good.stdout).toContain('rolling-chaos.yaml: valid ("Rolling chaos"');
    const typo = await runScalelab(cliHome, ['scenario', 'run', 'cache-outage', '--assert', 'p99<3']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('"p99" is not a metric');
  });

  it('an assertion that cannot hold makes run exit non-zero, and the report says which', async () => {
    const file = path.join(cliHome, 'short.yaml');
    await writeFile(
      file,
      SHORT(await freePort())
        .replace('durationS: 16', 'durationS: 6')
        .replace(/  - at: 8\n    note: nearly there\n/, ''),
    );
    const report = path.join(cliHome, 'out.html');
    const result = await runScalelab(cliHome, ['scenario', 'run', file, '--assert', 'p99_ms<0.001', '--report', report], 180_000);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toContain('FAILED: "short run"');
    expect(result.stdout).toMatch(/✘ failed\s+p99_ms < 0\.001 \(mean, 0–6 s\)/);
    expect(existsSync(report)).toBe(true);
    expect(readFileSync(report, 'utf8')).toContain('FAILED');
    expect(JSON.parse(readFileSync(path.join(cliHome, 'out.json'), 'utf8')).samples.length).toBeGreaterThan(3);
  });

  it('"Cache outage" passes on the local runtime', async () => {
    const result = await runScalelab(cliHome, ['scenario', 'run', 'cache-outage', '--json'], 240_000);
    const outcome = JSON.parse(result.stdout) as { passed: boolean; assertions: { text: string; state: string; value: number | null }[] };
    expect(outcome.assertions.map((a) => `${a.text}: ${a.state} (${a.value})`)).toEqual(
      outcome.assertions.map((a) => `${a.text}: held (${a.value})`),
    );
    expect(outcome.passed).toBe(true);
    expect(result.code).toBe(0);
  });
});
