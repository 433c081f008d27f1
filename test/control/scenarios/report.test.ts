import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  assertionText,
  resolveAssertion,
  withDefaults,
  type AssertionResult,
  type CapacityResult,
  type CapacityStatus,
  type CapacityStep,
  type InstanceSample,
  type Sample,
  type ScenarioStatus,
  type TimelineEvent,
} from '../../../electron/contract.js';
import {
  renderReport,
  reportFileName,
  reportJson,
  ReportInputError,
  type ReportInput,
} from '../../../electron/control/scenarios/report.js';
import { curveLines } from '../../../electron/capacity-law.js';
import { curveOf, idleStatus } from '../../../electron/control/capacity/curve.js';

const FROM = new Date(2026, 10, 25, 4, 50, 0).getTime();
const HOSTILE = '</title><script>alert("pwned")</script> & <b>bold</b>';
const SAMPLE_FILE = resolve(dirname(fileURLToPath(import.meta.url)), '../../../test-results/report-sample.html');

/** Deterministic noise in [-1, 1], so the charts look like telemetry and the test stays repeatable. */
function noise(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
    return (x / 2_147_483_648) * 2 - 1;
  };
}

interface SampleOptions {
  /** Seconds of telemetry, one sample each. */
  seconds: number;
  /** Seconds [start, end) of a traffic spike: more requests, errors and a slow p99. */
  spike?: [number, number];
  /** Seconds with no latency measured (p50/p95/p99 null). */
  noLatency?: number[];
  /** Seconds with no cache lookups (hit rate null). */
  noLookups?: number[];
  /** api replicas before the spike's end, and after (scaled up). @defaultValue [2, 3] */
  apiReplicas?: [number, number];
}

function instanceSample(
  id: string,
  service: InstanceSample['service'],
  cpu: number | null,
  rps: number | null,
  p99: number | null,
): InstanceSample {
  return {
    id,
    service,
    phase: 'ready',
    ready: true,
    restarts: 0,
    cpu,
    rssBytes: 80_000_000,
    rps,
    errorsPerSec: rps === null ? null : 0,
    inFlight: rps === null ? null : 2,
    eventLoopLagMs: 1.2,
    p50: p99 === null ? null : p99 / 4,
    p95: p99 === null ? null : p99 / 1.5,
    p99,
  };
}

/** N seconds of a stack's telemetry with a spike and some nulls, every field of Sample filled. */
function makeSamples(o: SampleOptions): Sample[] {
  const rand = noise(7);
  const [before, after] = o.apiReplicas ?? [2, 3];
  const [spikeStart, spikeEnd] = o.spike ?? [-1, -1];
  const samples: Sample[] = [];
  for (let i = 0; i < o.seconds; i++) {
    const spiking = i >= spikeStart && i < spikeEnd;
    const api = i >= spikeEnd && spikeEnd >= 0 ? after : before;
    const rps = Math.round((spiking ? 400 : 100) + rand() * 10);
    const errors = spiking ? Math.round(20 + rand() * 5) : 0;
    const p99 = o.noLatency?.includes(i) ? null : (spiking ? 320 : 45) + rand() * 8;
    const lookups = o.noLookups?.includes(i) ? 0 : Math.round(rps * 0.7);
    const hits = Math.round(lookups * (spiking ? 0.35 : 0.92));
    const waiting = spiking ? 30 + Math.round(rand() * 10) : Math.max(0, Math.round(2 + rand() * 2));
    const instances: InstanceSample[] = [];
    for (let r = 1; r <= api; r++) {
      // The replica that just started has no cpu reading yet: a null in the CPU chart.
      const cpu = r === after && i === spikeEnd ? null : (spiking ? 85 : 30) + rand() * 10;
      instances.push(instanceSample(`api-${r}`, 'api', cpu, rps / api, p99));
    }
    instances.push(
      instanceSample('worker-1', 'worker', 12, null, null),
      instanceSample('redis', 'redis', 3, null, null),
      instanceSample('postgres', 'postgres', 9, null, null),
    );
    samples.push({
      t: FROM + i * 1000,
      stack: 'cache-outage',
      traffic: {
        p50: p99 === null ? null : p99 / 4,
        p95: p99 === null ? null : p99 / 1.5,
        p99,
        rps,
        errorsPerSec: errors,
        status: { '2xx': rps - errors, '3xx': 0, '4xx': 0, '5xx': errors },
        proxyErrorsPerSec: 0,
        inFlight: spiking ? 40 : 8,
      },
      instances,
      replicas: { api, apiReady: i === spikeEnd ? api - 1 : api, worker: 1 },
      cache: {
        up: !spiking,
        hitsPerSec: hits,
        missesPerSec: lookups - hits,
        hitRate: lookups === 0 ? null : hits / lookups,
        memoryBytes: 2_000_000,
        keys: 1500 + i,
        opsPerSec: lookups,
      },
      queue: { up: true, waiting, active: spiking ? 4 : 1, delayed: 0, failed: 0, completedPerSec: 5, failedPerSec: 0 },
      db: { up: true, connections: 10, commitsPerSec: 30, rollbacksPerSec: 0 },
      autoscaler: {
        mode: 'emulated',
        services: [
          {
            service: 'api',
            current: api,
            desired: api,
            min: 2,
            max: 6,
            metric: 'cpu',
            value: spiking ? 85 : 30,
            target: 60,
            tolerance: 0.1,
          },
        ],
      },
      generator: {
        running: true,
        profile: 'spike',
        targetRps: spiking ? 400 : 100,
        offeredRps: rps,
        achievedRps: rps,
        p50: p99 === null ? null : p99 / 4,
        p95: p99 === null ? null : p99 / 1.5,
        p99,
        errorsPerSec: { timeout: 0, refused: 0, http4xx: 0, http5xx: errors },
        droppedPerSec: 0,
      },
      writes: { acknowledged: i * 10, verified: null, lost: null, lostIds: [], checkedAt: null },
      chaos: spiking
        ? {
            faults: [
              {
                action: 'kill-cache',
                target: 'redis',
                detail: 'down for 30 s',
                since: FROM + spikeStart * 1000,
                until: FROM + spikeEnd * 1000,
              },
            ],
            monkey: { enabled: false, intervalSeconds: 30, maxDown: 1, kills: 0, lastKillAt: null },
          }
        : null,
    });
  }
  return samples;
}

const event = (s: number, kind: TimelineEvent['kind'], message: string, level: TimelineEvent['level'] = 'info'): TimelineEvent => ({
  t: FROM + s * 1000,
  kind,
  level,
  message,
});

function assertion(text: string, state: AssertionResult['state'], value: number | null, detail?: string): AssertionResult {
  const a = resolveAssertion(text);
  return { text: assertionText(a, 90), assertion: a, state, value, ...(detail ? { detail } : {}) };
}

function scenario(state: ScenarioStatus['state'], assertions: AssertionResult[]): ScenarioStatus {
  return {
    state,
    id: 'cache-outage',
    name: 'Cache outage',
    description: 'Kill Redis under load and watch the database take it.',
    durationS: 90,
    elapsedS: 90,
    steps: [
      { index: 0, at: 0, kind: 'traffic', text: 'traffic 100 rps', state: 'done' },
      { index: 1, at: 30, kind: 'chaos', text: 'kill the cache for 30 s', state: 'done' },
      { index: 2, at: 60, kind: 'scale', text: 'scale api to 3', state: 'failed', error: 'timed out waiting for api-3' },
    ],
    assertions,
    startedAt: FROM,
    endedAt: FROM + 90_000,
    spec: withDefaults({ name: 'cache-outage' }),
    error: null,
  };
}

const ASSERTIONS = [
  assertion('p99_ms<250', 'failed', 118.4, 'p99 averaged 118 ms but reached 327 ms during the outage'),
  assertion('error_rate<0.05', 'held', 0.0123),
  assertion('api_replicas>=3 eventually to 90', 'held', 3),
];

/** A 90-second scenario with a cache outage at 30–60 s, events inside and outside the window. */
function scenarioInput(overrides: Partial<ReportInput> = {}): ReportInput {
  return {
    title: 'Cache outage',
    generatedAt: FROM + 95_000,
    from: FROM,
    to: FROM + 90_000,
    samples: makeSamples({ seconds: 90, spike: [30, 60], noLatency: [10, 11, 12], noLookups: [15] }),
    events: [
      event(-5, 'lifecycle', 'stack up (before the window)'),
      event(0, 'scenario', 'scenario Cache outage started'),
      event(30, 'chaos', 'kill-cache for 30 s', 'warn'),
      event(45, 'traffic', HOSTILE, 'error'),
      { ...event(60, 'scaling', 'api 2 → 3'), instance: 'api-3' },
      event(90, 'scenario', 'scenario Cache outage failed: 1 of 3 assertions failed', 'error'),
      event(120, 'lifecycle', 'stack down (after the window)'),
    ],
    scenario: scenario('failed', ASSERTIONS),
    spec: withDefaults({ name: 'cache-outage' }),
    versions: { scalelab: '0.1.0', node: process.version, runtime: 'local' },
    ...overrides,
  };
}

/** The `<figure>` of one chart. */
function figure(html: string, id: string): string {
  const m = new RegExp(`<figure class="chart" id="chart-${id}">[\\s\\S]*?</figure>`).exec(html);
  expect(m, `figure chart-${id}`).not.toBeNull();
  return m![0];
}

/** The `<section>` after the `<h2>` with this text. */
function section(html: string, heading: string): string {
  const m = new RegExp(`<section><h2>${heading}</h2>[\\s\\S]*?</section>`).exec(html);
  expect(m, `section ${heading}`).not.toBeNull();
  return m![0];
}

/** What the report must turn `<`, `>` and `&` of data into. */
const escaped = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const count = (text: string, needle: string | RegExp) =>
  typeof needle === 'string' ? text.split(needle).length - 1 : (text.match(needle) ?? []).length;

describe('scenario report', () => {
  const input = scenarioInput();
  const html = renderReport(input);

  it('draws the six charts, each with its caption and one path per series', () => {
    const expected: [string, string, number][] = [
      ['rps', 'Requests per second', 2],
      ['latency', 'Latency (ms)', 3],
      ['cache', 'Cache hit rate (%)', 1],
      ['replicas', 'Replicas', 3],
      ['queue', 'Queue (jobs)', 2],
      ['cpu', 'CPU per api replica (% of one core)', 3],
    ];
    expect(count(html, '<figure class="chart"')).toBe(6);
    for (const [id, caption, series] of expected) {
      const fig = figure(html, id);
      expect(fig).toContain(`<figcaption>${caption}`);
      expect(fig).toMatch(/<svg role="img" aria-label="[^"]+" viewBox="0 0 1000 220"/);
      const paths = fig.match(/<path class="line"[^>]* d="([^"]*)"/g) ?? [];
      expect(paths, `${id} paths`).toHaveLength(series);
      for (const p of paths) expect(p, `${id} path is drawn`).toMatch(/d="M[\d.]+ [\d.]+L/);
      expect(count(fig, '<li><span class="swatch'), `${id} legend`).toBe(series);
    }
  });

  it('splits a line where values are null instead of joining across the gap', () => {
    const p99 = /<path class="line" data-series="p99" d="([^"]*)"/.exec(figure(html, 'latency'))![1]!;
    // Seconds 10–12 have no latency: the line restarts once after them.
    expect(count(p99, 'M')).toBe(2);
    const hitRate = /<path class="line" data-series="hit rate" d="([^"]*)"/.exec(figure(html, 'cache'))![1]!;
    expect(count(hitRate, 'M')).toBe(2);
  });

  it('has a strict CSP and loads nothing: no script, no src, no external URL', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain('<meta charset="utf-8">');
    expect(html).toContain(
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    );
    expect(html).toContain('<title>Cache outage</title>');
    expect(html.toLowerCase()).not.toContain('<script');
    expect(html).not.toMatch(/\bsrc=/i);
    expect(html).not.toMatch(/href="http/i);
    expect(html).not.toMatch(/https?:\/\//i);
    expect(html).not.toMatch(/@import|url\(/i);
  });

  it('escapes a hostile event message so it renders as text', () => {
    expect(html).toContain('&lt;/title&gt;&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;');
    expect(html).not.toContain('<b>bold</b>');
    expect(count(html, '<title>')).toBe(1 + 6 * 5); // the page's, and one tooltip per marker
    const nasty = renderReport(
      scenarioInput({
        title: HOSTILE,
        versions: { [HOSTILE]: HOSTILE },
        scenario: { ...scenario('aborted', []), name: HOSTILE, error: HOSTILE },
      }),
    );
    expect(nasty.toLowerCase()).not.toContain('<script');
    expect(nasty).not.toContain('<b>bold</b>');
  });

  it('lists each assertion with its text, state and value in its unit', () => {
    const table = section(html, 'Assertions');
    const rows = table.match(/<tr><td><code>[\s\S]*?<\/tr>/g) ?? [];
    expect(rows).toHaveLength(ASSERTIONS.length);
    ASSERTIONS.forEach((a, i) => {
      expect(rows[i]).toContain(`<code>${escaped(a.text)}</code>`);
      expect(rows[i]).toContain(`class="state state-${a.state}">${a.state}<`);
    });
    expect(rows[0]).toContain('118.4 ms');
    expect(rows[1]).toContain('1.23 %');
    expect(rows[1]).toContain('&lt; 5 %');
  });

  it('shows the steps with their time, state and error', () => {
    const steps = section(html, 'Steps');
    expect(steps).toContain('kill the cache for 30 s');
    expect(steps).toMatch(
      /60 s<\/td><td>scale api to 3<\/td><td><span class="state state-failed">failed<\/span><\/td><td>timed out waiting for api-3/,
    );
  });

  it('says FAILED in red when an assertion failed', () => {
    expect(html).toMatch(/<section class="banner banner-fail"[^>]*><div class="banner-line"><span class="verdict">FAILED<\/span>/);
    expect(html).toContain('2 held · 1 failed of 3 assertions');
    // A failed assertion wins over a state that claims success: never a false green.
    const contradicted = renderReport(scenarioInput({ scenario: scenario('passed', ASSERTIONS) }));
    expect(contradicted).toContain('<span class="verdict">FAILED</span>');
    expect(contradicted).not.toContain('PASSED');
  });

  it('says PASSED in green when every assertion held, and ABORTED in red with the reason', () => {
    const held = ASSERTIONS.map((a) => ({ ...a, state: 'held' as const }));
    const passed = renderReport(scenarioInput({ scenario: scenario('passed', held) }));
    expect(passed).toMatch(/banner banner-pass[\s\S]*?<span class="verdict">PASSED<\/span>/);
    expect(passed).toContain('3 held · 0 failed of 3 assertions');
    const aborted = renderReport(scenarioInput({ scenario: { ...scenario('aborted', held), error: 'the stack stopped' } }));
    expect(aborted).toMatch(/banner banner-fail[\s\S]*?ABORTED[\s\S]*?the stack stopped/);
    const plain = renderReport(scenarioInput({ scenario: null }));
    expect(plain).not.toContain('class="banner');
    expect(plain).not.toContain('<h2>Assertions</h2>');
  });

  it('marks every event of the window on every chart, and none outside it', () => {
    const inWindow = input.events.filter((e) => e.t >= input.from && e.t <= input.to);
    expect(inWindow).toHaveLength(5);
    for (const id of ['rps', 'latency', 'cache', 'replicas', 'queue', 'cpu'])
      expect(count(figure(html, id), '<g class="marker ')).toBe(inWindow.length);
    expect(count(figure(html, 'rps'), '<g class="marker marker-chaos">')).toBe(1);
    expect(html).not.toContain('before the window');
    expect(html).not.toContain('after the window');
    expect(count(section(html, 'Events'), /<tr><td class="num">/g)).toBe(inWindow.length);
  });

  it('sums up the window: total requests, p99, error rate, cache hit rate, max replicas', () => {
    const total = input.samples.reduce((sum, s) => sum + s.traffic.rps, 0);
    expect(html).toContain(`<div class="value">${total.toLocaleString('en-US')}</div><div class="label">total requests</div>`);
    expect(html).toMatch(/<div class="value">3<\/div><div class="label">max api replicas<\/div>/);
    expect(html).toMatch(/<div class="value">[\d.]+ %<\/div><div class="label">error rate<\/div>/);
  });

  it('writes the raw window as JSON that parses back with every sample', () => {
    const doc = JSON.parse(reportJson(input)) as {
      title: string;
      window: { from: number; to: number };
      samples: Sample[];
      events: TimelineEvent[];
      scenario: ScenarioStatus;
      versions: Record<string, string>;
    };
    expect(doc.title).toBe('Cache outage');
    expect(doc.window).toEqual({ from: input.from, to: input.to });
    expect(doc.samples).toHaveLength(input.samples.length);
    expect(doc.samples[15]).toEqual(input.samples[15]);
    expect(doc.events).toHaveLength(5);
    expect(doc.scenario.assertions).toHaveLength(3);
    expect(doc.versions.node).toBe(process.version);
  });

  it('writes a sample report for a human to open', () => {
    mkdirSync(dirname(SAMPLE_FILE), { recursive: true });
    writeFileSync(SAMPLE_FILE, html);
    console.log(`report sample written to ${SAMPLE_FILE}`);
  });
});

describe('report edge cases', () => {
  it('renders an empty window without throwing, saying so on every chart', () => {
    const empty: ReportInput = {
      title: 'Nothing',
      generatedAt: FROM,
      from: FROM,
      to: FROM,
      samples: [],
      events: [],
      scenario: null,
      spec: null,
      versions: {},
    };
    const html = renderReport(empty);
    expect(count(html, '<figure class="chart"')).toBe(6);
    expect(count(html, '>no samples in this window</text>')).toBe(6);
    expect(html).not.toMatch(/NaN|Infinity|undefined/);
    expect(html).toContain('No events in this window.');
    expect(html).toContain('No stack spec recorded.');
    expect(JSON.parse(reportJson(empty)).samples).toEqual([]);
  });

  it('draws at most 8 cpu lines: the busiest replicas', () => {
    const samples = makeSamples({ seconds: 20, apiReplicas: [12, 12] });
    // api-12 burns cpu: it must be among the lines drawn.
    for (const s of samples) s.instances.find((i) => i.id === 'api-12')!.cpu = 400;
    const cpu = figure(renderReport({ ...scenarioInput(), samples, to: FROM + 20_000 }), 'cpu');
    expect(count(cpu, '<path class="line"')).toBe(8);
    expect(cpu).toContain('data-series="api-12"');
    expect(cpu).toContain('(the 8 busiest of 12 replicas)');
  });

  it('caps the events table at 2000 rows and says so', () => {
    const events = Array.from({ length: 2100 }, (_, i) => event(i / 100, 'traffic', `event ${i}`));
    const html = renderReport({ ...scenarioInput(), events });
    expect(count(section(html, 'Events'), /<tr><td class="num">/g)).toBe(2000);
    expect(html).toContain('Showing the first 2,000 of 2,100 events');
    expect(JSON.parse(reportJson({ ...scenarioInput(), events })).events).toHaveLength(2100);
  });

  it('refuses a window that ends before it starts', () => {
    expect(() => renderReport(scenarioInput({ from: FROM + 10_000, to: FROM }))).toThrow(ReportInputError);
    expect(() => reportJson(scenarioInput({ to: Number.NaN }))).toThrow(/to must be a time/);
  });

  it('names the file from the title and the local time, with safe characters only', () => {
    expect(reportFileName('Cache outage', FROM)).toBe('scalelab-cache-outage-2026-11-25T04-50-00.html');
    expect(reportFileName('Cache outage', FROM, 'json')).toBe('scalelab-cache-outage-2026-11-25T04-50-00.json');
    expect(reportFileName('ScaleLab report', FROM)).toBe('scalelab-report-2026-11-25T04-50-00.html');
    const hostile = reportFileName('../../etc/passwd <Ünïcödé> "quoted"\u0000', FROM);
    expect(hostile).toMatch(/^[a-zA-Z0-9.-]+$/);
    expect(hostile).toBe('scalelab-etc-passwd-unicode-quoted-2026-11-25T04-50-00.html');
    expect(reportFileName('', FROM)).toBe('scalelab-report-2026-11-25T04-50-00.html');
  });
});

describe('capacity in the report', () => {
  const step = (replicas: number, targetRps: number, verdict: CapacityStep['verdict']): CapacityStep => ({
    replicas,
    phase: 'ramp',
    targetRps,
    offeredRps: targetRps,
    achievedRps: targetRps,
    requests: targetRps * 10,
    p99Ms: 12,
    errorPercent: 0,
    dropped: 0,
    verdict,
    reason: verdict,
    durationS: 10,
    telemetry: null,
    t: 0,
  });
  const result = (replicas: number, capacityRps: number): CapacityResult => ({
    replicas,
    capacityRps,
    outcome: 'found',
    upperRps: capacityRps + 10,
    steps: [step(replicas, capacityRps, 'pass'), step(replicas, capacityRps + 10, 'fail')],
    limit: { resource: 'api-cpu', evidence: `api cpu throttled in 60 % of periods at ${capacityRps + 10} req/s` },
  });
  const results = [result(1, 100), result(2, 190), result(4, 340)];
  const base = scenarioInput();
  const status: CapacityStatus = {
    ...idleStatus({ p99Ms: 50, errorPercent: 0.1 }, 10, [1, 2, 4]),
    state: 'done',
    startedAt: base.from,
    endedAt: base.to,
    results,
    ...curveOf(results),
  };

  it('draws the curve from the lines the panel draws, with the table, the law, and keeps it in the JSON', () => {
    const input = { ...base, capacity: status };
    const html = renderReport(input);
    const sec = /<section class="capacity"><h2>Capacity<\/h2>[\s\S]*?<\/section>/.exec(html)?.[0] ?? '';
    expect(sec).toContain('λ 100 req/s per replica, σ 0.0464 (contention)');
    expect(sec).toMatch(/R² 1\.000/);
    expect(sec).toContain(
      '<tr><td>4</td><td>340 req/s</td><td>85 %</td><td>found</td><td>api cpu: api cpu throttled in 60 % of periods at 350 req/s</td><td>2</td></tr>',
    );
    const lines = curveLines(status.curve, status.fit, status.replicas);
    expect(count(sec, '<circle')).toBe(lines.measured.length);
    expect(sec).toMatch(/<path class="fitted" d="M[\d.]+,[\d.]+( L[\d.]+,[\d.]+){40}"/);
    expect(sec).toMatch(/<path class="ideal" d="M[\d.]+,[\d.]+ L[\d.]+,[\d.]+"/);
    const doc = JSON.parse(reportJson(input)) as { capacity: CapacityStatus };
    expect(doc.capacity.fit!.lambda).toBeCloseTo(status.fit!.lambda, 6);
    expect(doc.capacity.results[2]!.steps).toHaveLength(2);
    // No search in the window: no section.
    expect(renderReport(base)).not.toContain('<h2>Capacity</h2>');
  });

  it('overlays a baseline: its points and law on the same axes, and the change at each count', () => {
    const before = [result(1, 100), result(2, 200), result(4, 400)];
    const then = curveOf(before);
    const baseline = {
      name: 'before-pool',
      savedAt: Date.UTC(2026, 11, 7, 1, 30),
      stack: 'default',
      apiCpu: '100m',
      slo: status.slo,
      stepS: 10,
      curve: then.curve,
      fit: then.fit,
      results: before,
      startedAt: 0,
      endedAt: 1,
    };
    const sec =
      /<section class="capacity">[\s\S]*?<\/section>/.exec(renderReport({ ...base, capacity: { ...status, baseline } }))?.[0] ?? '';
    expect(sec).toContain('Compared with baseline <strong>before-pool</strong>, saved 2026-12-07 01:30 UTC at api 100m');
    expect(sec).toContain('<tr><td>4</td><td>340 req/s</td><td>400 req/s</td><td>−15 %</td><td>85 %</td>');
    expect(count(sec, 'class="baseline-point"')).toBe(3);
    expect(sec).toMatch(/<path class="baseline-fitted" d="M[\d.]+,[\d.]+( L[\d.]+,[\d.]+){40}"/);
    // Both on one scale: the baseline's 400 at 4 replicas sits above the run's 340.
    const cy = (cls: string, i: number) =>
      Number([...sec.matchAll(new RegExp(`<circle class="${cls}" cx="[\\d.]+" cy="([\\d.]+)"`, 'g'))][i]?.[1]);
    const measuredY = [...sec.matchAll(/<circle cx="[\d.]+" cy="([\d.]+)" r="6" fill="#16a34a"/g)].map((m) => Number(m[1]));
    expect(cy('baseline-point', 2)).toBeLessThan(measuredY[2]!);
  });
});
